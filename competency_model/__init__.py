"""The competency model: the 30 micro-competency points, their graph and regional policies.

Lowest layer of nengli (stdlib + pydantic + networkx + numpy); nothing here imports the other
packages. Public names are re-exported here so callers write ``from competency_model import …``.
"""

from competency_model.errors import FrameworkError, NengliError, PolicyError
from competency_model.framework import (
    DIMENSION_LABELS_EN,
    DIMENSION_LABELS_ZH,
    DIMENSIONS,
    EDGE_KINDS,
    ENVIRONMENT_LABELS_EN,
    ENVIRONMENT_LABELS_ZH,
    ENVIRONMENT_LETTERS,
    ENVIRONMENTS,
    RATINGS,
    VERIFICATION_LABELS,
    Artifact,
    Edge,
    Framework,
    Point,
    RatingRule,
    Verification,
    active_framework,
    default_framework,
    load_framework,
    normalize_environment,
)
from competency_model.graph import DEFAULT_GATING, CompetencyGraph
from competency_model.overlay import Overlay, apply_overlay
from competency_model.plan import (
    Plan,
    PlanItem,
    PlanTotals,
    Violation,
    compute_totals,
    required_evidence,
)
from competency_model.policy import (
    Policy,
    Provenance,
    available_policies,
    load_policy,
    validate_plan,
    validate_selection,
)

__all__ = [
    "DEFAULT_GATING",
    "DIMENSIONS",
    "DIMENSION_LABELS_EN",
    "DIMENSION_LABELS_ZH",
    "EDGE_KINDS",
    "ENVIRONMENTS",
    "ENVIRONMENT_LABELS_EN",
    "ENVIRONMENT_LABELS_ZH",
    "ENVIRONMENT_LETTERS",
    "RATINGS",
    "VERIFICATION_LABELS",
    "Artifact",
    "CompetencyGraph",
    "Edge",
    "Framework",
    "FrameworkError",
    "NengliError",
    "Overlay",
    "Plan",
    "PlanItem",
    "PlanTotals",
    "Point",
    "Policy",
    "PolicyError",
    "Provenance",
    "RatingRule",
    "Verification",
    "Violation",
    "active_framework",
    "apply_overlay",
    "available_policies",
    "compute_totals",
    "default_framework",
    "load_framework",
    "load_policy",
    "normalize_environment",
    "required_evidence",
    "validate_plan",
    "validate_selection",
]
