"""Seconds to store a province directory into a fresh database (what ``make demo`` does).

Usage::

    nengli generate --teachers 3000 --schools 40 --seed 1 --out var/bench-province
    python -m bench.bench_store var/bench-province --database-url postgresql+psycopg://…
    python -m bench.bench_store var/bench-province            # SQLite in a temporary file
    python -m bench.bench_store --synthetic-teachers 100000 --events-per-teacher 60 \
        --database-url postgresql+psycopg://…            # a generated 100k-teacher province

``--synthetic-teachers N`` writes a seeded synthetic province (:mod:`bench.synthetic_province`:
the simulator's tables, dtypes and value domains, real catalog ids, written in chunks) into a
temporary directory first — in a child process, so the store's peak RSS is its own — because
the simulator takes hours at a million teachers.

A PostgreSQL URL gets a fresh schema (dropped afterwards), so runs never see each other's rows.
Each table is stored through ``store_tables`` with an admin principal and timed on its own
(rows per second per table), then the whole import is repeated to time the idempotent
re-import (every row a duplicate); the process's peak RSS is reported after reading the
province and at the end.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import create_engine, text

from competency_model.province import MANIFEST_NAME, empty_table, read_province
from service.auth import Principal
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.stores.province import PROVINCE_BATCH_ROWS, store_province, store_tables

TABLES = ("schools", "teachers", "responses", "grades", "events")


def _peak_rss_gb() -> float:
    """This process's peak resident set so far, in GB (``ru_maxrss`` is KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 3)


def _progress(name: str, rows: int, seconds: float) -> None:
    """One line on stderr per stored table, so a long run shows where it is."""
    print(
        f"[bench_store] {name}: {rows} rows in {seconds} s, peak RSS {_peak_rss_gb()} GB, "
        f"load {_load()}",
        file=sys.stderr,
        flush=True,
    )


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _generate(out: Path, args: argparse.Namespace) -> dict[str, object]:
    """Write the synthetic province in a child process; its rows, seconds and peak RSS."""
    from bench.synthetic_province import write_synthetic_province

    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=write_synthetic_province,
        args=(out, args.synthetic_teachers, args.schools, args.events_per_teacher),
        kwargs={"responses_per_teacher": args.responses_per_teacher, "seed": args.seed},
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the synthetic province generator failed (exit {child.exitcode})")
    manifest = json.loads((out / "province.json").read_text(encoding="utf-8"))
    return {
        "rows": manifest["tables"],
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2, 3),
        "parquet_mb": round(sum(p.stat().st_size for p in out.iterdir()) / 1024**2, 1),
    }


def _table_view(province_dir: Path, name: str, view: Path) -> int:
    """A province directory at ``view`` holding only table ``name`` of ``province_dir``."""
    view.mkdir()
    for other in TABLES:
        if other == name:
            (view / f"{name}.parquet").symlink_to((province_dir / f"{name}.parquet").resolve())
        else:
            empty_table(other).to_parquet(view / f"{other}.parquet", index=False)
    (view / MANIFEST_NAME).write_text('{"format": "parquet"}', encoding="utf-8")
    return pq.ParquetFile(view / f"{name}.parquet").metadata.num_rows


def _store_province(url: str, province_dir: Path, batch_rows: int) -> dict[str, object]:
    """``store_province`` (the demo's path: Parquet read batch by batch), table by table."""
    engine = make_engine(url)
    upgrade_database(engine)
    sessions = make_session_factory(engine)
    admin = Principal("bench", "admin", None)
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="nengli-bench-views-") as views:
        for name in TABLES:
            view = Path(views) / name
            rows[name] = _table_view(province_dir, name, view)
            started = time.perf_counter()
            with sessions() as session:
                store_province(session, admin, view, batch_rows=batch_rows)
                session.commit()
            seconds[name] = round(time.perf_counter() - started, 2)
            _progress(name, rows[name], seconds[name])
    peak_first = _peak_rss_gb()
    started = time.perf_counter()
    with sessions() as session:
        again = store_province(session, admin, province_dir, batch_rows=batch_rows)
        session.commit()
    reimport = round(time.perf_counter() - started, 2)
    engine.dispose()
    total = sum(seconds.values())
    return {
        "store": "province",
        "batch_rows": batch_rows,
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": {
            name: round(rows[name] / seconds[name]) if seconds[name] else None for name in TABLES
        },
        "total_seconds": round(total, 2),
        "total_rows_per_second": round(sum(rows.values()) / total) if total else None,
        # ru_maxrss is the high-water mark: after the first import, then after the re-import.
        "peak_rss_gb_after_import": peak_first,
        "peak_rss_gb": _peak_rss_gb(),
        "reimport_seconds": reimport,
        "reimport_inserted": again["inserted"],
    }


def _store(url: str, province_dir: Path) -> dict[str, object]:
    started = time.perf_counter()
    province = read_province(province_dir)
    read_seconds = round(time.perf_counter() - started, 2)
    read_peak_gb = _peak_rss_gb()
    engine = make_engine(url)
    upgrade_database(engine)
    sessions = make_session_factory(engine)
    admin = Principal("bench", "admin", None)
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    for name in TABLES:
        frame = getattr(province, name)
        started = time.perf_counter()
        with sessions() as session:
            store_tables(session, admin, {name: frame})
            session.commit()
        seconds[name] = round(time.perf_counter() - started, 2)
        rows[name] = len(frame)
        _progress(name, rows[name], seconds[name])
    started = time.perf_counter()
    with sessions() as session:
        again = store_tables(session, admin, {name: getattr(province, name) for name in TABLES})
        session.commit()
    reimport = round(time.perf_counter() - started, 2)
    engine.dispose()
    total = sum(seconds.values())
    return {
        "store": "tables",
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": {
            name: round(rows[name] / seconds[name]) if seconds[name] else None for name in TABLES
        },
        "read_seconds": read_seconds,
        "total_seconds": round(total, 2),
        "total_rows_per_second": round(sum(rows.values()) / total) if total else None,
        # ru_maxrss is the process's high-water mark: the first figure is after reading the
        # province (the tables the store is given), the second after storing and re-importing.
        "peak_rss_gb_after_read": read_peak_gb,
        "peak_rss_gb": _peak_rss_gb(),
        "reimport_seconds": reimport,
        "reimport_inserted": again["inserted"],
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print/return its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "province", type=Path, nargs="?", help="directory written by `nengli generate`"
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument(
        "--small",
        action="store_true",
        help="A 200-teacher simulated and a 200-teacher synthetic province (SQLite by default).",
    )
    parser.add_argument(
        "--synthetic-teachers",
        type=int,
        default=None,
        help="Generate a synthetic province of this many teachers instead of reading one.",
    )
    parser.add_argument("--events-per-teacher", type=int, default=60)
    parser.add_argument("--responses-per-teacher", type=int, default=20)
    parser.add_argument("--schools", type=int, default=None, help="Default: one per 50 teachers.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--store",
        choices=("province", "tables"),
        default="tables",
        help="province: store_province, Parquet read in batches (needs Parquet tables); "
        "tables: read_province, then store_tables on whole tables (default).",
    )
    parser.add_argument("--batch-rows", type=int, default=PROVINCE_BATCH_ROWS)
    args = parser.parse_args(argv)
    url = ["--database-url", args.database_url] if args.database_url else []
    if args.small:
        with tempfile.TemporaryDirectory(prefix="nengli-bench-province-") as tmp:
            from competency_model.province import write_province
            from training_data.simulator import simulate_province

            write_province(simulate_province(200, 4, seed=0), Path(tmp))
            simulated = main([tmp, *url])
        synthetic = main(
            ["--synthetic-teachers", "200", "--events-per-teacher", "20", "--store", "province"]
            + ["--batch-rows", "1000", *url]
        )
        report = {"benchmark": "store", "simulated": simulated, "synthetic": synthetic}
        print(json.dumps(report, ensure_ascii=False))
        return report
    if args.synthetic_teachers is not None:
        if args.province is not None:
            parser.error("give a province directory or --synthetic-teachers, not both")
        with tempfile.TemporaryDirectory(prefix="nengli-bench-synthetic-") as tmp:
            load_before = _load()
            generated = _generate(Path(tmp), args)
            report = _run(args, Path(tmp))
        report["generate"] = generated
        report["load_before_generate"] = load_before
        print(json.dumps(report, ensure_ascii=False))
        return report
    if args.province is None:
        parser.error("a province directory is required (or --small, --synthetic-teachers)")
    report = _run(args, args.province)
    print(json.dumps(report, ensure_ascii=False))
    return report


def _dispatch(args: argparse.Namespace, url: str, province: Path) -> dict[str, object]:
    if args.store == "province":
        return _store_province(url, province, args.batch_rows)
    return _store(url, province)


def _run(args: argparse.Namespace, province: Path) -> dict[str, object]:
    """Store ``province`` into SQLite (temporary file) or a fresh PostgreSQL schema."""
    load_before = _load()
    if args.database_url is None:
        with tempfile.TemporaryDirectory(prefix="nengli-bench-store-") as tmp:
            report = _dispatch(args, f"sqlite:///{tmp}/store.sqlite", province)
        report["backend"] = "sqlite"
    else:
        schema = f"nengli_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in args.database_url else "?"
        try:
            report = _dispatch(
                args, f"{args.database_url}{separator}options=-csearch_path%3D{schema}", province
            )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        report["backend"] = "postgresql"
    report["benchmark"] = "store"
    report["load_before"] = load_before
    report["load_after"] = _load()
    return report


if __name__ == "__main__":
    main()
