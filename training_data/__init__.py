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
