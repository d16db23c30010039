"""The API key lifecycle, for ``nengli keys`` and ``/v1/admin/keys`` alike.

Issue (with an optional expiry), list (never the secret), rotate (a new secret; the previous
one valid for an optional grace period) and revoke. The primitives that touch a key's secret
and the caches live in :mod:`service.auth`; this module adds what both entry points need: the
scope check, durations and times as people type them, and the public view of a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.errors import NengliError, NotFoundError
from competency_model.policy import available_policies, load_policy
from service.auth import create_key, revoke_key, rotate_key
from service.db.models import ApiKey, School, Teacher

__all__ = [
    "KeyInfo",
    "check_key_scope",
    "expiry_from",
    "issue_key",
    "list_keys",
    "parse_duration",
    "parse_moment",
    "revoke",
    "rotate",
]

KeyStatus = Literal["active", "expired", "revoked"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: everything but its secret."""

    key_id: str
    label: str | None
    role: str
    scope: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    rotated_at: datetime | None
    previous_valid_until: datetime | None
    created_by: str | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        """The public view of a stored key."""
        return cls(
            key_id=row.key_id,
            label=row.label,
            role=row.role,
            scope=row.scope,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            rotated_at=row.rotated_at,
            previous_valid_until=row.previous_valid_until,
            created_by=row.created_by,
        )

    def status(self, now: datetime | None = None) -> KeyStatus:
        """``revoked`` over ``expired`` over ``active``: what a request with it would meet."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return "expired"
        return "active"

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """JSON-ready fields (ISO 8601 times in UTC) plus ``status``."""
        out: dict[str, Any] = {}
        for name, value in vars(self).items():
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        out["status"] = self.status(now)
        return out


def parse_duration(text: str, option: str = "--expires-in") -> timedelta:
    """``"90d"``, ``"24h"``, ``"1d12h"``, ``"30m"``, ``"2w"``, ``"3600s"`` → a timedelta.

    Raises
    ------
    NengliError
        The text is not a sequence of ``<number><unit>`` with unit s, m, h, d or w.
    """
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact).strip():
        raise NengliError(
            f"{option} {text!r} 不是时长 / is not a duration; write e.g. 90d, 24h, 1d12h, 30m "
            "(units s, m, h, d, w)"
        )
    return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(compact)))


def parse_moment(text: str, option: str = "--expires-at") -> datetime:
    """An ISO 8601 date or time; without an offset it is read as UTC (a date: 00:00 UTC).

    Raises
    ------
    NengliError
        The text is not an ISO 8601 date or date-time.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise NengliError(
            f"{option} {text!r} 不是 ISO 8601 时间 / is not an ISO 8601 time; write e.g. "
            "2027-07-01 or 2027-07-01T08:00+08:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def expiry_from(
    expires_in: str | None,
    expires_at: str | datetime | None,
    now: datetime | None = None,
    names: tuple[str, str] = ("--expires-in", "--expires-at"),
) -> datetime | None:
    """The expiry that ``expires_in`` (a duration) or ``expires_at`` asks for (None: never).

    ``names`` are how the caller calls the two (CLI options, JSON fields), for the messages.

    Raises
    ------
    NengliError
        Both are given, the value does not parse, or the time is not in the future.
    """
    in_name, at_name = names
    if expires_in is not None and expires_at is not None:
        raise NengliError(
            f"{in_name} 与 {at_name} 只能给一个 / give {in_name} or {at_name}, not both"
        )
    now = now or datetime.now(UTC)
    if expires_in is not None:
        duration = parse_duration(expires_in, in_name)
        if duration <= timedelta(0):
            raise NengliError(f"{in_name} {expires_in!r} 须大于零 / must be longer than zero")
        return now + duration
    if expires_at is not None:
        moment = (
            expires_at if isinstance(expires_at, datetime) else parse_moment(expires_at, at_name)
        )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment <= now:
            raise NengliError(
                f"{at_name} {moment.isoformat()} 已过去 / is in the past (now {now.isoformat()})"
            )
        return moment
    return None


def _policy_regions() -> list[str]:
    return [load_policy(name).label_zh for name in available_policies() if name != "national"]


def check_key_scope(session: Session, role: str, scope: str | None) -> None:
    """Refuse a school or teacher that is not stored, or a region with no schools and no policy.

    A key for a teacher or school that does not exist, or for a misspelt region, would work
    (answering 404 everywhere) but serve no one, and the mistake would show only when the
    integrator calls.

    Raises
    ------
    NotFoundError
        The scope names nothing the service knows.
    """
    if scope is None or role == "admin":
        return
    if role == "teacher" and session.get(Teacher, scope) is None:
        raise NotFoundError(
            f"教师 {scope!r} 不存在 / teacher {scope!r} is not stored; import or PUT the teacher "
            "first, then create the key"
        )
    if role == "school" and session.get(School, scope) is None:
        raise NotFoundError(
            f"学校 {scope!r} 不存在 / school {scope!r} is not stored; import or PUT the school "
            "first, then create the key"
        )
    if role == "platform":
        has_schools = session.scalar(select(School.school_id).where(School.region == scope))
        if has_schools is None and not any(r.startswith(scope) for r in _policy_regions()):
            known = sorted(set(session.scalars(select(School.region).distinct())))
            raise NotFoundError(
                f"地区 {scope!r} 未知 / region {scope!r} has no schools and no regional policy; "
                f"known regions: {', '.join(known) or 'none yet'} — check the spelling, or "
                "create its first school with an admin key"
            )


def issue_key(
    session: Session,
    role: str,
    scope: str | None,
    label: str | None = None,
    *,
    expires_at: datetime | None = None,
    created_by: str | None = None,
) -> tuple[str, KeyInfo]:
    """Check the scope, create the key (not committed) and return its token, shown only once."""
    check_key_scope(session, role, scope)
    token, row = create_key(
        session, role, scope, label, expires_at=expires_at, created_by=created_by
    )
    return token, KeyInfo.of(row)


def list_keys(session: Session, *, include_revoked: bool = True) -> list[KeyInfo]:
    """Every stored key, oldest first (revoked ones too unless ``include_revoked`` is False)."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [KeyInfo.of(row) for row in session.scalars(query)]


def _unknown(key_id: str) -> NotFoundError:
    return NotFoundError(
        f"没有 id 为 {key_id!r} 的密钥 / no key with id {key_id!r}; `nengli keys list` shows the ids"
    )


def rotate(session: Session, key_id: str, grace: timedelta = timedelta(0)) -> tuple[str, KeyInfo]:
    """A new secret for ``key_id`` (not committed); the old one works for ``grace`` more.

    Raises
    ------
    NotFoundError
        No such key.
    ConflictError
        The key is revoked or expired.
    """
    rotated = rotate_key(session, key_id, grace)
    if rotated is None:
        raise _unknown(key_id)
    token, row = rotated
    return token, KeyInfo.of(row)


def revoke(session: Session, key_id: str) -> KeyInfo:
    """Revoke ``key_id`` (not committed; revoking twice keeps the first time).

    Raises
    ------
    NotFoundError
        No such key.
    """
    if not revoke_key(session, key_id):
        raise _unknown(key_id)
    row = session.get(ApiKey, key_id)
    assert row is not None
    return KeyInfo.of(row)
