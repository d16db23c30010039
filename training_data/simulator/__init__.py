"""Province simulator with known ground truth (see ``docs/simulator.md``).

>>> from training_data.simulator import simulate_province
>>> province = simulate_province(n_teachers=300, n_schools=4, seed=7)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from competency_model.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from training_data.simulator.config import SimulatorConfig
    from training_data.simulator.engine import iter_chunks, prepare, simulate_province

__all__ = ["SimulatorConfig", "iter_chunks", "prepare", "simulate_province"]

# name → defining module; imported on first use (PEP 562) so the face costs nothing
_EXPORTS: dict[str, str] = {
    "SimulatorConfig": "training_data.simulator.config",
    "iter_chunks": "training_data.simulator.engine",
    "prepare": "training_data.simulator.engine",
    "simulate_province": "training_data.simulator.engine",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
