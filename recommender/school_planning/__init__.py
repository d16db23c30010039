"""School-level planning: 一校一策 plans, digital portraits, progress and pairing (结对帮扶)."""

from recommender.school_planning.export import to_markdown, write_xlsx
from recommender.school_planning.mastery import attach_teachers, mastery_matrix
from recommender.school_planning.plan import SchoolPlan, plan_school, plan_schools, point_need

__all__ = [
    "SchoolPlan",
    "attach_teachers",
    "mastery_matrix",
    "plan_school",
    "plan_schools",
    "point_need",
    "to_markdown",
    "write_xlsx",
]
