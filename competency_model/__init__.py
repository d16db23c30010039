"""The competency model: the 30 points, their graph, regional policies and the data contracts.

Lowest layer of nengli (stdlib + pydantic + networkx + numpy + pandas); nothing here imports the
other packages. Besides the framework it holds the two contracts every layer consumes: the course
and task :class:`Catalog` and the :class:`Province` (the tables a model learns from). Public names are re-exported here so callers write ``from competency_model import …``.
"""

from competency_model.catalog import (
    Catalog,
    CatalogItem,
    Kind,
    default_catalog,
    load_catalog,
)
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
    default_framework,
    normalize_environment,
)
from competency_model.framework_files import active_framework, load_framework
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
from competency_model.province import Province, ProvinceTables, read_province, write_province

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
    "Catalog",
    "CatalogItem",
    "CompetencyGraph",
    "Edge",
    "Framework",
    "FrameworkError",
    "Kind",
    "NengliError",
    "Overlay",
    "Plan",
    "PlanItem",
    "PlanTotals",
    "Point",
    "Policy",
    "PolicyError",
    "Provenance",
    "Province",
    "ProvinceTables",
    "RatingRule",
    "Verification",
    "Violation",
    "active_framework",
    "apply_overlay",
    "available_policies",
    "compute_totals",
    "default_catalog",
    "default_framework",
    "load_catalog",
    "load_framework",
    "load_policy",
    "normalize_environment",
    "read_province",
    "required_evidence",
    "validate_plan",
    "validate_selection",
    "write_province",
]
