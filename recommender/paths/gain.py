"""How much expected mastery one catalog item adds to one point: the optimiser's coefficients.

The model is deliberately simple and linear so that the selection stays a MILP and every
coefficient can be explained to a teacher: an item spreads ``rate(kind) × hours`` of learning
over its points in proportion to its catalog weights, scaled by how well its level (入门 / 进阶
/ 高阶) suits the teacher's current mastery of that point. Practice earns more per hour than
watching a course because the assessment is on classroom use, not on knowledge. The rates are
configuration (pydantic), not learned: they are defaults chosen so that a 50-学时 plan over three
to five points closes a typical gap of 0.4–0.7 but not more, i.e. the diminishing-returns caps
in the optimiser actually bind.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GainModel"]

_LEVEL_POSITION = {"入门": 0.2, "进阶": 0.5, "高阶": 0.8}


class GainModel(BaseModel):
    """Coefficients of the expected-gain model (per hour, per unit catalog weight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    online_rate: float = Field(default=0.03, gt=0, description="gain per online hour")
    practice_rate: float = Field(default=0.05, gt=0, description="gain per practice hour")
    level_mismatch_penalty: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="fit = 1 - penalty × |level position - mastery|; 高阶 for a novice helps less",
    )
    chosen_point_bonus: float = Field(
        default=1.5, ge=1, description="objective weight multiplier for the school's chosen points"
    )

    def level_fit(self, level: str, mastery: float) -> float:
        """How well an item's level suits a teacher at ``mastery`` (between 1 - penalty and 1)."""
        position = _LEVEL_POSITION.get(level, 0.5)
        return 1.0 - self.level_mismatch_penalty * abs(position - mastery)

    def item_gain(
        self,
        is_practice: bool,
        hours: float,
        level: str,
        weights: Mapping[str, float],
        mastery: Mapping[str, float],
        default_mastery: float = 0.5,
    ) -> dict[str, float]:
        """Expected raw gain of one item on each point it develops."""
        rate = self.practice_rate if is_practice else self.online_rate
        return {
            code: rate * hours * weight * self.level_fit(level, mastery.get(code, default_mastery))
            for code, weight in weights.items()
        }
