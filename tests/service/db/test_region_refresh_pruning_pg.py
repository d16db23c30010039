"""The region refresh reads only its region's partitions of ``events``, ``grades`` and ``teachers``.

With two regions loaded, PostgreSQL's plan of every statement of
:func:`service.db.progress_summary.refresh_region` that reads the partitioned tables names the
measured region's partitions and none of the other region's (nor the default partition): the
queries carry the partition key, so the planner prunes (docs/benchmarks.md measures the effect).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection, text

from service.db import progress_summary as summary
from service.db.partitions import partition_name
from service.usecases.teacher_models import policy_for
from tests.service.conftest import OTHER_REGION, REGION, World

pytestmark = pytest.mark.postgres


def _relations(plan: Any) -> set[str]:
    """Every relation a JSON plan (or a subtree of it) scans."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(str(plan["Relation Name"]))
        for value in plan.values():
            found |= _relations(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _relations(value)
    return found


def _statements(client) -> dict[str, tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """The refresh's reads of the partitioned tables, rendered as ``refresh_region`` runs them."""
    state = client.app.state.nengli
    policy = policy_for(REGION, None)
    where = {"region": REGION, "basis": "pruning-test"}
    rules = {
        **where,
        "total": policy.total_hours,
        "min_practice": policy.min_practice_hours,
        "min_share": policy.min_practice_share,
        "min_online": policy.min_online_hours,
    }
    catalog = summary._catalog_values(state.catalog, policy)
    return {
        "teacher_progress": (
            summary._TEACHERS.format(catalog=catalog, tol=summary._TOLERANCE),
            rules,
        ),
        "school_monthly": (
            summary._MONTHLY.format(catalog=catalog, month=summary._MONTH_OF["postgresql"]),
            where,
        ),
        "school_grades": (summary._GRADES, where),
    }


@pytest.mark.parametrize("statement", ["teacher_progress", "school_monthly", "school_grades"])
def test_the_refresh_plans_only_its_regions_partitions(  # type: ignore[no-untyped-def]
    client, pg: Connection, world: World, statement: str
) -> None:
    sql, params = _statements(client)[statement]
    plan = pg.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar()
    scanned = _relations(json.loads(plan) if isinstance(plan, str) else plan)
    tables = ["teachers"] if statement != "school_grades" else ["grades", "teachers"]
    if statement != "school_grades":
        tables.append("events")
    for table in tables:
        if table == "teachers":
            # Not partitioned: the region's rows come through its (region, teacher_id) key.
            assert "teachers" in scanned, scanned
            continue
        assert partition_name(table, REGION) in scanned, (table, scanned)
        assert partition_name(table, OTHER_REGION) not in scanned, (table, scanned)
        assert f"{table}_default" not in scanned, (table, scanned)


def test_without_the_partition_key_the_join_would_read_the_other_region(  # type: ignore[no-untyped-def]
    client, pg: Connection, world: World
) -> None:
    """The check above can fail: the join by ``teacher_id`` alone plans every partition."""
    plan = pg.execute(
        text(
            "EXPLAIN (FORMAT JSON) SELECT e.teacher_id FROM events e "
            "JOIN teachers t ON t.teacher_id = e.teacher_id "
            "JOIN schools s ON s.school_id = t.school_id WHERE s.region = :region"
        ),
        {"region": REGION},
    ).scalar()
    scanned = _relations(json.loads(plan) if isinstance(plan, str) else plan)
    assert partition_name("events", OTHER_REGION) in scanned, scanned
