"""Training data: where a province's tables come from before any model sees them.

Three sources end as the same :class:`~competency_model.province.Province` (the contract lives in
the domain layer, :mod:`competency_model.province`): the simulator (a province with known truth,
:func:`simulate_province`), platform exports (:func:`import_files`, with a row-level report) and
the public validation datasets read in place (:mod:`training_data.datasets`). The shipped sample
catalog is generated here too (:func:`build_catalog`).

Example
-------
>>> from training_data import simulate_province
>>> province = simulate_province(600, 10, seed=0)            # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from competency_model.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from training_data.catalog_builder import build_catalog, catalog_json
    from training_data.datasets import (
        load_ecpe,
        load_frcsub,
        load_movielens_100k,
        shared_datasets_dir,
    )
    from training_data.imports import ImportReport, import_files
    from training_data.simulator import SimulatorConfig, simulate_province

__all__ = [
    "ImportReport",
    "SimulatorConfig",
    "build_catalog",
    "catalog_json",
    "import_files",
    "load_ecpe",
    "load_frcsub",
    "load_movielens_100k",
    "shared_datasets_dir",
    "simulate_province",
]

# name → defining module; imported on first use (PEP 562) so the face costs nothing
_EXPORTS: dict[str, str] = {
    "ImportReport": "training_data.imports",
    "SimulatorConfig": "training_data.simulator",
    "build_catalog": "training_data.catalog_builder",
    "catalog_json": "training_data.catalog_builder",
    "import_files": "training_data.imports",
    "load_ecpe": "training_data.datasets",
    "load_frcsub": "training_data.datasets",
    "load_movielens_100k": "training_data.datasets",
    "shared_datasets_dir": "training_data.datasets",
    "simulate_province": "training_data.simulator",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
