"""Region on every dashboard aggregate; the per-teacher ones partitioned by region (PostgreSQL).

0007 and 0009 made eight aggregate tables without a region of their own (``teacher_progress``
carried one, unchecked), so row-level security could not reach them: a ``nengli_api`` session
of one region read every region's 学时 sums, 未达标名单 rows and stored mastery. This revision

* adds the unique key ``(region, school_id)`` to ``schools``;
* rebuilds ``school_progress``, ``school_grades``, ``school_grades_fresh``, ``progress_dirty``
  (0007) and ``teacher_progress``, ``school_monthly``, ``teacher_mastery``, ``mastery_dirty``
  (0009) with a ``region`` column (copied from the school) and a composite foreign key
  ``(region, school_id) → schools`` with ``ON UPDATE CASCADE`` (a school moving region moves
  its aggregates) and ``ON DELETE CASCADE``; keys stay as they were except where a partition
  key must join them (``teacher_progress`` (basis, teacher_id, region), ``teacher_mastery``
  (teacher_id, region));
* rewrites the triggers that mark stale schools (0007, 0008, 0009) so every mark carries the
  school's region (read from ``schools``, the foreign key's target);
* PostgreSQL only: ``teacher_progress`` and ``teacher_mastery`` — the two that grow with
  teachers (teachers × policy bases, teachers) — become ``PARTITION BY LIST (region)`` with a
  default partition and one partition per region; ``nengli_region_partitions`` makes theirs
  too; the eight tables get 0008's fail-closed policy (``USING`` and ``WITH CHECK``; enabled,
  not forced: the schema owner — migrations, CLI, background jobs — is not limited, as in
  0008); and ``nengli_api`` loses every privilege on partition children (of all six
  partitioned tables, now and as the function makes them): a policy applies only through the
  parent, so a grant on a child (0008's ``GRANT … ON ALL TABLES``) let the role read another
  region's partition directly. ``nengli_analyze`` (0010) also accepts a partition of a listed
  table (and skips a name that does not exist): a refresh analyzes the region's partition it
  rewrote, not the parent, whose ANALYZE re-samples every region's partition.

SQLite gets the same columns, keys and foreign keys, no partitions and no row-level security.
Every row whose school exists is kept (aggregates of a school that no longer exists could not
satisfy the foreign key; the next read recomputes nothing for them). The downgrade restores
0009's tables, triggers and grants, keeping every row.

Revision ID: 0011
Revises: 0010_aggregate_statistics
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0011_aggregate_regions"
down_revision = "0010_aggregate_statistics"
branch_labels = None
depends_on = None

#: Aggregates partitioned by region on PostgreSQL (they grow with teachers).
PARTITIONED = ("teacher_progress", "teacher_mastery")
#: Every table this revision rebuilds, in rebuild order.
AGGREGATES = (
    "school_progress",
    "school_grades",
    "school_grades_fresh",
    "progress_dirty",
    *PARTITIONED,
    "school_monthly",
    "mastery_dirty",
)
#: Every table partitioned by region after this revision (0007, 0008 and this one).
ALL_PARTITIONED = ("events", "grades", "responses", "recommendation_lists", *PARTITIONED)
_OLD_PARTITIONED = ALL_PARTITIONED[:4]

_SETTING = "(SELECT current_setting('nengli.region', true))"
_IN_REGION = f"({_SETTING} = '*' OR region = {_SETTING})"


def partition_name(table: str, region: str) -> str:
    """Name of ``region``'s partition of ``table`` (as ``nengli_region_partitions`` makes it)."""
    return f"{table}_r" + hashlib.sha256(region.encode("utf-8")).hexdigest()[:12]


def _partition_function(parents: tuple[str, ...], *, private: bool) -> str:
    """``nengli_region_partitions`` over ``parents``; ``private``: the API role gets no grant
    on a partition it makes (the schema's default privileges would give one)."""
    listed = ", ".join(f"'{p}'" for p in parents)
    revoke = (
        "\n        EXECUTE format('REVOKE ALL ON %I FROM nengli_api', part);" if private else ""
    )
    return f"""CREATE OR REPLACE FUNCTION nengli_region_partitions(p_region text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    parent text;
    part text;
    crowded boolean;
BEGIN
    FOREACH parent IN ARRAY ARRAY[{listed}] LOOP
        part := parent || '_r' || left(encode(sha256(convert_to(p_region, 'UTF8')), 'hex'), 12);
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE region = %L)',
                       parent || '_default', p_region) INTO crowded;
        IF crowded THEN
            -- Rows of the region wait in the default partition: move them, then attach.
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           part, parent);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE region = %L RETURNING *) '
                           'INSERT INTO %I SELECT * FROM moved', parent || '_default', p_region,
                           part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)',
                           parent, part, p_region);
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)',
                           part, parent, p_region);
        END IF;{revoke}
    END LOOP;
END $$"""


#: 0010's list of the tables ``nengli_analyze`` may analyze.
_ANALYZED = (
    "school_progress",
    "school_grades",
    "school_grades_fresh",
    "region_grades",
    "progress_dirty",
    "teacher_progress",
    "school_monthly",
    "teacher_mastery",
    "mastery_dirty",
)


def _analyze_function(*, partitions: bool) -> str:
    """``nengli_analyze`` as 0010 made it, or (``partitions``) also for a partition of a listed
    table, skipping names that do not exist (a region whose partitions are not made yet)."""
    allowed = ", ".join(f"'{table}'" for table in _ANALYZED)
    check = f"name = ANY (ARRAY[{allowed}])"
    skip = ""
    if partitions:
        check = (
            f"({check} OR EXISTS (SELECT 1 FROM pg_inherits i "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE i.inhrelid = to_regclass(name) "
            f"AND p.oid = ANY (ARRAY[{allowed}]::regclass[])))"
        )
        skip = "\n        CONTINUE WHEN to_regclass(name) IS NULL;"
    return f"""CREATE OR REPLACE FUNCTION nengli_analyze(p_tables text[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY p_tables LOOP{skip}
        IF NOT {check} THEN
            RAISE EXCEPTION 'nengli_analyze: % is not an aggregate table', name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('ANALYZE %I', name);
    END LOOP;
END $$"""


# --- the trigger functions (PostgreSQL) and triggers (SQLite) that mark stale schools --------

_SCHOOL_OF_TEACHER = (
    "FROM changed c JOIN teachers t ON t.teacher_id = c.teacher_id "
    "JOIN schools s ON s.school_id = t.school_id"
)
_NEW_FUNCTIONS = {
    f"{mark}_dirty_by_teacher": f"INSERT INTO {mark}_dirty (region, school_id) SELECT DISTINCT "
    f"s.region, s.school_id {_SCHOOL_OF_TEACHER} ON CONFLICT DO NOTHING"
    for mark in ("progress", "mastery")
} | {
    f"{mark}_dirty_by_school": f"INSERT INTO {mark}_dirty (region, school_id) SELECT DISTINCT "
    "s.region, s.school_id FROM changed c JOIN schools s ON s.school_id = c.school_id "
    "ON CONFLICT DO NOTHING"
    for mark in ("progress", "mastery")
}
_OLD_FUNCTIONS = {
    f"{mark}_dirty_by_teacher": f"INSERT INTO {mark}_dirty (school_id) SELECT DISTINCT "
    "t.school_id FROM changed c JOIN teachers t ON t.teacher_id = c.teacher_id "
    "ON CONFLICT DO NOTHING"
    for mark in ("progress", "mastery")
} | {
    f"{mark}_dirty_by_school": f"INSERT INTO {mark}_dirty (school_id) SELECT DISTINCT "
    "c.school_id FROM changed c ON CONFLICT DO NOTHING"
    for mark in ("progress", "mastery")
}


def _progress_mark(side: str, *, region: bool) -> str:
    """SQLite: mark the school of ``side``'s teacher in ``progress_dirty`` (0007's trigger)."""
    if not region:
        return (
            "INSERT OR IGNORE INTO progress_dirty SELECT school_id FROM teachers "
            f"WHERE teacher_id = {side}.teacher_id;"
        )
    return (
        "INSERT OR IGNORE INTO progress_dirty (region, school_id) SELECT s.region, s.school_id "
        "FROM teachers t JOIN schools s ON s.school_id = t.school_id "
        f"WHERE t.teacher_id = {side}.teacher_id;"
    )


def _progress_school(school: str, *, region: bool) -> str:
    if not region:
        return f"INSERT OR IGNORE INTO progress_dirty VALUES ({school});"
    return (
        "INSERT OR IGNORE INTO progress_dirty (region, school_id) SELECT region, school_id "
        f"FROM schools WHERE school_id = {school};"
    )


def _mastery_mark(school: str, teacher_side: str | None, *, region: bool) -> str:
    """SQLite: mark a school in ``mastery_dirty`` — the school ``school`` or, with
    ``teacher_side``, the school of that row's teacher. The NOT EXISTS guard is 0009's: inside
    a foreign-key cascade SQLite applies the cascade's ABORT to a conflicting OR IGNORE."""
    if teacher_side is not None:
        school = "s.school_id" if region else "t.school_id"
    guard = f"NOT EXISTS (SELECT 1 FROM mastery_dirty d WHERE d.school_id = {school})"
    if not region:
        source = (
            f"FROM teachers t WHERE t.teacher_id = {teacher_side}.teacher_id AND "
            if teacher_side is not None
            else "WHERE "
        )
        return f"INSERT OR IGNORE INTO mastery_dirty (school_id) SELECT {school} {source}{guard};"
    source = (
        "FROM teachers t JOIN schools s ON s.school_id = t.school_id "
        f"WHERE t.teacher_id = {teacher_side}.teacher_id"
        if teacher_side is not None
        else f"FROM schools s WHERE s.school_id = {school}"
    )
    return (
        "INSERT OR IGNORE INTO mastery_dirty (region, school_id) SELECT s.region, s.school_id "
        f"{source} AND {guard};"
    )


def _sqlite_triggers(*, region: bool) -> dict[str, str]:
    """Every SQLite trigger that writes ``progress_dirty`` or ``mastery_dirty`` (0007–0009)."""
    triggers = {
        f"{table}_dirty_{op_name.lower()}": f"AFTER {op_name} ON {table} BEGIN "
        + _progress_mark(side, region=region)
        + " END"
        for table in ("events", "grades")
        for op_name, side in (("INSERT", "NEW"), ("DELETE", "OLD"))
    }
    triggers |= {
        "teachers_dirty_insert": "AFTER INSERT ON teachers BEGIN "
        f"{_progress_school('NEW.school_id', region=region)} END",
        "teachers_dirty_update": "AFTER UPDATE OF school_id ON teachers BEGIN "
        f"{_progress_school('NEW.school_id', region=region)} "
        f"{_progress_school('OLD.school_id', region=region)} END",
        "teachers_dirty_delete": "AFTER DELETE ON teachers BEGIN "
        f"{_progress_school('OLD.school_id', region=region)} END",
        "teachers_dirty_update_group": "AFTER UPDATE OF research_group ON teachers BEGIN "
        f"{_progress_school('NEW.school_id', region=region)} END",
    }
    triggers |= {
        f"{table}_mastery_{op_name.lower()}": f"AFTER {op_name} ON {table} BEGIN "
        + _mastery_mark("", side, region=region)
        + " END"
        for table in ("events", "grades", "responses")
        for op_name, side in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW"))
    }
    triggers |= {
        "teachers_mastery_insert": "AFTER INSERT ON teachers BEGIN "
        f"{_mastery_mark('NEW.school_id', None, region=region)} END",
        "teachers_mastery_update": "AFTER UPDATE ON teachers BEGIN "
        f"{_mastery_mark('NEW.school_id', None, region=region)} "
        f"{_mastery_mark('OLD.school_id', None, region=region)} END",
        "teachers_mastery_delete": "AFTER DELETE ON teachers BEGIN "
        f"{_mastery_mark('OLD.school_id', None, region=region)} END",
    }
    return triggers


# --- the tables --------------------------------------------------------------------------------


def _string(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=False)


def _integers(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer, nullable=False) for name in names]


def _floats(*names: str) -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Float, nullable=False) for name in names]


def _columns(table: str, *, region: bool) -> list[sa.schema.SchemaItem]:
    """Columns and primary key of an aggregate table with (upgrade) or without its region."""
    place = [_string("region", 64)] if region else []
    if table == "school_progress":
        return [
            _string("school_id", 32),
            _string("basis", 16),
            *place,
            *_integers("n_teachers", "n_started", "n_compliant"),
            *_floats("sum_hours", "sum_practice_hours", "sum_online_hours"),
            sa.PrimaryKeyConstraint("school_id", "basis"),
        ]
    if table == "school_grades":
        return [
            _string("school_id", 32),
            _string("point", 8),
            _string("grade", 8),
            *place,
            *_integers("n_teachers"),
            sa.PrimaryKeyConstraint("school_id", "point", "grade"),
        ]
    if table in ("school_grades_fresh", "progress_dirty", "mastery_dirty"):
        return [_string("school_id", 32), *place, sa.PrimaryKeyConstraint("school_id")]
    if table == "school_monthly":
        return [
            _string("school_id", 32),
            _string("basis", 16),
            _string("research_group", 64),
            _string("month", 7),
            *place,
            *_floats("hours", "practice_hours"),
            *_integers("active_teachers", "completions"),
            sa.PrimaryKeyConstraint("school_id", "basis", "research_group", "month"),
        ]
    if table == "teacher_progress":
        # 0009 gave it a region already (unchecked): kept in both directions.
        return [
            _string("basis", 16),
            _string("teacher_id", 32),
            _string("school_id", 32),
            _string("region", 64),
            *_floats("hours", "practice_hours", "online_hours"),
            *_integers("started", "compliant"),
            *_floats("hours_missing", "behind_order"),
            sa.PrimaryKeyConstraint("basis", "teacher_id", *(["region"] if region else [])),
        ]
    assert table == "teacher_mastery", table
    return [
        _string("teacher_id", 32),
        _string("school_id", 32),
        *place,
        _string("model_version", 64),
        _string("diagnosed_on", 10),
        sa.Column("mastery", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("teacher_id", *(["region"] if region else [])),
    ]


def _indexes(table: str) -> None:
    if table == "teacher_progress":
        op.create_index("ix_teacher_progress_school", table, ["school_id", "basis"])
        op.create_index(
            "ix_teacher_progress_behind",
            table,
            ["basis", "region", "compliant", "behind_order", "teacher_id"],
        )
    elif table == "teacher_mastery":
        op.create_index("ix_teacher_mastery_school_id", table, ["school_id"])


def _plain_columns(table: str) -> list[str]:
    """The columns both versions of ``table`` share (what is copied either way; the upgrade
    takes the region from the school, also for ``teacher_progress``'s own)."""
    return [c.name for c in _columns(table, region=False) if isinstance(c, sa.Column)]


def _rebuild(table: str, *, region: bool, postgres: bool, regions: list[str]) -> None:
    """Make ``table`` again with or without its region (partitioned: PostgreSQL, upgrade)."""
    new = f"{table}_new"
    partitioned = postgres and region and table in PARTITIONED
    options = {"postgresql_partition_by": "LIST (region)"} if partitioned else {}
    keys: list[sa.schema.SchemaItem] = []
    if region:
        keys.append(
            sa.ForeignKeyConstraint(
                ["region", "school_id"],
                ["schools.region", "schools.school_id"],
                name=f"fk_{table}_school",
                ondelete="CASCADE",
                onupdate="CASCADE",
            )
        )
    op.create_table(
        new,
        *_columns(table, region=region),
        *keys,
        **options,  # type: ignore[arg-type]
    )
    if partitioned:
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT")
        for name in regions:
            quoted = name.replace("'", "''")
            op.execute(
                f"CREATE TABLE {partition_name(table, name)} PARTITION OF {new} "
                f"FOR VALUES IN ('{quoted}')"
            )
    shared = _plain_columns(table)
    columns = ", ".join(f'"{c}"' for c in shared)
    if region:
        source = ", ".join(f'x."{c}"' for c in shared if c != "region")
        target = ", ".join(f'"{c}"' for c in shared if c != "region")
        # The school's region (the foreign key's), also for teacher_progress's own copy.
        op.execute(
            f"INSERT INTO {new} ({target}, region) SELECT {source}, s.region FROM {table} x "
            "JOIN schools s ON s.school_id = x.school_id"
        )
    else:
        op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {table}")
    op.drop_table(table)
    op.rename_table(new, table)
    if postgres:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey")
    _indexes(table)


def _children(parents: tuple[str, ...]) -> list[str]:
    """Every partition of ``parents`` in the current schema."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = ANY(:parents) AND p.relnamespace = current_schema()::regnamespace "
            "ORDER BY 1"
        ),
        {"parents": list(parents)},
    )
    return [str(name) for name in rows.scalars()]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    regions = [
        str(r)
        for r in op.get_bind().execute(sa.text("SELECT DISTINCT region FROM schools")).scalars()
    ]
    op.create_index("uq_schools_region_school", "schools", ["region", "school_id"], unique=True)
    if not postgres:
        # SQLite checks every trigger body when a table is renamed: the ones naming the
        # rebuilt tables go first and come back with the region.
        for name in _sqlite_triggers(region=False):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in AGGREGATES:
        _rebuild(table, region=True, postgres=postgres, regions=regions)
    if not postgres:
        for name, body in _sqlite_triggers(region=True).items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for name, body in _NEW_FUNCTIONS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
    op.execute(_partition_function(ALL_PARTITIONED, private=True))
    op.execute(_analyze_function(partitions=True))
    for name in regions:  # regions of schools without rows yet get their partitions too
        op.execute(sa.text("SELECT nengli_region_partitions(:r)").bindparams(r=name))
    for table in AGGREGATES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO nengli_api")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_by_region ON {table} USING {_IN_REGION} WITH CHECK {_IN_REGION}"
        )
    # A policy binds only through the parent: the role reaches a partition only that way.
    for child in _children(ALL_PARTITIONED):
        op.execute(f"REVOKE ALL ON {child} FROM nengli_api")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in AGGREGATES:
            op.execute(f"DROP POLICY IF EXISTS {table}_by_region ON {table}")
        # 0008's function, and its grants on the partitions it had (restored as they were).
        op.execute(_partition_function(_OLD_PARTITIONED, private=False))
        op.execute(_analyze_function(partitions=False))
        for name, body in _OLD_FUNCTIONS.items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; "
                "RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
    else:
        for name in _sqlite_triggers(region=True):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in reversed(AGGREGATES):
        _rebuild(table, region=False, postgres=postgres, regions=[])
    op.drop_index("uq_schools_region_school", table_name="schools")
    if not postgres:
        for name, body in _sqlite_triggers(region=False).items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for table in AGGREGATES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO nengli_api")
    for child in _children(_OLD_PARTITIONED):
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {child} TO nengli_api")
