"""How much a teacher studied each point: the dose that drives the learning gain."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from training_data.simulator.choices import CatalogArrays
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.events import Enrolments

__all__ = ["study_dose"]


def study_dose(
    courses: Enrolments, tasks: Enrolments, n: int, cfg: SimulatorConfig, arrays: CatalogArrays
) -> NDArray[np.float64]:
    """Effective 学时 per teacher and point: completed in full, dropped partly, practice doubled.

    Each item's hours are scaled by exp(quality_learning_effect · quality), so the courses that
    teachers rate higher also teach more: ratings carry signal about learning, as they should
    for a recommender to exploit.
    """
    course_credit = np.where(
        courses.completed, 1.0, cfg.partial_dose_multiplier * courses.final_progress
    )
    task_credit = cfg.practice_dose_multiplier * np.where(
        tasks.completed, 1.0, cfg.partial_dose_multiplier * tasks.final_progress
    )
    teacher = np.concatenate([courses.teacher, tasks.teacher])
    item = np.concatenate([courses.item, tasks.item])
    effect = np.exp(cfg.quality_learning_effect * arrays.quality[item])
    credit = np.concatenate([course_credit, task_credit]) * arrays.hours[item] * effect
    studied = sparse.csr_matrix((credit, (teacher, item)), shape=(n, arrays.hours.size))
    return np.asarray(studied @ arrays.weights)
