"""Regional policies (hour rules, point selection, environment gating) and the checks against them.

Provinces differ (Jiangsu: 50 学时 with ≥25 practice and ≥25 online video; Chongqing: 50 学时 per
5-year cycle with ≥50 % practice), so every rule is configuration read from a policy file, and each
field records in ``provenance`` whether it is ``official`` (stated by a cited source), ``derived``
(computed from official figures) or a ``default`` chosen by nengli because no source pins it down.

The validators never answer with a bare boolean: they return every :class:`Violation` with the
rule, what was expected, what was found, and a message in Chinese and English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from competency_model.errors import PolicyError, first_validation_problem
from competency_model.framework import (
    ENVIRONMENTS,
    Framework,
    default_framework,
    normalize_environment,
)
from competency_model.plan import Plan, Violation
from competency_model.policy_checks import KNOWN_KINDS, check_plan, check_selection

__all__ = [
    "POLICY_DIR",
    "RULE_FIELDS",
    "Policy",
    "Provenance",
    "RolloutStep",
    "Violation",
    "available_policies",
    "load_policy",
    "validate_plan",
    "validate_selection",
]

POLICY_DIR = Path(__file__).parent / "data" / "policies"
#: Fields that are rules and therefore must say where they come from.
RULE_FIELDS: tuple[str, ...] = (
    "total_hours",
    "min_practice_hours",
    "min_practice_share",
    "min_online_hours",
    "cycle_years",
    "rollout",
    "min_points",
    "min_dimensions",
    "max_weekly_hours",
    "environment_gating",
    "online_kinds",
    "practice_kinds",
    "cycle_credit_required",
)


class Provenance(BaseModel):
    """Where a policy value comes from; ``default`` means no cited source pins it down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["official", "derived", "default"]
    sources: list[str] = Field(default_factory=list)
    note: str = ""
    #: the source's own sentence, quoted (「…」), and where in the source it stands (§三(六))
    quote: str = ""
    section: str = ""


class RolloutStep(BaseModel):
    """Share of schools that start the programme in a given year (整校推进 batches)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=2000, le=2100)
    share: float = Field(gt=0.0, le=1.0)


class Policy(BaseModel):
    """One region's rules for a training cycle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    label_zh: str
    label_en: str
    total_hours: float = Field(gt=0)
    min_practice_hours: float = Field(default=0.0, ge=0)
    min_practice_share: float = Field(default=0.0, ge=0.0, le=1.0)
    min_online_hours: float = Field(default=0.0, ge=0)
    cycle_years: int = Field(ge=1, le=10)
    rollout: list[RolloutStep] = Field(default_factory=list)
    min_points: int = Field(default=3, ge=1)
    min_dimensions: int = Field(default=3, ge=1, le=4)
    max_weekly_hours: float = Field(default=6.0, gt=0)
    environment_gating: dict[str, list[str]]
    online_kinds: list[str] = Field(default_factory=lambda: ["online_video", "live"])
    practice_kinds: list[str] = Field(default_factory=lambda: ["practice", "school_research"])
    #: the programme is a required module of the teacher's credit cycle: a teacher whose cycle
    #: ends short of the hours fails the cycle's credit review (Chongqing §三(一))
    cycle_credit_required: bool = False
    provenance: dict[str, Provenance]
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Policy:
        if self.min_practice_hours + self.min_online_hours > self.total_hours + 1e-9:
            raise ValueError(
                f"min_practice_hours ({self.min_practice_hours}) + min_online_hours "
                f"({self.min_online_hours}) exceed total_hours ({self.total_hours})"
            )
        for env, allowed in self.environment_gating.items():
            if env not in ENVIRONMENTS or any(a not in ENVIRONMENTS for a in allowed):
                raise ValueError(
                    f"environment_gating[{env!r}] = {allowed}: environments must be among "
                    f"{', '.join(ENVIRONMENTS)}"
                )
        missing_env = [e for e in ENVIRONMENTS if e not in self.environment_gating]
        if missing_env:
            raise ValueError(f"environment_gating lacks {missing_env}")
        if set(self.online_kinds) & set(self.practice_kinds):
            raise ValueError("a kind cannot be both online and practice")
        unknown_kinds = [k for k in self.online_kinds + self.practice_kinds if k not in KNOWN_KINDS]
        if unknown_kinds:
            raise ValueError(
                f"unknown item kind(s) {unknown_kinds}; use among {', '.join(KNOWN_KINDS)}"
            )
        if self.rollout and abs(sum(s.share for s in self.rollout) - 1.0) > 1e-6:
            raise ValueError("rollout shares must add up to 1")
        missing = [f for f in RULE_FIELDS if f not in self.provenance]
        if missing:
            raise ValueError(
                f"provenance missing for {missing}; mark each as official, derived or default"
            )
        unknown = [f for f in self.provenance if f not in type(self).model_fields]
        if unknown:
            raise ValueError(f"provenance names unknown fields {unknown}")
        return self

    def is_official(self, field: str) -> bool:
        """True only when a cited source states this field's value."""
        entry = self.provenance.get(field)
        return entry is not None and entry.status == "official"


def available_policies() -> list[str]:
    """Names of the shipped policies (``national``, ``jiangsu``, ``chongqing``, …), sorted."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.json"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"policy file {str(path)!r} does not exist") from None
    except json.JSONDecodeError as error:
        raise PolicyError(
            f"policy file {str(path)!r} is not valid JSON (line {error.lineno}): {error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {str(path)!r} must hold a JSON object")
    return data


def _resolve(data: dict[str, Any], origin: Path, depth: int = 0) -> dict[str, Any]:
    """Merge a policy that names a ``base`` over its base (provenance merged field by field)."""
    base_ref = data.pop("base", None)
    if base_ref is None:
        return data
    if depth > 5:
        raise PolicyError(f"policy {str(origin)!r}: 'base' chain is too deep (a loop?)")
    base_path = _locate(str(base_ref), relative_to=origin.parent)
    base = _resolve(_read(base_path), base_path, depth + 1)
    merged = {**base, **data}
    merged["provenance"] = {**base.get("provenance", {}), **data.get("provenance", {})}
    merged["sources"] = {**base.get("sources", {}), **data.get("sources", {})}
    return merged


def _locate(name_or_path: str, relative_to: Path | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".json":
        if not candidate.is_absolute() and relative_to is not None:
            if (relative_to / candidate).exists():
                return relative_to / candidate
        return candidate
    shipped = POLICY_DIR / f"{name_or_path}.json"
    if shipped.exists():
        return shipped
    raise PolicyError(
        f"unknown policy {name_or_path!r}; available: {', '.join(available_policies())} "
        "(or pass a path to a .json policy file)"
    )


def load_policy(name_or_path: str | Path) -> Policy:
    """Load a shipped policy by name or a policy file by path.

    A file may say ``"base": "national"`` (or a relative path) and override only some fields.

    Raises
    ------
    PolicyError
        Unknown name, unreadable file, or a field that fails validation (named in the message).
    """
    if isinstance(name_or_path, str) and name_or_path in available_policies():
        return _load_shipped(name_or_path)
    return _load_file(_locate(str(name_or_path)))


@lru_cache(maxsize=32)
def _load_shipped(name: str) -> Policy:
    # Shipped files never change at run time, and Policy is frozen, so one parse per process.
    return _load_file(POLICY_DIR / f"{name}.json")


def _load_file(path: Path) -> Policy:
    data = _resolve(_read(path), path)
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        where, message, value = first_validation_problem(error)
        where = where or "policy"
        raise PolicyError(
            f"policy file {str(path)!r}: {where}: {message} (value {value!r})",
            details={"field": where},
        ) from None


def _as_policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(policy)


def validate_selection(
    points: Iterable[str],
    school_environment: str | None,
    policy: Policy | str | Path,
    framework: Framework | None = None,
) -> list[Violation]:
    """Check a teacher's chosen points against the policy; return every violation (empty = OK).

    Rules: ``known_points``, ``duplicate_points``, ``min_points``, ``min_dimensions`` and, when
    ``school_environment`` is given, ``environment_gating``.

    Examples
    --------
    >>> [v.rule for v in validate_selection(["A1", "A3"], "multimedia", "jiangsu")]
    ['min_points', 'min_dimensions']
    """
    env = normalize_environment(school_environment) if school_environment else None
    fw = framework if framework is not None else default_framework()
    return check_selection(list(points), env, _as_policy(policy), fw)


def validate_plan(
    plan: Plan | Mapping[str, Any],
    policy: Policy | str | Path,
    framework: Framework | None = None,
    school_environment: str | None = None,
) -> list[Violation]:
    """Check a plan against the policy; return every violation (empty = compliant).

    Rules: the selection rules on ``plan.targets``; ``known_points``, ``item_kind``,
    ``unique_item_ids``, ``items_on_targets``, ``target_coverage``, ``total_hours``,
    ``min_practice_hours``, ``min_practice_share``, ``min_online_hours``, ``prerequisite_order``
    (a prerequisite's first week is not after its dependant's first week), ``weekly_load``,
    ``within_cycle``, ``totals_consistent`` and ``evidence`` (each target lists its required
    artifacts).
    """
    if not isinstance(plan, Plan):
        try:
            plan = Plan.model_validate(plan)
        except ValidationError as error:
            where, message, _ = first_validation_problem(error)
            raise PolicyError(f"plan field {where!r}: {message}") from None
    env = normalize_environment(school_environment) if school_environment else None
    fw = framework if framework is not None else default_framework()
    pol = _as_policy(policy)
    return check_selection(plan.targets, env, pol, fw) + check_plan(plan, pol, fw)
