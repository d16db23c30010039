"""Parameters of the generative model, with the values documented in ``docs/simulator.md``.

All effects on the latent ability are in units of the ability's standard deviation within a
school (the teacher-level noise has unit variance per point). Changing a value here changes the
simulated province; the defaults were chosen so that A points are mastered by roughly two thirds
of teachers before training, B points by about a third and C points by fewer than one in five.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from training_data.simulator.family_names import FAMILIES

__all__ = ["FAMILIES", "SimulatorConfig"]

_ENV = ("multimedia", "blended", "smart")


class SimulatorConfig(BaseModel):
    """Every tunable number of the province simulator (see ``docs/simulator.md``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: generative assumptions: one of :data:`FAMILIES`
    family: str = "graph"

    # --- province and schools -------------------------------------------------------------
    region: str = "江苏"
    min_school_size: int = 20
    max_school_size: int = 300
    #: log-normal school size before rescaling to the requested total (median ≈ e^4.3 ≈ 74)
    school_size_log_mean: float = 4.3
    school_size_log_sd: float = 0.7
    #: P(environment | urban) and P(environment | rural), order multimedia/blended/smart,
    #: before the city-development tilt
    environment_probs_urban: tuple[float, float, float] = (0.30, 0.42, 0.28)
    environment_probs_rural: tuple[float, float, float] = (0.68, 0.27, 0.05)
    #: Jiangsu's 20% / 40% / 40% rollout over three years
    rollout_shares: tuple[float, float, float] = (0.2, 0.4, 0.4)
    cycle_start: str = "2020-09-01"
    #: 整校推进: a school picks 3–5 points
    school_points_min: int = 3
    school_points_max: int = 5

    # --- latent ability -----------------------------------------------------------------
    #: share of variance from one general ICT factor shared by all 30 points
    general_factor_share: float = 0.35
    #: ridge added to the graph Laplacian before inverting (smaller = stronger graph coupling)
    laplacian_ridge: float = 0.6
    school_effect_sd: float = 0.35
    research_group_effect_sd: float = 0.15
    #: baseline difficulty of a point by its environment (A, B, C) and per-point jitter
    difficulty_by_environment: tuple[float, float, float] = (-0.45, 0.45, 1.05)
    difficulty_jitter_sd: float = 0.2
    #: effect[school environment][point environment]
    school_environment_effect: dict[str, tuple[float, float, float]] = Field(
        default_factory=lambda: {
            "multimedia": (0.0, -0.35, -0.75),
            "blended": (0.1, 0.25, -0.2),
            "smart": (0.2, 0.45, 0.6),
        }
    )
    urban_effect: float = 0.2
    #: per 10 years of service, by point environment (A, B, C): experience helps classroom
    #: practice slightly, hurts newer technology
    years_effect: tuple[float, float, float] = (0.08, -0.15, -0.28)
    #: extra for teachers of 信息科技/信息技术/计算机应用
    ict_subject_effect: float = 0.6
    #: stage effects by point environment (A, B, C)
    stage_effect: dict[str, tuple[float, float, float]] = Field(
        default_factory=lambda: {
            "幼儿园": (-0.1, -0.2, -0.4),
            "小学": (0.0, 0.0, 0.0),
            "初中": (0.0, 0.05, 0.05),
            "高中": (0.0, 0.05, 0.1),
            "中职": (-0.05, 0.15, 0.05),
        }
    )

    # --- questionnaire ------------------------------------------------------------------
    guess_beta: tuple[float, float] = (5.0, 15.0)
    slip_beta: tuple[float, float] = (3.0, 17.0)
    #: self-rating over-confidence: mean and SD of a teacher's shift on the latent scale
    overconfidence_mean: float = 0.4
    overconfidence_sd: float = 0.5
    self_rating_discrimination_log_sd: float = 0.25
    #: share of teachers who never answer the questionnaire; the rest skip items at a
    #: teacher-specific rate with this Beta prior
    non_respondent_share: float = 0.03
    skip_beta: tuple[float, float] = (1.0, 30.0)

    # --- point selection and courses ----------------------------------------------------
    #: probability of a personal extra point outside the school's list
    extra_point_probability: float = 0.25
    online_hours_target: float = 25.0
    disengaged_share: float = 0.08
    max_courses: int = 16
    early_adopter_share: float = 0.3
    weight_need: float = 2.0
    weight_stage_mismatch: float = -3.0
    weight_subject_match: float = 0.6
    weight_subject_mismatch: float = -1.5
    weight_popularity: float = 0.5
    weight_level: float = 0.6
    weight_school_recommended: float = 1.0
    weight_peer_group: float = 2.0
    weight_peer_school: float = 1.0
    completion_intercept: float = 1.0
    completion_per_hour: float = -0.12
    task_completion_intercept: float = 1.6
    rating_probability: float = 0.45

    # --- learning and assessment --------------------------------------------------------
    #: Δability = gain_max · (1 − exp(−dose / gain_scale_hours)) · learning rate
    gain_max: float = 1.4
    gain_scale_hours: float = 6.0
    practice_dose_multiplier: float = 2.0
    partial_dose_multiplier: float = 0.5
    #: hours of an item count exp(effect · quality) times (quality ~ N(0, 0.5²))
    quality_learning_effect: float = 0.4
    neighbour_transfer: float = 0.15
    grade_noise_sd: float = 0.5
    school_leniency_sd: float = 0.3
    #: score thresholds: below the first 不合格, above the second 优秀
    grade_thresholds: tuple[float, float] = (-0.6, 1.2)

    # --- families (used only by the family named) ---------------------------------------
    #: latent: number of latent skills and the share of a point's variance that is its own
    latent_rank: int = Field(default=3, ge=1)
    latent_uniqueness: float = Field(default=0.25, ge=0.0, le=1.0)
    #: mandate: courses each school mandates, their utility, and weights that replace
    #: weight_need / weight_peer_group / weight_peer_school
    mandate_courses: int = Field(default=8, ge=1)
    mandate_weight: float = 6.0
    mandate_need_weight: float = 0.5
    mandate_peer_group_weight: float = 4.0
    mandate_peer_school_weight: float = 2.0
    mandate_completion_boost: float = 1.5
    #: quality: utility and completion-logit effect of hidden quality, and the position bias
    #: (utility −position_bias·log2(2 + list position / 10))
    quality_choice_weight: float = 2.0
    quality_completion_weight: float = 1.5
    position_bias: float = 1.0
    #: in_progress: teachers enrol in this multiple of their target 学时 and leave courses
    #: 学习中 once the target is completed; the export is taken on export_day
    over_enrolment: float = Field(default=2.0, ge=1.0)
    #: in_progress: export day after cycle_start (batch-3 schools start on day 730–760)
    export_day: float = Field(default=790.0, gt=0.0)

    # --- engineering --------------------------------------------------------------------
    #: teachers per chunk; chunks are whole schools, so memory is bounded by this size
    chunk_teachers: int = 20_000

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value not in FAMILIES:
            raise ValueError(
                f"未知的模拟器族 unknown simulator family {value!r}; "
                f"choose one of {', '.join(FAMILIES)}"
            )
        return value

    @property
    def environments(self) -> tuple[str, str, str]:
        """The environment order used by every tuple above."""
        return _ENV
