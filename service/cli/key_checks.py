"""Checks ``nengli keys create`` runs before issuing a key: a real database, a real scope.

A key for a teacher or school that does not exist, or for a misspelt region, works (it answers
404 everywhere) but serves no one, and the mistake shows up only when the integrator calls;
a key written into an accidental ``var/nengli.sqlite`` is invisible to the deployment's real
database. Both are refused with a message saying what to do (exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.errors import NengliError, NotFoundError
from competency_model.policy import available_policies, load_policy
from service.db.models import School, Teacher
from service.settings import Settings

__all__ = ["check_key_scope", "configured_database_url"]


def configured_database_url(settings: Settings) -> str:
    """The database URL to write keys into; refuses a default SQLite file that does not exist.

    Raises
    ------
    NengliError
        ``NENGLI_DATABASE_URL`` is unset and the default database file is missing.
    """
    url = settings.database_url
    default = Settings.model_fields["database_url"].default
    if "NENGLI_DATABASE_URL" in os.environ or url != default:
        return url
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        raise NengliError(
            f"未设置 NENGLI_DATABASE_URL，且默认数据库 {path} 不存在 / NENGLI_DATABASE_URL is not "
            f"set and the default database {path} does not exist; set NENGLI_DATABASE_URL to the "
            "service's database (e.g. postgresql+psycopg://…) so the key lands where the service "
            "reads it"
        )
    return url


def _policy_regions() -> list[str]:
    return [load_policy(name).label_zh for name in available_policies() if name != "national"]


def check_key_scope(session: Session, role: str, scope: str | None) -> None:
    """Refuse a school or teacher that is not stored, or a region with no schools and no policy.

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
