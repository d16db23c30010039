"""Warm a region after an import or a new model: the dashboards' first-read costs, paid offline.

Why: the region and school dashboards answer from stored aggregates and stored per-teacher
mastery, and the reader who first meets a stale school pays for bringing it up to date. After a
province-sized import or a model switch every school is stale; at 1,000,000 teachers that first
reader would wait minutes (the region's first progress read and the pairing's first read, which
diagnoses every teacher; docs/benchmarks.md). ``nengli db warm`` does that work ahead of them:

1. the schools whose stored mastery is stale (marked changed, a teacher without a row of the
   current model version, or no pairing summary) are diagnosed in chunks of schools, each chunk
   committed on its own — a process killed half-way keeps the chunks done and the next run
   finds only the rest stale;
2. the region's progress read, which refreshes every stale school's aggregates;
3. the region's pairing, stored under the hash of its inputs.

Each stage goes through the same use case as the API, so a warmed region answers its next
request exactly as it would have after a cold first read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from competency_model.errors import NotFoundError
from service.db.models import School
from service.db.stores.mastery_store import stale_schools
from service.db.stores.pairing_store import stale_pairing_schools
from service.state import ServiceState
from service.usecases.planning import region_pairing, region_progress
from service.usecases.stored_mastery import refresh_mastery
from service.usecases.teacher_models import policy_for

__all__ = ["WarmReport", "regions_with_schools", "warm_region"]

#: Schools diagnosed per committed chunk: ~100 teachers each, so a chunk holds ~20,000 teachers
#: (a few seconds of diagnosis and well under 1 GB), small enough that a kill loses little.
DEFAULT_CHUNK_SCHOOLS = 200


@dataclass(frozen=True)
class WarmReport:
    """What warming one region did, with the seconds of each stage."""

    region: str
    schools: int
    schools_diagnosed: int
    chunks: int
    diagnose_seconds: float
    progress_seconds: float
    pairing_seconds: float


def regions_with_schools(state: ServiceState) -> list[str]:
    """Every region that has at least one school, sorted."""
    with state.sessions() as session:
        return sorted(set(session.scalars(select(School.region).distinct())) - {None, ""})


def warm_region(
    state: ServiceState,
    region: str,
    *,
    chunk_schools: int = DEFAULT_CHUNK_SCHOOLS,
    policy: str | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> WarmReport:
    """Bring ``region``'s stored mastery, school aggregates and pairing up to date.

    ``on_chunk(done, total)`` is called after each committed chunk of diagnosed schools (for a
    progress bar). Raises :class:`NotFoundError` for a region without schools and
    :class:`~competency_model.errors.ModelError` when no model is trained.
    """
    if chunk_schools < 1:
        raise ValueError(f"chunk_schools={chunk_schools}; must be at least 1")
    models = state.registry.require()
    chosen = policy_for(region, policy)
    with state.sessions() as session:
        in_region = School.region == region
        n_schools = session.scalar(select(func.count()).select_from(School).where(in_region))
        if not n_schools:
            raise NotFoundError(
                f"地区 {region!r} 没有学校 / region {region!r} has no schools",
                details={"region": region},
            )
        stale = sorted(
            set(stale_schools(session, region, in_region, models.version))
            | set(stale_pairing_schools(session, region, models.version))
        )
    started = time.perf_counter()
    chunks = [stale[i : i + chunk_schools] for i in range(0, len(stale), chunk_schools)]
    for done, chunk in enumerate(chunks, start=1):
        with state.sessions() as session:
            refresh_mastery(session, state, models, region, chunk)
            session.commit()
        if on_chunk is not None:
            on_chunk(done, len(chunks))
    diagnosed = time.perf_counter()
    with state.sessions() as session:
        region_progress(session, state, region, chosen)
        session.commit()
    progressed = time.perf_counter()
    with state.sessions() as session:
        region_pairing(session, state, region)
        session.commit()
    paired = time.perf_counter()
    return WarmReport(
        region=region,
        schools=n_schools,
        schools_diagnosed=len(stale),
        chunks=len(chunks),
        diagnose_seconds=round(diagnosed - started, 3),
        progress_seconds=round(progressed - diagnosed, 3),
        pairing_seconds=round(paired - progressed, 3),
    )
