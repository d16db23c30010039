"""A simulated country: several provinces from the simulator, with ids made unique across them.

The simulator numbers schools, teachers and events from 1 in every province; a national batch
needs them distinct, so each province's ids get its two-digit index as a prefix
(``P03T0000001``). Used by the batch tests, ``bench/bench_batch.py`` and docs/scale.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from competency_model.province import Province

__all__ = ["simulate_country"]

_ID_COLUMNS = ("school_id", "teacher_id", "event_id")


def simulate_country(regions: Sequence[str], teachers: int, schools: int, seed: int) -> Province:
    """One province of ``teachers`` teachers in ``schools`` schools per region, concatenated.

    Province ``i`` is simulated with seed ``seed + i``, so the country is reproducible and the
    provinces differ.
    """
    from training_data.simulator import simulate_province
    from training_data.simulator.config import SimulatorConfig

    parts: dict[str, list[pd.DataFrame]] = {
        name: [] for name in ("schools", "teachers", "responses", "grades", "events")
    }
    for index, region in enumerate(regions):
        province = simulate_province(
            teachers, schools, seed=seed + index, config=SimulatorConfig(region=region)
        )
        prefix = f"P{index:02d}"
        for name, frames in parts.items():
            frame = getattr(province, name).copy()
            for column in _ID_COLUMNS:
                if column in frame.columns:
                    frame[column] = prefix + frame[column].astype(str)
            frames.append(frame)
    return Province(
        **{name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    )
