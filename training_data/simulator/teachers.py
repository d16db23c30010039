"""Teachers of one chunk of schools: stage, subject, years of service, 教研组, and covariates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.catalog import STAGES
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.geography import SCHOOL_TYPES, SUBJECT_SHARES, research_group_name
from training_data.simulator.ids import format_ids
from training_data.simulator.mastery import ICT_SUBJECTS

__all__ = ["SUBJECTS", "TeacherBlock", "fixed_effects", "simulate_teachers"]

#: Every subject taught at some stage, in a fixed order (array codes index into it).
SUBJECTS: tuple[str, ...] = tuple(
    dict.fromkeys(s for stage in STAGES for s in SUBJECT_SHARES[stage][0])
)


@dataclass
class TeacherBlock:
    """Teachers of a chunk as arrays (indices into small vocabularies) plus the table."""

    table: pd.DataFrame
    school_of: NDArray[np.int64]  # chunk-local school index
    stage: NDArray[np.int64]  # index into STAGES
    subject: NDArray[np.int64]  # index into SUBJECTS
    years: NDArray[np.int64]
    group_of: NDArray[np.int64]  # chunk-local (school, research group) index
    n_groups: int


def simulate_teachers(
    schools: pd.DataFrame, first_teacher: int, rng: np.random.Generator, config: SimulatorConfig
) -> TeacherBlock:
    """Draw the teachers of ``schools`` (a slice of the school table), numbered from ``first_teacher``.

    Years of service are gamma-distributed (median ≈ 13), about three years longer in rural
    schools, where fewer young teachers arrive.
    """
    sizes = schools["n_teachers"].to_numpy()
    school_of = np.repeat(np.arange(len(schools)), sizes)
    n = school_of.size
    stage = np.empty(n, dtype=np.int64)
    type_of = schools["school_type"].to_numpy()[school_of]
    for type_name, (_, stage_shares) in SCHOOL_TYPES.items():  # six types, not per teacher
        members = np.flatnonzero(type_of == type_name)
        names = list(stage_shares)
        shares = np.array([stage_shares[s] for s in names])
        picked = rng.choice(len(names), members.size, p=shares / shares.sum())
        stage[members] = np.array([STAGES.index(s) for s in names])[picked]
    subject = np.empty(n, dtype=np.int64)
    for stage_index, stage_name in enumerate(STAGES):
        members = np.flatnonzero(stage == stage_index)
        subject_names, subject_shares = SUBJECT_SHARES[stage_name]
        picked = rng.choice(len(subject_names), members.size, p=np.asarray(subject_shares))
        subject[members] = np.array([SUBJECTS.index(s) for s in subject_names])[picked]
    rural = (schools["urban_rural"].to_numpy() == "rural")[school_of]
    years = np.clip(np.round(rng.gamma(2.2, 6.5, n) + 3 * rural * rng.random(n)), 1, 40).astype(
        np.int64
    )
    group_names = np.array(
        [[research_group_name(st, su) for su in SUBJECTS] for st in STAGES], dtype=object
    )
    group_label = group_names[stage, subject]
    key = school_of * (len(STAGES) * len(SUBJECTS)) + stage * len(SUBJECTS) + subject
    _, group_of = np.unique(key, return_inverse=True)
    table = pd.DataFrame(
        {
            "teacher_id": format_ids("T", np.arange(first_teacher, first_teacher + n), 7),
            "school_id": schools["school_id"].to_numpy()[school_of],
            "stage": np.array(STAGES, dtype=object)[stage],
            "subject": np.array(SUBJECTS, dtype=object)[subject],
            "years_of_service": years,
            "research_group": group_label,
        }
    )
    return TeacherBlock(
        table,
        school_of,
        stage,
        subject,
        years,
        group_of.astype(np.int64),
        int(group_of.max()) + 1 if n else 0,
    )


def fixed_effects(
    block: TeacherBlock,
    schools: pd.DataFrame,
    point_env: NDArray[np.int64],
    config: SimulatorConfig,
) -> NDArray[np.float64]:
    """Covariate part of θ (teachers × points): school environment, urban, stage, years, ICT subject."""
    env_index = {e: i for i, e in enumerate(config.environments)}
    school_env = schools["environment"].map(env_index).to_numpy()[block.school_of]
    env_table = np.array([config.school_environment_effect[e] for e in config.environments])
    stage_table = np.array([config.stage_effect[s] for s in STAGES])
    urban = (schools["urban_rural"].to_numpy() == "urban")[block.school_of]
    ict = np.isin(np.array(SUBJECTS, dtype=object)[block.subject], list(ICT_SUBJECTS))
    years = (block.years - 15) / 10.0
    return (
        env_table[school_env][:, point_env]
        + stage_table[block.stage][:, point_env]
        + np.asarray(config.years_effect)[point_env][None, :] * years[:, None]
        + config.urban_effect * urban[:, None]
        + config.ict_subject_effect * ict[:, None]
    )
