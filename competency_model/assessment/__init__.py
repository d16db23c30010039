"""School-based assessment (校本应用考核): evidence, reviews, peer assignment, process, portfolios.

Pure domain logic over plain records — no database, no HTTP — so the service, the CLI and
provincial imports share one implementation of the rules:

* :mod:`.evidence` — evidence metadata checked against the framework's artifacts;
* :mod:`.review` — self / peer / school ratings and the point result (framework rating rule);
* :mod:`.peer_assignment` — fair, balanced, seeded peer-reviewer assignment within a school;
* :mod:`.process` — 学时 by kind from learning events and the cycle status against a policy;
* :mod:`.portfolio` and :mod:`.export` — the 电子档案 and its JSON / HTML / XLSX exports.
"""

from competency_model.assessment.evidence import (
    MEDIA,
    EvidenceItem,
    EvidenceRecord,
    EvidenceReport,
    check_item,
    check_submission,
    is_recording_only,
)
from competency_model.assessment.export import (
    portfolio_html,
    portfolio_json,
    portfolio_xlsx,
    school_export,
)
from competency_model.assessment.peer_assignment import Colleague, PeerAssignment, assign_peers
from competency_model.assessment.portfolio import (
    AssessmentRound,
    DiagnosisEntry,
    GradeEntry,
    LearningEntry,
    Portfolio,
    TeacherProfile,
    build_portfolio,
)
from competency_model.assessment.process import (
    CreditedItem,
    CycleStatus,
    LearningEvent,
    ProcessRecord,
    cycle_end,
    cycle_status,
    learning_hours,
)
from competency_model.assessment.review import (
    ROLES,
    ItemReview,
    PointReview,
    Review,
    SchoolRating,
    check_review,
    peer_consensus,
    summarize_item,
    summarize_point,
)

__all__ = [
    "MEDIA",
    "ROLES",
    "AssessmentRound",
    "Colleague",
    "CreditedItem",
    "CycleStatus",
    "DiagnosisEntry",
    "EvidenceItem",
    "EvidenceRecord",
    "EvidenceReport",
    "GradeEntry",
    "ItemReview",
    "LearningEntry",
    "LearningEvent",
    "PeerAssignment",
    "PointReview",
    "Portfolio",
    "ProcessRecord",
    "Review",
    "SchoolRating",
    "TeacherProfile",
    "assign_peers",
    "build_portfolio",
    "check_item",
    "check_review",
    "check_submission",
    "cycle_end",
    "cycle_status",
    "is_recording_only",
    "learning_hours",
    "peer_consensus",
    "portfolio_html",
    "portfolio_json",
    "portfolio_xlsx",
    "school_export",
    "summarize_item",
    "summarize_point",
]
