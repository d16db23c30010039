"""Stored 结对帮扶 inputs and results: per-school summaries and each region's last pairing.

A region's pairing used to read every teacher's stored mastery (1,000,000 rows at province
scale). It reads instead one summary per school (:class:`SchoolPairingSummary`, written with
the school's ``teacher_mastery`` rows by :func:`write_summaries`) and, when nothing it depends
on changed, the stored result itself. "Nothing changed" is decided by a key, not by triggers:
the hash of the model version, the framework's points and their environment gating, the
pairing options and every school's pairing columns and summary stamp (a new stamp on every
rewrite). A school whose mastery was rediagnosed, that moved city or environment, or a new
model version gives another key, and the result is computed again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from recommender.school_planning.pairing_summary import SchoolSummary, summarise_schools
from service.db.bulk import upsert_rows
from service.db.models import School
from service.db.scale_models import MasteryDirty, RegionPairing, SchoolPairingSummary

__all__ = [
    "PAIRING_SCHOOL_COLUMNS",
    "cached_pairing",
    "pairing_inputs",
    "read_summaries",
    "stale_pairing_schools",
    "store_pairing",
    "write_summaries",
]

#: The columns of ``schools`` that pairing reads (its result depends on nothing else of them).
PAIRING_SCHOOL_COLUMNS = ["school_id", "environment", "city", "urban_rural"]


def write_summaries(
    session: Session,
    region: str,
    school_ids: Sequence[str],
    mastery: pd.DataFrame,
    codes: Sequence[str],
    model_version: str,
) -> None:
    """Replace the summaries of ``school_ids`` (every model version) with those of
    ``mastery``, which holds every teacher of those schools; a school without a teacher gets
    a summary with none (so it is not taken for stale again)."""
    summaries = summarise_schools(mastery, codes)
    session.execute(
        delete(SchoolPairingSummary).where(
            SchoolPairingSummary.region == region, SchoolPairingSummary.school_id.in_(school_ids)
        )
    )
    empty = SchoolSummary(0, [None] * len(codes), [[] for _ in codes])
    rows = [
        {
            "school_id": str(school_id),
            "model_version": model_version,
            "region": region,
            "n_teachers": (summary := summaries.get(str(school_id), empty)).n_teachers,
            "means": json.dumps(summary.means),
            "mentors": json.dumps(summary.top, ensure_ascii=False),
            "stamp": uuid.uuid4().hex,
        }
        for school_id in school_ids
    ]
    # Two first reads of a changed school may write its summary at once: the later one wins.
    upsert_rows(session, SchoolPairingSummary.__table__, rows, ["school_id", "model_version"])


def stale_pairing_schools(session: Session, region: str, model_version: str) -> list[str]:
    """Schools of ``region`` marked changed or without a summary of ``model_version``: one
    row per school, never a look at the region's teachers."""
    summarised = exists().where(
        SchoolPairingSummary.region == region,
        SchoolPairingSummary.school_id == School.school_id,
        SchoolPairingSummary.model_version == model_version,
    )
    missing = select(School.school_id).where(School.region == region, ~summarised)
    dirty = (
        select(MasteryDirty.school_id)
        .join(School, School.school_id == MasteryDirty.school_id)
        .where(MasteryDirty.region == region, School.region == region)
    )
    return sorted(set(session.scalars(missing)) | set(session.scalars(dirty)))


def pairing_inputs(
    session: Session, region: str, model_version: str, fingerprint: Any
) -> tuple[list[tuple[str, ...]], str]:
    """The pairing columns (:data:`PAIRING_SCHOOL_COLUMNS`) of ``region``'s summarised schools
    with teachers, by school id, and the key of the result they give: a hash of
    ``model_version``, ``fingerprint`` (the framework's points and options, JSON-able) and every
    school's columns and summary stamp. Runs on every pairing request: one indexed join over
    the region's schools and one pass of hashing (no frame is built unless the key misses)."""
    rows = session.execute(
        select(*[getattr(School, c) for c in PAIRING_SCHOOL_COLUMNS], SchoolPairingSummary.stamp)
        .join(
            SchoolPairingSummary,
            (SchoolPairingSummary.school_id == School.school_id)
            & (SchoolPairingSummary.region == region)
            & (SchoolPairingSummary.model_version == model_version),
        )
        .where(School.region == region, SchoolPairingSummary.n_teachers > 0)
        .order_by(School.school_id)
    ).all()
    digest = hashlib.sha256(
        json.dumps([model_version, fingerprint], ensure_ascii=False, sort_keys=True).encode()
    )
    # Unit and record separators cannot occur in ids or names; NUL stands for a missing value.
    digest.update(
        "\x1e".join(
            "\x1f".join("\x00" if value is None else str(value) for value in row) for row in rows
        ).encode()
    )
    return [tuple(row)[:-1] for row in rows], digest.hexdigest()


def read_summaries(session: Session, region: str, model_version: str) -> dict[str, SchoolSummary]:
    """The summaries of ``region``'s schools with teachers under ``model_version``."""
    rows = session.execute(
        select(
            SchoolPairingSummary.school_id,
            SchoolPairingSummary.n_teachers,
            SchoolPairingSummary.means,
            SchoolPairingSummary.mentors,
        ).where(
            SchoolPairingSummary.region == region,
            SchoolPairingSummary.model_version == model_version,
            SchoolPairingSummary.n_teachers > 0,
        )
    ).all()
    return {
        str(school_id): SchoolSummary(
            n_teachers=int(n),
            means=json.loads(means),
            top=[[(str(t), str(g), m) for t, g, m in point] for point in json.loads(mentors)],
        )
        for school_id, n, means, mentors in rows
    }


def cached_pairing(session: Session, region: str, key: str) -> tuple[str, str] | None:
    """The stored pairs and mentors (JSON texts) of ``region`` when computed under ``key``."""
    row = session.execute(
        select(RegionPairing.pairs, RegionPairing.mentors).where(
            RegionPairing.region == region, RegionPairing.input_key == key
        )
    ).first()
    return None if row is None else (str(row.pairs), str(row.mentors))


def store_pairing(
    session: Session, region: str, model_version: str, key: str, pairs: str, mentors: str
) -> None:
    """Keep ``region``'s pairing result (JSON texts) under ``key``, replacing the one before
    (two requests computing it at once both succeed)."""
    values = {
        "region": region,
        "model_version": model_version,
        "input_key": key,
        "pairs": pairs,
        "mentors": mentors,
        "computed_at": datetime.now(UTC),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RegionPairing).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[RegionPairing.region],
        set_={k: statement.excluded[k] for k in values if k != "region"},
    )
    session.execute(statement)
