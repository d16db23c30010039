"""The simulator's own course propensities: what drives each teacher's choices, without the noise.

A simulated teacher enrols in the online courses with the highest utility ``U = V + Gumbel``
(``training_data.simulator.choices``) and completes each with probability σ(completion logit).
:class:`ChoiceTruth` keeps the systematic part ``V`` (need, fit, popularity or the ``quality``
family's hidden quality and list position, the school's recommendation or mandate, peers) and the
completion probability for every teacher × online course. Nothing observable carries them, which
is the point: ranking by them is an *oracle* that bounds what any recommender can reach on a
simulated province (``recommender.evaluation.oracle``). Memory is teachers × courses, so the
engine builds it only on request (:func:`~training_data.simulator.engine.simulate_province_with_choice_truth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from training_data.simulator.choices import CourseChoices
from training_data.simulator.config import SimulatorConfig

__all__ = ["ChoiceTruth", "course_completion_logit"]


def course_completion_logit(
    conscientiousness: NDArray[np.float64],
    need: NDArray[np.float64],
    item: NDArray[np.int64],
    hours: NDArray[np.float64],
    item_completion: NDArray[np.float64] | None,
    mandated: NDArray[np.bool_] | None,
    config: SimulatorConfig,
) -> NDArray[np.float64]:
    """Logit of finishing a course once enrolled; the arguments broadcast against each other.

    One formula for the engine's draws (one entry per enrolment) and for the oracle's matrix
    (teachers × courses), so the two cannot drift apart.

    Parameters
    ----------
    conscientiousness
        Per teacher (a column ``[:, None]`` for a matrix).
    need
        The need term of the utility, per enrolment or teacher × course.
    item
        Catalog rows of the courses (a row ``[None, :]`` for a matrix).
    hours
        学时 of every catalog item.
    item_completion
        The family's per-item completion effect (``quality``), or ``None``.
    mandated
        Whether the teacher's school mandates the course (``mandate``), or ``None``.
    """
    logit = (
        config.completion_intercept
        + conscientiousness
        + 0.5 * need
        + config.completion_per_hour * (hours[item] - 3.0)
    )
    if item_completion is not None:
        logit = logit + item_completion[item]
    if mandated is not None:
        logit = logit + config.mandate_completion_boost * mandated
    return np.asarray(logit, dtype=np.float64)


@dataclass(frozen=True)
class ChoiceTruth:
    """Per teacher × online course: systematic utility and completion probability.

    Attributes
    ----------
    teacher_ids
        Row order (the province's ``teachers`` order).
    item_ids
        Column order: the online courses teachers choose from, in catalog order.
    systematic_utility
        ``V``: the utility without its Gumbel noise; ``-inf`` where the school cannot host the
        course. Under Gumbel noise the next course a teacher takes among those she has not is
        ``c`` with probability ∝ exp(V_c), whatever she took before.
    completion_probability
        σ(completion logit) of the course once enrolled.
    target_hours
        Per teacher, the 学时 she enrols in (the ``in_progress`` family's over-enrolment
        included): courses are taken best first while the hours before them are below it.
    course_hours
        学时 of each column.
    max_courses
        The most courses any teacher enrols in.
    """

    teacher_ids: NDArray[np.str_]
    item_ids: NDArray[np.str_]
    systematic_utility: NDArray[np.float64]
    completion_probability: NDArray[np.float64]
    target_hours: NDArray[np.float64]
    course_hours: NDArray[np.float64]
    max_courses: int

    @classmethod
    def from_choices(
        cls,
        teacher_ids: NDArray[np.str_],
        catalog_item_ids: NDArray[np.str_],
        choices: CourseChoices,
        conscientiousness: NDArray[np.float64],
        hours: NDArray[np.float64],
        item_completion: NDArray[np.float64] | None,
        mandated: NDArray[np.bool_] | None,
        config: SimulatorConfig,
    ) -> ChoiceTruth:
        """One chunk's truth from its :class:`CourseChoices` (``mandated``: teachers × catalog)."""
        columns = choices.columns
        logit = course_completion_logit(
            conscientiousness[:, None],
            choices.need_matrix,
            columns[None, :],
            hours,
            item_completion,
            None if mandated is None else mandated[:, columns],
            config,
        )
        return cls(
            teacher_ids=teacher_ids,
            item_ids=catalog_item_ids[columns],
            systematic_utility=choices.systematic_utility,
            completion_probability=1.0 / (1.0 + np.exp(-logit)),
            target_hours=choices.target_hours,
            course_hours=hours[columns],
            max_courses=config.max_courses,
        )

    @classmethod
    def concat(cls, parts: list[ChoiceTruth]) -> ChoiceTruth:
        """The chunks of one province stacked (they share the course columns)."""
        if not parts:
            raise ValueError("ChoiceTruth.concat needs at least one chunk")
        return cls(
            teacher_ids=np.concatenate([p.teacher_ids for p in parts]),
            item_ids=parts[0].item_ids,
            systematic_utility=np.vstack([p.systematic_utility for p in parts]),
            completion_probability=np.vstack([p.completion_probability for p in parts]),
            target_hours=np.concatenate([p.target_hours for p in parts]),
            course_hours=parts[0].course_hours,
            max_courses=parts[0].max_courses,
        )
