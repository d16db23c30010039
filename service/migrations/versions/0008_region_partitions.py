"""Region on every row that grows with teachers; on PostgreSQL those tables partitioned by region.

What grows with teachers, per teacher of a province: ~60 ``events``, ~30 ``responses``, a few
``grades`` (and the batch's ``recommendation_lists``, partitioned since 0007). This revision

* adds ``teachers.region`` (the region of the teacher's school, written by every write path;
  a school that changes region rewrites its teachers') with the unique key
  ``(region, teacher_id)``;
* rebuilds ``responses``, ``grades`` and ``events`` with a ``region`` column (copied from the
  teacher) whose keys include it — ``responses`` (teacher_id, item_id, region), ``grades``
  (teacher_id, point, assessed_at, region), ``events`` (tenant, event_id, region) — and a
  composite foreign key ``(region, teacher_id) → teachers`` with ``ON UPDATE CASCADE``, so a
  teacher (or school) moving region moves the teacher's rows with it;
* PostgreSQL only: those three tables become ``PARTITION BY LIST (region)`` with a default
  partition and one partition per region of ``schools``; the function
  ``nengli_region_partitions(region)`` (security definer, so the API role may call it) makes a
  region's partitions of all four partitioned tables when a school of a new region is written
  (moving rows the default partition may hold for it); row-level security is rewritten
  fail-closed with ``USING`` and ``WITH CHECK`` on every table with a region column: a
  non-owner session sees and writes only the region in ``nengli.region``, every region when it
  is ``*`` (admin keys), nothing when it is unset. ``nengli_api`` gets default privileges on
  tables and sequences created later.

``teachers`` itself stays one table: PostgreSQL cannot enforce a unique key that lacks the
partition key, and a teacher id is unique across regions (the API resolves a teacher by id
alone). SQLite gets the same columns, keys and foreign keys (one write path for both), no
partitions and no row-level security. Every row is kept; ``events.id`` and ``grades.id`` keep
their values and sequences.

Revision ID: 0008
Revises: 0008_key_lifecycle
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008_region_partitions"
down_revision = "0008_key_lifecycle"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_OLD_EVENT_KEY = "uq_events_tenant_event_id"
#: The tables this revision rebuilds, in the order of their rebuild.
REBUILT = ("responses", "grades", "events")
#: Every PostgreSQL table partitioned by region (``recommendation_lists`` since 0007).
PARTITIONED = (*REBUILT, "recommendation_lists")

# A scalar subquery, so the setting is read once per statement (an InitPlan), not per row:
# the bare function call in a policy cost the first region read 1.9× its time (docs/benchmarks.md).
_SETTING = "(SELECT current_setting('nengli.region', true))"
_IN_REGION = f"({_SETTING} = '*' OR region = {_SETTING})"
_REGION_TABLES = (
    "schools",
    "teachers",
    *REBUILT,
    "recommendation_lists",
    "list_versions",
    "list_pointers",
    "region_grades",
)
# The policies of 0007, restored by the downgrade.
_OLD_SETTING = "nullif(current_setting('nengli.region', true), '')"
_OLD_IN_REGION = f"({_OLD_SETTING} IS NULL OR region = {_OLD_SETTING})"
_OLD_BY_TEACHER = f"({_OLD_SETTING} IS NULL OR teacher_id IN (SELECT teacher_id FROM teachers))"
_OLD_POLICIES = {
    "schools": _OLD_IN_REGION,
    "recommendation_lists": _OLD_IN_REGION,
    "list_versions": _OLD_IN_REGION,
    "list_pointers": _OLD_IN_REGION,
    "region_grades": _OLD_IN_REGION,
    "teachers": f"({_OLD_SETTING} IS NULL OR school_id IN (SELECT school_id FROM schools))",
    "events": _OLD_BY_TEACHER,
    "grades": _OLD_BY_TEACHER,
    "responses": _OLD_BY_TEACHER,
}

_SQLITE_TRIGGERS = {
    "events": {
        "events_dirty_insert": "AFTER INSERT ON events BEGIN INSERT OR IGNORE INTO "
        "progress_dirty SELECT school_id FROM teachers WHERE teacher_id = NEW.teacher_id; END",
        "events_dirty_delete": "AFTER DELETE ON events BEGIN INSERT OR IGNORE INTO "
        "progress_dirty SELECT school_id FROM teachers WHERE teacher_id = OLD.teacher_id; END",
    },
    "grades": {
        "grades_dirty_insert": "AFTER INSERT ON grades BEGIN INSERT OR IGNORE INTO "
        "progress_dirty SELECT school_id FROM teachers WHERE teacher_id = NEW.teacher_id; END",
        "grades_dirty_delete": "AFTER DELETE ON grades BEGIN INSERT OR IGNORE INTO "
        "progress_dirty SELECT school_id FROM teachers WHERE teacher_id = OLD.teacher_id; END",
    },
}
_POSTGRES_TRIGGERS = {
    "events": [("events_dirty_insert", "INSERT", "NEW"), ("events_dirty_delete", "DELETE", "OLD")],
    "grades": [("grades_dirty_insert", "INSERT", "NEW"), ("grades_dirty_delete", "DELETE", "OLD")],
}

_PARTITION_FUNCTION = """CREATE OR REPLACE FUNCTION nengli_region_partitions(p_region text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    parent text;
    part text;
    crowded boolean;
BEGIN
    FOREACH parent IN ARRAY ARRAY['events', 'grades', 'responses', 'recommendation_lists'] LOOP
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
        END IF;
    END LOOP;
END $$"""


def partition_name(table: str, region: str) -> str:
    """Name of ``region``'s partition of ``table`` (as ``nengli_region_partitions`` makes it)."""
    return f"{table}_r" + hashlib.sha256(region.encode("utf-8")).hexdigest()[:12]


def _columns(table: str, *, region: bool, postgres: bool) -> list[sa.schema.SchemaItem]:
    """Columns and keys of a rebuilt table, with (upgrade) or without (downgrade) its region."""
    teacher = sa.Column("teacher_id", sa.String(32), nullable=False)
    place = [sa.Column("region", sa.String(64), nullable=False)] if region else []
    if table == "responses":
        key = ["teacher_id", "item_id", *(["region"] if region else [])]
        return [
            teacher,
            sa.Column("item_id", sa.String(16), nullable=False),
            *place,
            sa.Column("response", sa.Float, nullable=False),
            sa.Column("answered_at", TZ, nullable=False),
            sa.PrimaryKeyConstraint(*key),
        ]
    if postgres:
        # The old sequence, kept: ids do not change and new rows continue the numbering.
        ident = sa.Column(
            "id", sa.Integer, nullable=False, server_default=sa.text(f"nextval('{table}_id_seq')")
        )
        pk = sa.PrimaryKeyConstraint("id", *(["region"] if region else []))
    else:
        ident = sa.Column("id", sa.Integer, autoincrement=True)
        pk = sa.PrimaryKeyConstraint("id")
    if table == "grades":
        return [
            ident,
            *place,
            teacher,
            sa.Column("point", sa.String(8), nullable=False),
            sa.Column("grade", sa.String(8), nullable=False),
            sa.Column("assessed_at", TZ, nullable=False),
            pk,
        ]
    return [
        ident,
        *place,
        sa.Column("tenant", sa.String(96), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        teacher,
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(32)),
        sa.Column("point", sa.String(8)),
        sa.Column("value", sa.Float),
        sa.Column("grade", sa.String(8)),
        sa.Column("timestamp", TZ, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        pk,
        # 0001's key, restored by the downgrade (SQLite adds a constraint only with its table).
        *([] if region else [sa.UniqueConstraint("tenant", "event_id", name=_OLD_EVENT_KEY)]),
    ]


def _foreign_key(table: str, *, region: bool) -> sa.ForeignKeyConstraint:
    if region:
        return sa.ForeignKeyConstraint(
            ["region", "teacher_id"],
            ["teachers.region", "teachers.teacher_id"],
            name=f"fk_{table}_teacher",
            ondelete="CASCADE",
            onupdate="CASCADE",
        )
    return sa.ForeignKeyConstraint(
        ["teacher_id"], ["teachers.teacher_id"], name=f"fk_{table}_teacher", ondelete="CASCADE"
    )


def _indexes(table: str, *, region: bool) -> None:
    if table == "grades":
        op.create_index("ix_grades_teacher", "grades", ["teacher_id"])
        if region:
            op.create_index(
                "uq_grades_teacher_point_at_region",
                "grades",
                ["teacher_id", "point", "assessed_at", "region"],
                unique=True,
            )
        else:
            op.create_index(
                "uq_grades_teacher_point_at",
                "grades",
                ["teacher_id", "point", "assessed_at"],
                unique=True,
            )
    elif table == "events":
        op.create_index("ix_events_teacher", "events", ["teacher_id"])
        if region:
            op.create_index(
                "uq_events_tenant_event_id_region",
                "events",
                ["tenant", "event_id", "region"],
                unique=True,
            )


def _copy_columns(table: str) -> list[str]:
    return [
        c.name for c in _columns(table, region=False, postgres=False) if isinstance(c, sa.Column)
    ]


def _rebuild(table: str, *, region: bool, postgres: bool, regions: list[str]) -> None:
    """Make ``table`` again with or without its region column, keeping every row."""
    new = f"{table}_new"
    if postgres and table != "responses":
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    options = {"postgresql_partition_by": "LIST (region)"} if postgres and region else {}
    op.create_table(
        new,
        *_columns(table, region=region, postgres=postgres),
        _foreign_key(table, region=region),
        **options,  # type: ignore[arg-type]
    )
    if options:
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT")
        for name in regions:
            quoted = name.replace("'", "''")
            op.execute(
                f"CREATE TABLE {partition_name(table, name)} PARTITION OF {new} "
                f"FOR VALUES IN ('{quoted}')"
            )
    columns = ", ".join(f'"{c}"' for c in _copy_columns(table))
    source = ", ".join(f'x."{c}"' for c in _copy_columns(table))
    if region:
        op.execute(
            f"INSERT INTO {new} ({columns}, region) SELECT {source}, t.region FROM {table} x "
            "JOIN teachers t ON t.teacher_id = x.teacher_id"
        )
    else:
        op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {table}")
    op.drop_table(table)
    op.rename_table(new, table)
    if postgres:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey")
        if table != "responses":
            op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
            op.execute(
                f"SELECT setval('{table}_id_seq', COALESCE((SELECT max(id) FROM {table}), 0) + 1,"
                " false)"
            )
    _indexes(table, region=region)
    _triggers(table, postgres=postgres)


def _triggers(table: str, *, postgres: bool) -> None:
    if postgres:
        for trigger, operation, side in _POSTGRES_TRIGGERS.get(table, []):
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {operation} ON {table} REFERENCING {side} "
                "TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION progress_dirty_by_teacher()"
            )
    else:
        for trigger, body in _SQLITE_TRIGGERS.get(table, {}).items():
            op.execute(f"CREATE TRIGGER {trigger} {body}")


def _schema() -> str:
    return str(op.get_bind().execute(sa.text("SELECT current_schema()")).scalar())


def _grant(schema: str) -> None:
    op.execute(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO nengli_api'
    )
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO nengli_api')
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO nengli_api"
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT USAGE, SELECT ON SEQUENCES '
        "TO nengli_api"
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    regions = [
        str(r)
        for r in op.get_bind().execute(sa.text("SELECT DISTINCT region FROM schools")).scalars()
    ]
    if postgres:
        for table in _OLD_POLICIES:
            op.execute(f"DROP POLICY IF EXISTS {table}_by_region ON {table}")
        # Filling the new column is no change of school: no stale aggregates.
        op.execute("ALTER TABLE teachers DISABLE TRIGGER USER")
        op.add_column("teachers", sa.Column("region", sa.String(64)))
        op.execute(
            "UPDATE teachers t SET region = s.region FROM schools s WHERE s.school_id = t.school_id"
        )
        op.execute("ALTER TABLE teachers ALTER COLUMN region SET NOT NULL")
        op.execute("ALTER TABLE teachers ENABLE TRIGGER USER")
    else:
        # SQLite adds a NOT NULL column only with a default; every row is filled at once.
        op.add_column(
            "teachers",
            sa.Column("region", sa.String(64), nullable=False, server_default=""),
        )
        op.execute(
            "UPDATE teachers SET region = "
            "(SELECT region FROM schools WHERE schools.school_id = teachers.school_id)"
        )
    op.create_index("uq_teachers_region_teacher", "teachers", ["region", "teacher_id"], unique=True)
    for table in REBUILT:
        _rebuild(table, region=True, postgres=postgres, regions=regions)
    if not postgres:
        return
    op.execute(_PARTITION_FUNCTION)
    for name in regions:  # the lists' partitions of regions without lists yet
        op.execute(sa.text("SELECT nengli_region_partitions(:r)").bindparams(r=name))
    op.execute("REVOKE ALL ON FUNCTION nengli_region_partitions(text) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION nengli_region_partitions(text) TO nengli_api")
    _grant(_schema())
    for table in _REGION_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_by_region ON {table} USING {_IN_REGION} WITH CHECK {_IN_REGION}"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in _REGION_TABLES:
            op.execute(f"DROP POLICY IF EXISTS {table}_by_region ON {table}")
        schema = _schema()
        op.execute(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
            "REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM nengli_api"
        )
        op.execute(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE USAGE, SELECT ON SEQUENCES '
            "FROM nengli_api"
        )
        op.execute("DROP FUNCTION IF EXISTS nengli_region_partitions(text)")
    for table in reversed(REBUILT):
        _rebuild(table, region=False, postgres=postgres, regions=[])
    op.drop_index("uq_teachers_region_teacher", table_name="teachers")
    if postgres:
        op.drop_column("teachers", "region")
        for table in _REGION_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY {table}_by_region ON {table} USING {_OLD_POLICIES[table]}")
    else:
        # A native DROP COLUMN (SQLite >= 3.35): rebuilding ``teachers`` would cascade.
        op.execute("ALTER TABLE teachers DROP COLUMN region")
