"""Province simulator with known ground truth (see ``docs/simulator.md``).

>>> from training_data.simulator import simulate_province
>>> province = simulate_province(n_teachers=300, n_schools=4, seed=7)   # doctest: +SKIP
"""

from training_data.simulator.config import SimulatorConfig
from training_data.simulator.engine import iter_chunks, prepare, simulate_province

__all__ = ["SimulatorConfig", "iter_chunks", "prepare", "simulate_province"]
