"""API keys and the caller's scope.

A key is ``nl_<key_id>_<secret>``: ``key_id`` locates the row, ``secret`` (256 random bits) is
shown once and stored only as its SHA-256 digest. Because the secret is uniformly random and
long, a plain digest is as strong as a slow password hash here, and it lets every request be
checked in microseconds. Comparison is constant-time.

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
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.errors import AuthError, NengliError
from service.db.models import ApiKey, School, Teacher

__all__ = [
    "ROLES",
    "KeyCache",
    "Principal",
    "authenticate",
    "create_key",
    "hash_secret",
    "revoke_key",
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


def create_key(
    session: Session, role: str, scope: str | None = None, label: str | None = None
) -> tuple[str, ApiKey]:
    """Create a key and return ``(token, row)``; the token is not recoverable afterwards.

    Raises
    ------
    NengliError
        When the role is unknown or its scope is missing (admin takes none).
    """
    if role not in ROLES:
        raise NengliError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "admin":
        scope = None
    elif not scope or not scope.strip():
        flag = {"platform": "--region", "school": "--school", "teacher": "--teacher"}[role]
        raise NengliError(f"role {role!r} needs a scope; pass {flag}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id,
        secret_hash=hash_secret(secret),
        role=role,
        scope=scope.strip() if scope else None,
        label=label,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return f"{TOKEN_PREFIX}_{key_id}_{secret}", row


def revoke_key(session: Session, key_id: str) -> bool:
    """Mark a key revoked; returns False when no such key exists."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return False
    row.revoked_at = datetime.now(UTC)
    KeyCache.forget_everywhere()
    return True


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Turn an ``Authorization: Bearer nl_…`` header into a :class:`Principal`.

    Raises
    ------
    AuthError
        Missing header, malformed token, unknown or revoked key, or wrong secret; the message
        does not say which, so tokens cannot be probed.
    """
    if not authorization:
        raise AuthError("missing Authorization header; send 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization must be 'Bearer <key>'")
    parts = token.strip().split("_", 2)
    invalid = AuthError("invalid or revoked API key; create one with `nengli keys create`")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) > 32:
        raise invalid
    row = session.scalars(select(ApiKey).where(ApiKey.key_id == parts[1])).first()
    if row is None or row.revoked_at is not None:
        raise invalid
    if not hmac.compare_digest(row.secret_hash, hash_secret(parts[2])):
        raise invalid
    return Principal(key_id=row.key_id, role=row.role, scope=row.scope)  # type: ignore[arg-type]


class KeyCache:
    """Principals of recently verified keys, kept ``ttl_seconds`` so a busy client skips the lookup.

    Only successful verifications are kept, under the SHA-256 of the whole token (never the
    token itself). A key revoked through :func:`revoke_key` in this process is forgotten at
    once; one revoked by another process (``nengli keys revoke``) is refused at the latest
    ``ttl_seconds`` later, when the entry expires and the row is read again.

    Parameters
    ----------
    ttl_seconds
        How long a verified key is trusted without reading its row (0 disables the cache).
    max_entries
        Bound on the number of keys kept; the cache is emptied when it is reached.
    """

    _instances: weakref.WeakSet[KeyCache] = weakref.WeakSet()

    def __init__(self, ttl_seconds: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        KeyCache._instances.add(self)

    def cached(self, authorization: str | None) -> Principal | None:
        """The principal of a key verified less than ``ttl_seconds`` ago, else None."""
        if not authorization or self.ttl_seconds <= 0:
            return None
        hit = self._entries.get(hashlib.sha256(authorization.encode("utf-8")).hexdigest())
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def authenticate(self, session: Session, authorization: str | None) -> Principal:
        """:func:`authenticate`, answered from the cache while the key's entry is fresh."""
        hit = self.cached(authorization)
        if hit is not None:
            return hit
        if not authorization or self.ttl_seconds <= 0:
            return authenticate(session, authorization)
        digest = hashlib.sha256(authorization.encode("utf-8")).hexdigest()
        now = time.monotonic()
        principal = authenticate(session, authorization)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (principal, now + self.ttl_seconds)
        return principal

    def clear(self) -> None:
        """Forget every verified key (the next request of each reads its row again)."""
        with self._lock:
            self._entries.clear()

    @classmethod
    def forget_everywhere(cls) -> None:
        """Clear every cache of this process (called when a key is revoked)."""
        for cache in list(cls._instances):
            cache.clear()
