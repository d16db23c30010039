"""The one rule that turns a mastery probability into a decision: 薄弱 / 待提升 / 已掌握.

Every caller that labels a point (learning-path targets, school planning, explanations, the
API) uses :func:`mastery_level`, so a point is never called weak in one place and mastered in
another. The thresholds are probabilities, and they only mean what they say because the
diagnosis is calibrated (ECE <= 0.05 measured in docs/diagnosis.md):

* **薄弱 (gap)** — ``probability < 0.5``: the teacher more likely has *not* mastered the point.
  No text may call a point weak when its mastery probability is 0.5 or more.
* **待提升 (developing)** — ``0.5 <= probability < 0.8``: more likely mastered than not, but
  one in five or more such points is not.
* **已掌握 (mastered)** — ``probability >= 0.8``: at least four in five such points are
  mastered.

The old rule ("mastered only at >= 0.9") flagged 95 % of cells as gaps on a simulated province
where half of them were mastered; 0.9 remains a reasonable *filter* for "do not recommend more of
this", which is a different question.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from competency_model.errors import NengliError

__all__ = [
    "GAP_BELOW",
    "LEVELS",
    "LEVEL_LABELS",
    "MASTERED_FROM",
    "MasteryLevel",
    "is_gap",
    "mastery_level",
    "mastery_levels",
]

MasteryLevel = Literal["gap", "developing", "mastered"]
#: Level codes, weakest first.
LEVELS: tuple[MasteryLevel, ...] = ("gap", "developing", "mastered")
#: Chinese first, English second.
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "gap": ("薄弱", "gap"),
    "developing": ("待提升", "developing"),
    "mastered": ("已掌握", "mastered"),
}
#: Below this probability a point is a gap (薄弱).
GAP_BELOW = 0.5
#: From this probability on a point is mastered (已掌握).
MASTERED_FROM = 0.8


def _check(probability: NDArray[np.float64]) -> None:
    if np.isnan(probability).any() or (probability < 0).any() or (probability > 1).any():
        bad = probability[np.isnan(probability) | (probability < 0) | (probability > 1)][0]
        raise NengliError(f"mastery probability {bad!r} is not in [0, 1]; diagnose again")


def mastery_level(probability: float) -> MasteryLevel:
    """The level of one point: ``"gap"``, ``"developing"`` or ``"mastered"``.

    >>> mastery_level(0.88), mastery_level(0.6), mastery_level(0.3)
    ('mastered', 'developing', 'gap')
    """
    # Plain float comparisons (the same thresholds and error as :func:`mastery_levels`): this
    # runs for every point a reason cites, several times per item shown, on the request path.
    value = float(probability)
    if not 0.0 <= value <= 1.0:  # NaN fails both comparisons
        raise NengliError(
            f"mastery probability {np.float64(value)!r} is not in [0, 1]; diagnose again"
        )
    if value >= MASTERED_FROM:
        return "mastered"
    return "developing" if value >= GAP_BELOW else "gap"


def mastery_levels(probability: ArrayLike) -> NDArray[np.str_]:
    """:func:`mastery_level` for an array of any shape (batch first: a province at once)."""
    values = np.asarray(probability, dtype=np.float64)
    _check(values)
    index = np.searchsorted([GAP_BELOW, MASTERED_FROM], values, side="right")
    return np.asarray(LEVELS)[index]


def is_gap(probability: ArrayLike) -> NDArray[np.bool_]:
    """True where a point is 薄弱 (probability below :data:`GAP_BELOW`)."""
    values = np.asarray(probability, dtype=np.float64)
    _check(values)
    return values < GAP_BELOW
