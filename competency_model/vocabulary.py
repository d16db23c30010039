"""The fixed vocabulary of the framework: environments, dimensions, edge kinds and ratings.

Kept apart from the schema so that low-level helpers (importers, the catalog) can normalise a
label without loading any framework. Everything here is re-exported by
:mod:`competency_model.framework`.
"""

from __future__ import annotations

from typing import Literal

from competency_model.errors import FrameworkError

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS_EN",
    "DIMENSION_LABELS_ZH",
    "EDGE_KINDS",
    "ENVIRONMENTS",
    "ENVIRONMENT_LABELS_EN",
    "ENVIRONMENT_LABELS_ZH",
    "ENVIRONMENT_LETTERS",
    "ORDERING_KINDS",
    "RATINGS",
    "VERIFICATION_LABELS",
    "Dimension",
    "EdgeKind",
    "Environment",
    "VerificationStatus",
    "normalize_environment",
]

ENVIRONMENTS: tuple[str, ...] = ("multimedia", "blended", "smart")
ENVIRONMENT_LETTERS: dict[str, str] = {"multimedia": "A", "blended": "B", "smart": "C"}
ENVIRONMENT_LABELS_ZH: dict[str, str] = {
    "multimedia": "多媒体教学环境",
    "blended": "混合式学习环境",
    "smart": "智慧学习环境",
}
ENVIRONMENT_LABELS_EN: dict[str, str] = {
    "multimedia": "multimedia teaching environment",
    "blended": "blended learning environment",
    "smart": "smart learning environment",
}
DIMENSIONS: tuple[str, ...] = (
    "learner_analysis",
    "instructional_design",
    "learning_guidance",
    "assessment",
)
DIMENSION_LABELS_ZH: dict[str, str] = {
    "learner_analysis": "学情分析",
    "instructional_design": "教学设计",
    "learning_guidance": "学法指导",
    "assessment": "学业评价",
}
DIMENSION_LABELS_EN: dict[str, str] = {
    "learner_analysis": "learner analysis",
    "instructional_design": "instructional design",
    "learning_guidance": "learning guidance",
    "assessment": "assessment",
}
EDGE_KINDS: tuple[str, ...] = ("progression", "prerequisite", "related")
#: Edge kinds that impose a learning order ("do the source first"); these must be acyclic.
ORDERING_KINDS: tuple[str, ...] = ("prerequisite", "progression")
RATINGS: tuple[str, ...] = ("优秀", "合格", "不合格")
#: How each verification status is shown to people, so an unverified name never looks official.
VERIFICATION_LABELS: dict[str, str] = {
    "verified": "已核实/verified",
    "weakly_verified": "弱核实/weakly verified",
    "unverified": "未核实/unverified",
}
Environment = Literal["multimedia", "blended", "smart"]
Dimension = Literal["learner_analysis", "instructional_design", "learning_guidance", "assessment"]
EdgeKind = Literal["progression", "prerequisite", "related"]
VerificationStatus = Literal["verified", "weakly_verified", "unverified"]


def normalize_environment(value: str) -> str:
    """Return the canonical environment code for a code, letter or Chinese label.

    Accepts ``"multimedia"``, ``"A"``, ``"多媒体教学环境"`` (and the 混合学习环境 spelling) so that
    imported platform data and CLI input need no pre-processing.

    Raises
    ------
    FrameworkError
        If the value names no environment.
    """
    text = str(value).strip()
    if text in ENVIRONMENTS:
        return text
    for code, letter in ENVIRONMENT_LETTERS.items():
        if text.upper() == letter or text == ENVIRONMENT_LABELS_ZH[code]:
            return code
    if text == "混合学习环境":
        return "blended"
    raise FrameworkError(
        f"unknown environment {value!r}; use one of {', '.join(ENVIRONMENTS)} "
        "(or A/B/C, or the Chinese label)",
        details={"value": value},
    )
