"""The competency model: the 30 points, their graph, regional policies and the data contracts.

Lowest layer of nengli (stdlib + pydantic + networkx + numpy + pandas); nothing here imports the
other packages. Besides the framework it holds the two contracts every layer consumes: the course
and task :class:`Catalog` and the :class:`Province` (the tables a model learns from). Public
names are re-exported here so callers write ``from competency_model import …``; they are
imported on first use (:mod:`competency_model.lazy_exports`), so importing one light module such
as ``competency_model.errors`` does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from competency_model.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

# name → defining module; imported on first use (PEP 562) so the face costs nothing
_EXPORTS: dict[str, str] = {
    "DEFAULT_GATING": "competency_model.graph",
    "DIMENSIONS": "competency_model.framework",
    "DIMENSION_LABELS_EN": "competency_model.framework",
    "DIMENSION_LABELS_ZH": "competency_model.framework",
    "EDGE_KINDS": "competency_model.framework",
    "ENVIRONMENTS": "competency_model.framework",
    "ENVIRONMENT_LABELS_EN": "competency_model.framework",
    "ENVIRONMENT_LABELS_ZH": "competency_model.framework",
    "ENVIRONMENT_LETTERS": "competency_model.framework",
    "RATINGS": "competency_model.framework",
    "VERIFICATION_LABELS": "competency_model.framework",
    "Artifact": "competency_model.framework",
    "Catalog": "competency_model.catalog",
    "CatalogItem": "competency_model.catalog",
    "CompetencyGraph": "competency_model.graph",
    "Edge": "competency_model.framework",
    "Framework": "competency_model.framework",
    "FrameworkError": "competency_model.errors",
    "Kind": "competency_model.catalog",
    "NengliError": "competency_model.errors",
    "Overlay": "competency_model.overlay",
    "Plan": "competency_model.plan",
    "PlanItem": "competency_model.plan",
    "PlanTotals": "competency_model.plan",
    "Point": "competency_model.framework",
    "Policy": "competency_model.policy",
    "PolicyError": "competency_model.errors",
    "Provenance": "competency_model.policy",
    "Province": "competency_model.province",
    "ProvinceTables": "competency_model.province",
    "RatingRule": "competency_model.framework",
    "Verification": "competency_model.framework",
    "Violation": "competency_model.plan",
    "active_framework": "competency_model.framework_files",
    "apply_overlay": "competency_model.overlay",
    "available_policies": "competency_model.policy",
    "compute_totals": "competency_model.plan",
    "default_catalog": "competency_model.catalog",
    "default_framework": "competency_model.framework",
    "load_catalog": "competency_model.catalog",
    "load_framework": "competency_model.framework_files",
    "load_policy": "competency_model.policy",
    "normalize_environment": "competency_model.framework",
    "read_province": "competency_model.province",
    "required_evidence": "competency_model.plan",
    "validate_plan": "competency_model.policy",
    "validate_selection": "competency_model.policy",
    "write_province": "competency_model.province",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
