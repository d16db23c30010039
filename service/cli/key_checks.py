"""Checks ``nengli keys create`` runs before issuing a key: a real database, a real scope.

A key for a teacher or school that does not exist, or for a misspelt region, works (it answers
404 everywhere) but serves no one, and the mistake shows up only when the integrator calls;
a key written into an accidental ``var/nengli.sqlite`` is invisible to the deployment's real
database. Both are refused with a message saying what to do (exit 2). The scope check itself lives in
:func:`service.usecases.keys.check_key_scope` (``POST /v1/admin/keys`` runs it too) and is
re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

from competency_model.errors import NengliError
from service.settings import Settings
from service.usecases.keys import check_key_scope

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
