"""API keys and the caller's scope.

A key is ``nl_<key_id>_<secret>``: ``key_id`` locates the row, ``secret`` (256 random bits) is
shown once and stored only as its SHA-256 digest. Because the secret is uniformly random and
long, a plain digest is as strong as a slow password hash here, and it lets every request be
checked in microseconds. Comparison is constant-time.

A key may expire (``expires_at``), be rotated (a new secret; the previous one may stay valid
for a grace period) and be revoked. A refused key whose secret is right is told why (revoked,
expired, rotated), in Chinese then English, as the ``reason`` of the 401 problem; a wrong or
unknown token only hears that it is invalid, so tokens cannot be probed.

Roles and what they may see (anything else answers 404 so that ids of other tenants cannot be
probed):

======== ============ ===========================================================
role     scope        visible
======== ============ ===========================================================
admin    —            everything; may reload models
platform region name  schools of that region and their teachers; the region
school   school_id    that school and its teachers
teacher  teacher_id   that teacher only
======== ============ ===========================================================
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.errors import AuthError, ConflictError, NengliError
from service.db.models import ApiKey, School, Teacher
from service.key_usage import KeyUsage

__all__ = [
    "ROLES",
    "KeyCache",
    "Principal",
    "authenticate",
    "create_key",
    "verify",
    "hash_secret",
    "revoke_key",
    "rotate_key",
]

Role = Literal["admin", "platform", "school", "teacher"]
ROLES: tuple[Role, ...] = ("admin", "platform", "school", "teacher")
TOKEN_PREFIX = "nl"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: key id, role and the scope the role is bound to."""

    key_id: str
    role: Role
    scope: str | None

    @property
    def tenant(self) -> str:
        """Namespace for client-supplied ids (event ids) so tenants never collide."""
        return f"{self.role}:{self.scope or '*'}"

    def can_see_school(self, school: School | None) -> bool:
        """Whether this key may see ``school`` (False for None, so callers answer 404)."""
        if school is None:
            return False
        return self.can_see_school_in(school.school_id, school.region)

    def can_see_school_in(self, school_id: str, region: str) -> bool:
        """Whether this key may see the school ``school_id`` of ``region``."""
        if self.role == "admin":
            return True
        if self.role == "platform":
            return region == self.scope
        if self.role == "school":
            return school_id == self.scope
        return False

    def can_see_teacher(self, teacher: Teacher | None, school: School | None) -> bool:
        """Whether this key may see ``teacher`` (its ``school`` decides for platform keys)."""
        if teacher is None or school is None:
            return False
        return self.can_see_teacher_at(teacher.teacher_id, school.school_id, school.region)

    def can_see_teacher_at(self, teacher_id: str, school_id: str, region: str) -> bool:
        """Whether this key may see the teacher ``teacher_id`` of that school and region."""
        if self.role == "teacher":
            return teacher_id == self.scope
        return self.can_see_school_in(school_id, region)

    def can_see_region(self, region: str) -> bool:
        """Whether this key may see the aggregate progress of ``region``."""
        return self.role == "admin" or (self.role == "platform" and self.scope == region)


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a key secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def create_key(
    session: Session,
    role: str,
    scope: str | None = None,
    label: str | None = None,
    *,
    expires_at: datetime | None = None,
    created_by: str | None = None,
) -> tuple[str, ApiKey]:
    """Create a key and return ``(token, row)``; the token is not recoverable afterwards.

    Parameters
    ----------
    expires_at
        When the key stops working (None: never); must be in the future and timezone-aware.
    created_by
        Key id of the admin that created it over HTTP (None from the CLI).

    Raises
    ------
    NengliError
        When the role is unknown, its scope is missing (admin takes none) or the expiry is
        not in the future.
    """
    if role not in ROLES:
        raise NengliError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "admin":
        scope = None
    elif not scope or not scope.strip():
        flag = {"platform": "--region", "school": "--school", "teacher": "--teacher"}[role]
        raise NengliError(f"role {role!r} needs a scope; pass {flag}")
    now = datetime.now(UTC)
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise NengliError(
            f"到期时间 {expires_at.isoformat()} 须为带时区的将来时间 / expiry "
            f"{expires_at.isoformat()} must be a timezone-aware time in the future"
        )
    key_id = secrets.token_hex(8)
    secret, digest = _new_secret()
    row = ApiKey(
        key_id=key_id,
        secret_hash=digest,
        role=role,
        scope=scope.strip() if scope else None,
        label=label,
        created_at=now,
        expires_at=expires_at,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return f"{TOKEN_PREFIX}_{key_id}_{secret}", row


def revoke_key(session: Session, key_id: str) -> bool:
    """Mark a key revoked; returns False when no such key exists.

    Revoking twice keeps the first time. This process's key caches are emptied at once;
    other processes refuse the key within their cache's ``ttl_seconds``.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    KeyCache.forget_everywhere()
    return True


def rotate_key(
    session: Session, key_id: str, grace: timedelta = timedelta(0)
) -> tuple[str, ApiKey] | None:
    """Give the key a new secret; the previous one stays valid for ``grace``, then is refused.

    Role, scope, label and expiry are kept, so a platform swaps the token without a new key
    id. Only the secret in use just before the latest rotation is remembered: a second rotation
    within the grace period ends the first one's previous secret at once (it then answers as an
    invalid key). Returns ``(token, row)``, or
    None when no such key exists.

    Raises
    ------
    ConflictError
        The key is revoked or expired: rotating would hand out a token that does not work.
    NengliError
        ``grace`` is negative.
    """
    if grace < timedelta(0):
        raise NengliError(f"宽限期不能为负 / the grace period cannot be negative ({grace})")
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise ConflictError(
            f"密钥 {key_id} 已吊销，不能轮换 / key {key_id} is revoked and cannot be rotated; "
            "create a new key"
        )
    if row.expires_at is not None and row.expires_at <= now:
        raise ConflictError(
            f"密钥 {key_id} 已过期，不能轮换 / key {key_id} expired at "
            f"{row.expires_at.isoformat()} and cannot be rotated; create a new key"
        )
    secret, digest = _new_secret()
    # Kept even without grace (valid until now): the old secret is then told it was rotated,
    # not merely that it is invalid.
    row.previous_secret_hash, row.previous_valid_until = row.secret_hash, now + grace
    row.secret_hash, row.rotated_at = digest, now
    session.flush()
    KeyCache.forget_everywhere()
    return f"{TOKEN_PREFIX}_{key_id}_{secret}", row


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def verify(
    session: Session, authorization: str | None, now: datetime | None = None
) -> tuple[Principal, datetime | None]:
    """:func:`authenticate`, plus the moment this token stops being accepted (None: never).

    That moment is the key's expiry or, for the previous secret of a rotated key, the end of
    its grace period, whichever comes first; :class:`KeyCache` keeps no entry beyond it.
    """
    if not authorization:
        raise AuthError("missing Authorization header; send 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization must be 'Bearer <key>'")
    parts = token.strip().split("_", 2)
    invalid = AuthError(
        "API 密钥无效 / invalid API key; ask an administrator for one (`nengli keys create`)",
        details={"reason": "invalid"},
    )
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) > 32:
        raise invalid
    row = session.scalars(select(ApiKey).where(ApiKey.key_id == parts[1])).first()
    if row is None:
        raise invalid
    digest = hash_secret(parts[2])
    current = hmac.compare_digest(row.secret_hash, digest)
    previous = not current and hmac.compare_digest(row.previous_secret_hash or "", digest)
    if not (current or previous):
        raise invalid
    # From here on the caller holds this key's secret, so it may learn why it is refused.
    now = now or datetime.now(UTC)
    if row.revoked_at is not None:
        raise AuthError(
            f"API 密钥 {row.key_id} 已于 {_moment(row.revoked_at)} 吊销 / API key {row.key_id} "
            f"was revoked at {_moment(row.revoked_at)}; ask an administrator for a new key",
            details={"reason": "revoked", "revoked_at": row.revoked_at.isoformat()},
        )
    if row.expires_at is not None and row.expires_at <= now:
        raise AuthError(
            f"API 密钥 {row.key_id} 已于 {_moment(row.expires_at)} 过期 / API key {row.key_id} "
            f"expired at {_moment(row.expires_at)}; ask an administrator for a new key",
            details={"reason": "expired", "expires_at": row.expires_at.isoformat()},
        )
    until = row.expires_at
    if previous:
        grace_end = row.previous_valid_until
        if grace_end is None or grace_end <= now:
            ended = _moment(grace_end) if grace_end else _moment(row.rotated_at or now)
            raise AuthError(
                f"API 密钥 {row.key_id} 已轮换，旧密钥于 {ended} 失效 / API key {row.key_id} was "
                f"rotated; its previous secret stopped working at {ended}; use the new one",
                details={
                    "reason": "rotated",
                    "previous_valid_until": grace_end.isoformat() if grace_end else None,
                },
            )
        until = grace_end if until is None else min(until, grace_end)
    principal = Principal(key_id=row.key_id, role=row.role, scope=row.scope)  # type: ignore[arg-type]
    return principal, until


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Turn an ``Authorization: Bearer nl_…`` header into a :class:`Principal`.

    Raises
    ------
    AuthError
        Missing header, malformed token, unknown key or wrong secret (one message for all, so
        tokens cannot be probed); or, for the right secret, a revoked or expired key, or the
        previous secret of a rotated key after its grace period (the message says which).
    """
    return verify(session, authorization)[0]


class KeyCache:
    """Principals of recently verified keys, kept ``ttl_seconds`` so a busy client skips the lookup.

    Only successful verifications are kept, under the SHA-256 of the whole token (never the
    token itself), and never past the token's own end (the key's expiry, or the end of a rotated
    secret's grace period), so expiry is exact even for cached keys. A key revoked or rotated
    through :func:`revoke_key` / :func:`rotate_key` in this process is forgotten at once; one
    revoked or rotated by another process (another worker, ``nengli keys revoke``) is refused at
    the latest ``ttl_seconds`` later (5 s by default), when the entry expires and the row is read
    again.

    The cache also holds :attr:`usage` (:class:`~service.key_usage.KeyUsage`): every successful
    authentication records the key's use, and its ``last_used_at`` is written at most once per
    ``usage.interval_seconds`` (60 s) per key, never on every request.

    Parameters
    ----------
    ttl_seconds
        How long a verified key is trusted without reading its row (0 disables the cache).
    max_entries
        Bound on the number of keys kept; the cache is emptied when it is reached.
    last_used_interval_seconds
        Minimum time between two writes of one key's ``last_used_at`` by this process.
    """

    _instances: weakref.WeakSet[KeyCache] = weakref.WeakSet()

    def __init__(
        self,
        ttl_seconds: float = 5.0,
        max_entries: int = 10_000,
        last_used_interval_seconds: float = 60.0,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.usage = KeyUsage(last_used_interval_seconds)
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        KeyCache._instances.add(self)

    def cached(self, authorization: str | None) -> Principal | None:
        """The principal of a key verified less than ``ttl_seconds`` ago, else None.

        A pure look-up: it records no use (see :meth:`authenticate`).
        """
        if not authorization or self.ttl_seconds <= 0:
            return None
        hit = self._entries.get(hashlib.sha256(authorization.encode("utf-8")).hexdigest())
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def authenticate(self, session: Session, authorization: str | None) -> Principal:
        """:func:`authenticate`, answered from the cache while the key's entry is fresh.

        Records the key's use, and writes its ``last_used_at`` through ``session`` when this
        call's turn has come (at most once a minute per key) — committing ``session``, so pass
        a session of its own, not one holding a request's pending writes.
        """
        principal = self.cached(authorization)
        if principal is None:
            principal = self._verify_and_keep(session, authorization)
        self.record_use(session, principal.key_id)
        return principal

    def record_use(self, session: Session, key_id: str) -> None:
        """Note a use of ``key_id``; write ``last_used_at`` if its turn has come."""
        at = self.usage.claim(key_id)
        if at is not None:
            self.usage.write(session, key_id, at)

    def _verify_and_keep(self, session: Session, authorization: str | None) -> Principal:
        if not authorization or self.ttl_seconds <= 0:
            return verify(session, authorization)[0]
        digest = hashlib.sha256(authorization.encode("utf-8")).hexdigest()
        now = time.monotonic()
        principal, until = verify(session, authorization)
        lifetime = self.ttl_seconds
        if until is not None:
            lifetime = min(lifetime, (until - datetime.now(UTC)).total_seconds())
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (principal, now + lifetime)
        return principal

    def clear(self) -> None:
        """Forget every verified key (the next request of each reads its row again)."""
        with self._lock:
            self._entries.clear()

    @classmethod
    def forget_everywhere(cls) -> None:
        """Clear every cache of this process (called when a key is revoked or rotated)."""
        for cache in list(cls._instances):
            cache.clear()
