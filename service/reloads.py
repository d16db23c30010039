"""Every worker process follows an admin's model reload.

``nengli serve --workers N`` runs N processes, each with its own copy of the model in memory,
and ``POST /v1/admin/reload`` reaches only one of them. That worker reloads and records the
reload in ``model_reloads``; every worker polls the table (one indexed read every
``NENGLI_RELOAD_POLL_SECONDS``) and reloads when a newer record names a version other than its
own. A worker that cannot load the directory keeps serving its current model, as the
requesting worker does (``ModelRegistry.reload``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from competency_model.errors import ModelError
from service.auth import Principal
from service.db.models import ModelReload

if TYPE_CHECKING:
    from service.state import ServiceState

__all__ = ["follow_reloads", "latest_reload", "record_reload"]

log = logging.getLogger("nengli.service.reloads")

_LATEST = select(ModelReload.id, ModelReload.version).order_by(ModelReload.id.desc()).limit(1)


def record_reload(session: Session, principal: Principal, version: str) -> None:
    """Record that ``principal`` reloaded the model to ``version`` (the other workers follow)."""
    session.add(
        ModelReload(version=version, key_id=principal.key_id, requested_at=datetime.now(UTC))
    )
    session.commit()


def latest_reload(engine: Engine) -> tuple[int, str] | None:
    """The newest reload record as ``(id, version)``, or None before the first reload."""
    with engine.connect() as connection:
        row = connection.execute(_LATEST).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def follow_reloads(state: ServiceState, interval: float) -> None:
    """Poll ``model_reloads`` every ``interval`` seconds and reload on a newer record.

    Records older than this worker's start are not replayed: the worker loaded the directory
    as it was when it started.
    """
    started = await asyncio.to_thread(latest_reload, state.engine)
    seen = started[0] if started is not None else 0
    while True:
        await asyncio.sleep(interval)
        try:
            latest = await asyncio.to_thread(latest_reload, state.engine)
        except Exception as error:  # the database is briefly unavailable: try again later
            log.warning("cannot read model reloads: %s", error)
            continue
        if latest is None or latest[0] <= seen:
            continue
        seen = latest[0]
        current = state.registry.current
        if current is not None and current.version == latest[1]:
            continue
        try:
            bundle = await asyncio.to_thread(state.registry.reload)
        except Exception as error:  # ModelError or worse: keep serving the current model
            reason = error.message if isinstance(error, ModelError) else repr(error)
            log.warning("model reload %d requested, but loading failed: %s", seen, reason)
            continue
        state.ranking_cache.clear()
        log.info("followed model reload %d: now serving %s", seen, bundle.version)
