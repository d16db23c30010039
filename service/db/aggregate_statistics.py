"""Fresh planner statistics for the dashboard aggregates after a bulk write (PostgreSQL).

A refresh or a stored diagnosis rewrites thousands of aggregate rows at once; with statistics of
before the write the planner misjudges the next reads (a region's 未达标名单 planned as if the
region had one teacher: 3–5× slower in bench_dashboards, docs/benchmarks.md). The API role does
not own the tables, so statistics go through ``nengli_analyze`` (migrations 0010, 0011), which
runs ``ANALYZE`` as the owner. For a table partitioned by region only the written region's
partition is analyzed: the reads name the region, so the planner uses that partition's
statistics, and re-sampling every region's partition (what ``ANALYZE`` of the parent does)
would make each region's refresh cost grow with the country. SQLite keeps no such statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.db.partitions import PARTITIONED_TABLES, partition_name

__all__ = ["analyze_aggregates"]


def analyze_aggregates(session: Session, region: str, tables: Iterable[str]) -> None:
    """Refresh the planner statistics of ``tables`` after ``region``'s rows were rewritten.

    Partitioned tables are analyzed in ``region``'s partition only. No-op on SQLite.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    names = [
        partition_name(table, region) if table in PARTITIONED_TABLES else table for table in tables
    ]
    session.execute(text("SELECT nengli_analyze(CAST(:tables AS text[]))"), {"tables": names})
