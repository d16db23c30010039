"""Benchmark: region, city, district and school dashboards on PostgreSQL at N teachers.

Phases:

1. a fresh PostgreSQL schema migrated to head (``--database-url``; the schema is dropped and
   made again), filled by a synthetic loader in SQL (``generate_series``: the simulator and the
   import path are far slower than the database at a million teachers): ``--schools`` schools in
   13 cities and 97 districts, N teachers, ``--events`` learning events per teacher (an
   enrolment, then completions and progress on catalog items picked by a seeded hash) and two
   grades per teacher; the rows pass the same triggers as an import. ``--other-regions K``
   loads K more regions of the same size beside it (a national database: on a schema at
   migration 0008 each region has its own partitions);
2. the measured region's events read in SQL, through its schools and — when the schema has
   the region columns of 0008 — by region (one partition), so a run on a schema before and
   one after partitioning compare the same rows;
3. the app (``create_app``) over that database with a small trained model, driven in-process
   through Starlette's test client (HTTP stack, key check, tenancy, audit; no sockets);
4. the first region read, which computes every school's aggregates (the cost paid once after a
   large import), then ``--requests`` requests per endpoint (p50/p95/max): region progress,
   breakdown by city, district and school, trends, rollout, the first page of the region's and
   a district's 未达标名单 and, for random schools, school progress, 未达标名单, trends, portrait
   and plan (and, with ``--pairing-requests``, the region's pairing and, for random schools,
   school pairing); then events for ``--touched`` schools and the next region read (the
   incremental refresh of the schools they marked stale) and, with pairing, the next region
   pairing (those schools diagnosed again, the pairing recomputed).

Usage::

    python -m bench.bench_dashboards --small                      # seconds
    python -m bench.bench_dashboards --teachers 1000000 --schools 10000
    python -m bench.bench_dashboards --teachers 100000 --schools 1000 --other-regions 3

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REGION = "江苏"


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def fresh_schema(base_url: str, schema: str) -> str:
    """Drop and create ``schema``; the URL that works in it."""
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return _schema_url(base_url, schema)


#: Regions loaded beside the measured one by ``--other-regions`` (the rest of a national database).
OTHER_REGIONS = ("浙江", "安徽", "山东", "河南", "湖北", "湖南", "广东", "四川")


def _columns(connection: Any, table: str) -> set[str]:
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = :t AND table_schema = current_schema()"
        ),
        {"t": table},
    )
    return {str(name) for name in rows.scalars()}


def synthetic_load(
    url: str, teachers: int, schools: int, events: int, seed: int, other_regions: int = 0
) -> dict[str, float]:
    """Fill the migrated schema with SQL ``generate_series`` rows; seconds per table.

    The measured region keeps the ids ``S000001…``/``T0000001…``; region ``k`` of
    ``--other-regions`` (same sizes) gets ``S<k>…``/``T<k>…``. Where the schema has region
    columns on teachers, events and grades (migration 0008), they are filled as the write path
    fills them, after the region's partitions were made.
    """
    from sqlalchemy import text

    from competency_model.catalog import load_catalog
    from competency_model.framework import RATINGS, default_framework
    from service.db.engine import make_engine
    from service.db.migrate import upgrade_database

    framework = default_framework()
    items = [item.item_id for item in load_catalog(framework=framework)]
    engine = make_engine(url)
    upgrade_database(engine)
    with engine.connect() as connection:
        regional = "region" in _columns(connection, "events")
    place = ", region" if regional else ""
    value = ", :region" if regional else ""
    timings: dict[str, float] = {}
    statements = {
        "schools": """INSERT INTO schools (school_id, region, city, district, urban_rural,
                environment, chosen_points, rollout_batch, updated_at)
            SELECT 'S' || :prefix || lpad(i::text, 6, '0'), :region, 'city' || (i % 13),
                   'district' || (i % 97), 'urban',
                   (ARRAY['multimedia', 'blended', 'smart'])[1 + i % 3], '', 1 + i % 3, now()
            FROM generate_series(1, :schools) AS i""",
        "teachers": f"""INSERT INTO teachers (teacher_id, school_id, stage, subject,
                years_of_service, research_group, updated_at{place})
            SELECT 'T' || :prefix || lpad(i::text, 7, '0'),
                   'S' || :prefix || lpad((1 + i % :schools)::text, 6, '0'),
                   '小学', '数学', 1 + i % 30, '小学数学组', now(){value}
            FROM generate_series(1, :teachers) AS i""",
        "events": f"""INSERT INTO events (tenant, event_id, teacher_id, event, item_id, value,
                timestamp, content_hash, received_at{place})
            SELECT 'platform:' || :region, 'e' || i || '-' || j,
                   'T' || :prefix || lpad(i::text, 7, '0'),
                   CASE WHEN j = 1 THEN 'enrol' WHEN (i + j + :seed) % 3 = 0 THEN 'progress'
                        ELSE 'complete' END,
                   (CAST(:items AS text[]))[1 + ((i::bigint * 7919 + j * 104729 + :seed) % :n_items)],
                   NULL, now() - (j || ' days')::interval, md5(i || '-' || j), now(){value}
            FROM generate_series(1, :teachers) AS i, generate_series(1, :events) AS j""",
        "grades": f"""INSERT INTO grades (teacher_id, point, grade, assessed_at{place})
            SELECT 'T' || :prefix || lpad(i::text, 7, '0'),
                   (CAST(:codes AS text[]))[1 + ((i + j * 11 + :seed) % 30)],
                   (CAST(:ratings AS text[]))[1 + ((i * 31 + j + :seed) % 3)],
                   now() - (j || ' days')::interval{value}
            FROM generate_series(1, :teachers) AS i, generate_series(1, 2) AS j""",
    }
    params = {
        "schools": schools,
        "teachers": teachers,
        "events": events,
        "seed": seed,
        "items": items,
        "n_items": len(items),
        "codes": list(framework.codes),
        "ratings": list(RATINGS),
    }
    regions = [("", REGION)] + [(str(k + 1), OTHER_REGIONS[k]) for k in range(other_regions)]
    for prefix, region in regions:
        if regional:
            with engine.begin() as connection:
                connection.execute(text("SELECT nengli_region_partitions(:r)"), {"r": region})
        for table, statement in statements.items():
            started = time.perf_counter()
            with engine.begin() as connection:
                connection.execute(text(statement), {**params, "prefix": prefix, "region": region})
            timings[table] = round(timings.get(table, 0.0) + time.perf_counter() - started, 1)
    # VACUUM as well: rows loaded in bulk carry no hint bits yet, so the first read of every
    # heap page would set them and write the page back (at 1 M teachers this alone made a
    # random teacher's list read 3× slower: 1,019 → 3,167 calls/s, pgbench, 2026-12-04);
    # autovacuum does the same after a real import, some time later.
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
    timings["analyze"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return timings


def region_scans(url: str, repeats: int) -> dict[str, Any]:
    """The measured region's events read in SQL: through its schools, and (0008) by region.

    The first is what a dashboard aggregate that joins events to the region's teachers reads;
    the second is the same rows named by the partition key, which PostgreSQL answers from the
    region's partition alone. Median of ``repeats`` runs each, after one warm run.
    """
    from sqlalchemy import text

    from service.db.engine import make_engine

    queries = {
        "events_via_schools": "SELECT count(*), count(DISTINCT e.teacher_id) FROM events e "
        "JOIN teachers t ON t.teacher_id = e.teacher_id "
        "JOIN schools s ON s.school_id = t.school_id WHERE s.region = :region",
    }
    engine = make_engine(url)
    results: dict[str, Any] = {}
    with engine.connect() as connection:
        if "region" in _columns(connection, "events"):
            queries["events_by_region"] = (
                "SELECT count(*), count(DISTINCT e.teacher_id) FROM events e "
                "WHERE e.region = :region"
            )
            queries["events_via_schools_and_region"] = (
                "SELECT count(*), count(DISTINCT e.teacher_id) FROM events e "
                "JOIN teachers t ON t.teacher_id = e.teacher_id AND t.region = e.region "
                "JOIN schools s ON s.school_id = t.school_id "
                "WHERE s.region = :region AND e.region = :region"
            )
        for name, sql in queries.items():
            connection.execute(text(sql), {"region": REGION}).one()
            seconds = []
            for _ in range(repeats):
                started = time.perf_counter()
                rows, _teachers = connection.execute(text(sql), {"region": REGION}).one()
                seconds.append(time.perf_counter() - started)
            results[name] = {
                "rows": int(rows),
                "median_ms": round(1000 * float(np.median(seconds)), 1),
            }
    engine.dispose()
    return results


def small_model(directory: Path, seed: int) -> Path:
    """A model trained on a small simulated province (cached): the portrait diagnoses with it."""
    from recommender.training import train_model_dir
    from training_data.simulator.writer import write_simulated_province

    model_dir = directory / "model"
    if not (model_dir / "metadata.json").is_file():
        write_simulated_province(directory / "province", 300, 6, seed)
        train_model_dir(directory / "province", model_dir, seed=seed)
    return model_dir


def _stats(samples: list[tuple[float, float]]) -> dict[str, float]:
    values = np.array([wall for wall, _ in samples]) * 1000
    cpu = np.array([used for _, used in samples]) * 1000
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
        # CPU of this process (HTTP stack, app, driver) only: the server's time is not in it.
        "app_cpu_p95_ms": round(float(np.percentile(cpu, 95)), 1),
    }


def measure(
    url: str,
    model_dir: Path,
    schools: int,
    requests: int,
    touched: int,
    seed: int,
    pairing_requests: int = 0,
) -> dict[str, Any]:
    """Phases 2 and 3."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from service.app import create_app
    from service.auth import create_key
    from service.settings import Settings

    app = create_app(Settings(database_url=url, model_dir=model_dir, rate_limit_per_minute=0))
    rng = np.random.default_rng(seed)
    results: dict[str, Any] = {}
    with TestClient(app, raise_server_exceptions=True) as client:
        state = app.state.nengli
        with state.sessions() as session:
            token = create_key(session, "admin", label="bench")[0]
            session.commit()
        header = {"Authorization": f"Bearer {token}"}

        def get(path: str, **params: Any) -> tuple[float, float]:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(path, params=params, headers=header)
            elapsed = time.perf_counter() - started, time.process_time() - cpu
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
            return elapsed

        def school() -> str:
            return f"/v1/schools/S{int(rng.integers(1, schools + 1)):06d}"

        # Portraits and plans rotate over a few schools, each visited once before the timed
        # calls: a repeat visit reads the stored mastery; the first visit's diagnosis of the
        # school is reported apart ("first_visit_s").
        revisited = [
            f"/v1/schools/S{int(n):06d}" for n in rng.choice(schools, 5, replace=False) + 1
        ]
        turn = iter(range(10**9))

        def revisit() -> str:
            return revisited[next(turn) % len(revisited)]

        region = f"/v1/regions/{REGION}"
        results["first_region_read_s"] = round(get(f"{region}/progress")[0], 2)
        endpoints: dict[str, Any] = {
            "region_progress": lambda: get(f"{region}/progress"),
            "breakdown_city": lambda: get(f"{region}/breakdown", level="city"),
            "breakdown_district": lambda: get(f"{region}/breakdown", level="district"),
            "breakdown_school": lambda: get(f"{region}/breakdown", level="school"),
            "breakdown_one_city": lambda: get(
                f"{region}/breakdown", level="school", city=f"city{int(rng.integers(13))}"
            ),
            "region_trends": lambda: get(f"{region}/trends"),
            "region_rollout": lambda: get(f"{region}/rollout"),
            # First page (the service's default size, 500 rows) of the region's 未达标名单.
            "region_behind": lambda: get(f"{region}/behind"),
            "district_behind": lambda: get(
                f"{region}/behind",
                city=f"city{int(rng.integers(13))}",
                district=f"district{int(rng.integers(97))}",
            ),
            "school_progress": lambda: get(f"{school()}/progress"),
            "school_behind": lambda: get(f"{school()}/behind"),
            "school_trends": lambda: get(f"{school()}/trends"),
            "school_portrait": lambda: get(f"{revisit()}/portrait"),
            "school_plan": lambda: get(f"{revisit()}/plan"),
        }
        firsts = [get(f"{path}/portrait")[0] for path in revisited]
        results["school_portrait_first_visit_s"] = round(float(np.median(firsts)), 2)
        if pairing_requests:
            started = time.perf_counter()
            # The first one diagnoses every teacher of the region and stores the mastery, as
            # after an import; the portraits and plans below then read stored rows.
            get(f"{region}/pairing")
            results["region_pairing"] = {"warm_s": round(time.perf_counter() - started, 2)}
            samples = [get(f"{region}/pairing") for _ in range(pairing_requests)]
            results["region_pairing"].update(_stats(samples))
            # A school's pairs, for random schools: the region's stored result, filtered.
            started = time.perf_counter()
            get(f"{school()}/pairing")
            results["school_pairing"] = {"warm_s": round(time.perf_counter() - started, 2)}
            samples = [get(f"{school()}/pairing") for _ in range(requests)]
            results["school_pairing"].update(_stats(samples))
        for name, call in endpoints.items():
            started = time.perf_counter()
            call()  # warm (first policy basis of a level, statement caches)
            results[name] = {"warm_s": round(time.perf_counter() - started, 2)}
            results[name].update(_stats([call() for _ in range(requests)]))
        tag = uuid.uuid4().hex[:8]
        batch = [
            {
                "event_id": f"bench-{tag}-{n}",
                "teacher_id": f"T{n + 1:07d}",
                "event": "complete",
                "item_id": "CRS-0001",
                "timestamp": datetime.now(UTC).isoformat(),
            }
            for n in range(touched)
        ]
        posted = client.post("/v1/events", json={"events": batch}, headers=header)
        if posted.status_code != 200:
            raise RuntimeError(f"events: {posted.status_code} {posted.text[:300]}")
        results["region_progress_after_events"] = {
            "touched_schools": min(touched, schools),
            "seconds": round(get(f"{region}/progress")[0], 3),
        }
        if pairing_requests:
            # The touched schools are diagnosed again and the region's pairing recomputed.
            results["region_pairing_after_events"] = {
                "touched_schools": min(touched, schools),
                "seconds": round(get(f"{region}/pairing")[0], 3),
            }
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Dashboards at province scale on PostgreSQL.")
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=12, help="Events per teacher.")
    parser.add_argument("--requests", type=int, default=30, help="Requests per endpoint.")
    parser.add_argument("--touched", type=int, default=20, help="Schools given new events.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pairing-requests",
        type=int,
        default=0,
        help="Timed region pairing requests (0: no pairing; school pairing gets --requests).",
    )
    parser.add_argument("--tag", default="", help="Suffix of the schema name (parallel runs).")
    parser.add_argument(
        "--other-regions",
        type=int,
        default=0,
        choices=range(len(OTHER_REGIONS) + 1),
        help="Regions of the same size loaded beside the measured one (a national database).",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("NENGLI_BENCH_POSTGRES_URL", DEFAULT_URL),
        help="PostgreSQL server database (a schema of its own is made in it).",
    )
    parser.add_argument("--small", action="store_true", help="5,000 teachers, 10 requests.")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the schema of an earlier run (no reload)."
    )
    parser.add_argument(
        "--keep-aggregates",
        action="store_true",
        help="With --reuse: keep the stored aggregates, mastery and pairing (repeat reads only; "
        "the first reads then cost what a warmed region's do, as after `nengli db warm`).",
    )
    args = parser.parse_args(argv)
    if args.small:
        args.teachers, args.schools, args.requests = 5000, 50, 10
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        with create_engine(args.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = f"no PostgreSQL at --database-url ({type(error.orig).__name__})"
        print(json.dumps({"benchmark": "dashboards", "skipped": reason}))
        return
    directory = ROOT / "bench" / "out" / "dashboards"
    directory.mkdir(parents=True, exist_ok=True)
    model_dir = small_model(directory, args.seed)
    schema = f"bench_dashboards_{args.teachers}_{args.other_regions}{args.tag}"
    load: dict[str, float] = {}
    if args.reuse and args.keep_aggregates:
        url = _schema_url(args.database_url, schema)
    elif args.reuse:  # aggregates cleared, so the first read again computes every school
        url = _schema_url(args.database_url, schema)
        from sqlalchemy import create_engine as _create

        with _create(url).begin() as connection:
            # Every school stale: the refresh clears whatever aggregate tables this code has.
            connection.execute(text("DELETE FROM school_progress"))
            # Since migration 0011 every mark carries its school's region.
            regional = "region" in _columns(connection, "progress_dirty")
            place = ("region, ", "region, ") if regional else ("", "")
            connection.execute(
                text(
                    f"INSERT INTO progress_dirty ({place[0]}school_id) SELECT {place[1]}school_id "
                    "FROM schools ON CONFLICT DO NOTHING"
                )
            )
            # Since migration 0013: no pairing summary, so the first pairing diagnoses again.
            for table in ("region_pairing", "school_pairing_summary"):
                if _columns(connection, table):
                    connection.execute(text(f"DELETE FROM {table}"))
    else:
        url = fresh_schema(args.database_url, schema)
        started = time.perf_counter()
        load = synthetic_load(
            url, args.teachers, args.schools, args.events, args.seed, args.other_regions
        )
        load["total_s"] = round(time.perf_counter() - started, 1)
    scans = region_scans(url, max(3, args.requests // 5))
    results = measure(
        url,
        model_dir,
        args.schools,
        args.requests,
        args.touched,
        args.seed,
        pairing_requests=args.pairing_requests,
    )
    print(
        json.dumps(
            {
                "benchmark": "dashboards",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
                "database": "PostgreSQL (synthetic rows via generate_series)",
                "teachers": args.teachers,
                "schools": args.schools,
                "events": args.teachers * args.events,
                "other_regions": args.other_regions,
                "partitioned_by_region": "events_by_region" in scans,
                "region_scans": scans,
                "load_seconds": load,
                "results": results,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
