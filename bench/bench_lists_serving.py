"""Benchmark: first recommendations served from precomputed lists on PostgreSQL, beside ``/v1/me``.

One run, one server, side by side (issue 15 §3: throughput ≥ 50 % of ``/v1/me`` and p99 ≤ 50 ms
at 200 req/s):

1. **Model.** ``--recommender DIR`` is a recommender directory fitted on
   :func:`bench.bench_recommender.make_province` (``bench_train_scale --save-model DIR`` writes
   one at a million teachers); without it one is fitted here on ``--teachers``. The service needs
   a whole bundle, so the diagnosis of a small model trained on a simulated province
   (:func:`bench.bench_dashboards.small_model`) is saved beside it: recommendations of known
   teachers never read the diagnosis (only cold start and ``/diagnosis`` do).
2. **Database.** A fresh schema in ``--database-url`` (PostgreSQL), migrated to head and filled in
   SQL (:func:`bench.bench_dashboards.synthetic_load`: schools, the model's teacher ids, events
   with completions, grades), then **synthetic lists** in SQL: for every teacher ``--depth``
   course items (distinct catalog items picked by a seeded hash, scores decreasing with rank),
   tagged with the bundle's model version, in the region's partition, and the region's list
   pointer switched to that version — the rows ``nengli batch-load`` would write, without
   ranking a million teachers first. Each row's reasons are then explained from the bundle's
   model (``HybridRecommender.explain_listed``, the reasons a live request would give) and
   stored as ``nengli batch-load`` stores the batch's (``--no-reasons``: leave them NULL, as an
   older batch file loads). The service serves them exactly as the batch's.
3. **Server.** ``uvicorn service.app:create_app`` (``--workers``) on that database.
4. **Load, in other processes.** ``wrk`` closed loops (``--concurrency`` connections,
   ``--duration`` s): ``/v1/me``, then recommendations for teachers asked for the first time
   (each teacher once, so no ranking is kept between requests); then the open loop of
   :mod:`bench.open_loop` at ``--rate`` req/s (plain asyncio HTTP/1.1, its sent rate, late
   sends, new connections and own CPU share reported beside the latencies), latency from the
   scheduled send time, for ``/v1/me`` and for first recommendations (other teachers again).

Every recommendation request authenticates the key, reads the teacher's tenancy row,
completions and stored list with its reasons (one round trip awaited on the event loop: on a
database migrated to 0015 one prepared call of ``nengli_list_rows`` on an asyncio connection,
:mod:`service.db.async_driver`), joins the JSON of the k items shown and appends its read-audit
row to the group-committed audit batch, answering once that batch has committed.

Usage::

    python -m bench.bench_lists_serving --small                    # about a minute
    python -m bench.bench_lists_serving --recommender DIR --teachers 1000000 --schools 10000

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_dashboards import DEFAULT_URL, REGION, fresh_schema, small_model, synthetic_load
from bench.bench_service import _free_port, server_memory_mib, wrk_closed_loop
from bench.process_memory import server_workers_memory

ROOT = Path(__file__).resolve().parents[1]


def fit_recommender(directory: Path, teachers: int, seed: int, ranker: str = "auto") -> Path:
    """A recommender fitted on ``make_province(teachers)``, saved (cached under ``directory``).

    The lists are synthetic and a known teacher's request never ranks, so the ranker only
    matters for the reasons; ``--small`` (``make bench``) forces the linear one and skips the
    LambdaRank candidates of the model selection, most of a small fit's time.
    """
    from bench.bench_recommender import make_province
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.bundle import save_recommender
    from recommender.ranking import HybridRecommender

    out = directory / (f"recommender-{teachers}" + ("" if ranker == "auto" else f"-{ranker}"))
    if not (out / "metadata.json").is_file():
        province, mastery = make_province(teachers, 10, seed)
        model = HybridRecommender(num_threads=2, ranker=ranker, random_state=seed).fit(
            province, mastery, load_catalog(), default_framework()
        )
        save_recommender(model, out)
    return out


def bundle_dir(recommender_dir: Path, diagnosis_dir: Path, out: Path) -> tuple[Path, str]:
    """One service bundle from the recommender and a small model's diagnosis; its version."""
    from recommender.bundle import ModelBundle, bundle_version, load_bundle, save_bundle
    from recommender.bundle import load_recommender as load_rec

    if not (out / "metadata.json").is_file():
        recommender = load_rec(recommender_dir)
        diagnosis = load_bundle(diagnosis_dir).diagnosis
        note = {"bench": "recommender of bench_lists_serving + diagnosis of a small model"}
        save_bundle(ModelBundle(diagnosis, recommender, note), out)
    return out, bundle_version(out)


LISTS_SQL = """
INSERT INTO recommendation_lists (region, model_version, teacher_id, kind, rank, item_id, score)
SELECT :region, :version, 'T' || lpad(i::text, 7, '0'), 'course', r,
       (CAST(:items AS text[]))[1 + ((i::bigint * 7919 + r * 104729 + :seed) % :n_items)],
       1.0 - r / 100.0
FROM generate_series(1, :teachers) AS i, generate_series(1, :depth) AS r
ORDER BY i, r
"""


def synthetic_lists(url: str, teachers: int, depth: int, version: str, seed: int) -> float:
    """Fill the region's list partition in SQL and switch its pointer; the seconds it took."""
    from sqlalchemy import text

    from competency_model.catalog import load_catalog
    from service.db.engine import make_engine
    from service.db.list_store import partition_name

    # Courses only (the benchmark asks kind=course), one teacher's rows together as the batch
    # file writes them (unordered, a teacher's 20 rows lay on 20 heap pages); 104729 is
    # prime, so a teacher's items are distinct for depth < number of courses.
    items = [item.item_id for item in load_catalog().courses]
    if depth >= len(items):
        raise SystemExit(f"--depth {depth} must be below the {len(items)} courses")
    started = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {partition_name(REGION)} PARTITION OF "
                f"recommendation_lists FOR VALUES IN ('{REGION}')"
            )
        )
        connection.execute(
            text(LISTS_SQL),
            {
                "region": REGION,
                "version": version,
                "teachers": teachers,
                "depth": depth,
                "items": items,
                "n_items": len(items),
                "seed": seed,
            },
        )
        now = datetime.now(UTC)
        connection.execute(
            text(
                "INSERT INTO list_versions (region, model_version, n_rows, n_teachers, "
                "source_sha256, loaded_at) VALUES (:r, :v, :n, :t, 'synthetic', :now)"
            ),
            {"r": REGION, "v": version, "n": teachers * depth, "t": teachers, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO list_pointers (region, model_version, switched_at) "
                "VALUES (:r, :v, :now)"
            ),
            {"r": REGION, "v": version, "now": now},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE recommendation_lists"))
    engine.dispose()
    return round(time.perf_counter() - started, 1)


def synthetic_reasons(
    url: str, model_dir: Path, version: str, chunk: int = 2000, sample: int | None = None
) -> float:
    """Store every synthetic list row's reasons as the model explains them; the seconds it took.

    Per chunk of teachers: the rows are read back, explained (the reasons a request of the
    teacher would build live) and written through a ``COPY``'d staging table. With ``sample``
    only the first ``sample`` teachers are explained and every other row takes the reasons of
    a sampled row of the same item (same text, same size): explaining 20 M rows in Python would
    take hours, and the served cost depends on the stored bytes, not on whose reasons they are.
    Rows of items no sampled teacher lists keep NULL and are explained at request time.
    """
    from sqlalchemy import text

    from recommender.bundle import load_recommender
    from service.db.bulk import copy_into_staging
    from service.db.engine import make_engine, make_session_factory
    from service.db.list_store import reasons_json

    started = time.perf_counter()
    recommender = load_recommender(model_dir)
    engine = make_engine(url)
    teacher_ids = recommender.teachers_.teacher_ids.astype(str).tolist()
    if sample is not None:
        teacher_ids = teacher_ids[:sample]
    for start in range(0, len(teacher_ids), chunk):
        ids = teacher_ids[start : start + chunk]
        with make_session_factory(engine)() as session:
            rows = session.execute(
                text(
                    "SELECT teacher_id, rank, item_id, score FROM recommendation_lists "
                    "WHERE region = :r AND model_version = :v AND kind = 'course' "
                    "AND teacher_id = ANY(:ids) ORDER BY teacher_id, rank"
                ),
                {"r": REGION, "v": version, "ids": ids},
            ).all()
            by_teacher: dict[str, list[tuple[int, str, float]]] = {}
            for teacher, rank, item, score in rows:
                by_teacher.setdefault(teacher, []).append((rank, item, score))
            explained = []
            for teacher, listed in by_teacher.items():
                items = recommender.explain_listed(
                    teacher, [item for _, item, _ in listed], [score for _, _, score in listed]
                )
                if len(items) != len(listed):
                    raise SystemExit(f"teacher {teacher}: a listed item left the catalog")
                for (rank, _, _), item in zip(listed, items, strict=True):
                    zh, en = reasons_json(item.reasons_zh), reasons_json(item.reasons_en)
                    explained.append((teacher, rank, zh, en))
            copy_into_staging(
                session,
                "reasons_staging",
                [("teacher_id", "text"), ("rank", "integer"), ("zh", "text"), ("en", "text")],
                explained,
            )
            session.execute(
                text(
                    "UPDATE recommendation_lists l SET reasons_zh = x.zh, reasons_en = x.en "
                    "FROM reasons_staging x WHERE l.region = :r AND l.model_version = :v "
                    "AND l.kind = 'course' AND l.teacher_id = x.teacher_id AND l.rank = x.rank"
                ),
                {"r": REGION, "v": version},
            )
            session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if sample is not None:
            from service.db.list_store import partition_name

            connection.execute(
                text(
                    "UPDATE recommendation_lists l SET reasons_zh = x.zh, reasons_en = x.en "
                    "FROM (SELECT DISTINCT ON (item_id) item_id, reasons_zh AS zh, "
                    "reasons_en AS en FROM recommendation_lists WHERE region = :r "
                    "AND model_version = :v AND reasons_zh IS NOT NULL ORDER BY item_id, "
                    "teacher_id, rank) x WHERE l.region = :r AND l.model_version = :v "
                    "AND l.item_id = x.item_id AND l.reasons_zh IS NULL"
                ),
                {"r": REGION, "v": version},
            )
            # The update left every row's old version behind: rewrite the partition in key
            # order (a teacher's rows together, as a batch file loads them).
            partition = partition_name(REGION)
            connection.execute(text(f'CLUSTER "{partition}" USING "{partition}_pkey"'))
        connection.execute(text("VACUUM ANALYZE recommendation_lists"))
    engine.dispose()
    return round(time.perf_counter() - started, 1)


def start_server(url: str, model_dir: Path, port: int, workers: int) -> subprocess.Popen[str]:
    """uvicorn on ``url``; returns once every worker has loaded the model and /readyz answers."""
    import httpx

    env = {
        **os.environ,
        "NENGLI_DATABASE_URL": url,
        "NENGLI_MODEL_DIR": str(model_dir),
        "NENGLI_LOG_LEVEL": "WARNING",
        "NENGLI_RATE_LIMIT_PER_MINUTE": "0",  # one key drives the whole load
    }
    command = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    command += ["--no-access-log", "--workers", str(workers)]
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log, text=True)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline and server.poll() is None:
        log.seek(0)
        if log.read().count("Application startup complete") >= workers:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
        time.sleep(1.0)
    server.kill()
    log.seek(0)
    raise RuntimeError(f"server did not become ready: {log.read()[-2000:]}")


def open_loop_process(port: int, token: str, paths: list[str], rate: float, duration: float,
                      workdir: Path, name: str) -> dict[str, Any]:  # fmt: skip
    """:mod:`bench.open_loop` in its own process (not the server's, not this one's CPU)."""
    path_file = workdir / f"{name}.txt"
    path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "bench.open_loop", "--base-url", f"http://127.0.0.1:{port}"]
    command += ["--token", token, "--paths", str(path_file)]
    command += ["--rate", str(rate), "--duration", str(duration)]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def served_from_lists(url: str, port: int, token: str, teacher_id: str) -> bool:
    """Whether the teacher's answer is its stored list in stored order (completions skipped).

    A live ranking would not reproduce the synthetic lists' hash order, so this shows the
    measured requests were answered from the lists.
    """
    import httpx
    from sqlalchemy import text

    from service.db.engine import make_engine

    response = httpx.get(
        f"http://127.0.0.1:{port}{path_of(teacher_id)}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()
    shown = [item["item_id"] for item in response.json()["data"]]
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = (
            connection.execute(
                text(
                    "SELECT item_id FROM recommendation_lists WHERE teacher_id = :t "
                    "AND kind = 'course' ORDER BY rank"
                ),
                {"t": teacher_id},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    kept = iter(stored)
    return bool(shown) and all(any(item == s for s in kept) for item in shown)


def path_of(teacher_id: str) -> str:
    return f"/v1/teachers/{teacher_id}/recommendations?kind=course&k=10"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=12, help="Events per teacher in the DB.")
    parser.add_argument("--depth", type=int, default=20, help="Stored items per list.")
    parser.add_argument("--recommender", type=Path, default=None, help="Fitted recommender dir.")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("NENGLI_BENCH_POSTGRES_URL", DEFAULT_URL),
        help="PostgreSQL database (a schema of its own is made in it).",
    )
    parser.add_argument("--reuse", action="store_true", help="Keep an earlier run's schema.")
    parser.add_argument(
        "--reasons-sample",
        type=int,
        default=None,
        help="Explain only this many teachers' lists; the others copy a sampled row's reasons "
        "of the same item (at 1 M teachers explaining every row takes hours).",
    )
    parser.add_argument("--small", action="store_true", help="3,000 teachers, 5 s runs.")
    parser.add_argument(
        "--no-reasons",
        dest="reasons",
        action="store_false",
        help="Store no reasons with the lists (as an older batch file loads).",
    )
    args = parser.parse_args(argv)
    if args.small:
        args.teachers, args.schools, args.duration, args.rate = 3000, 30, 5.0, 200.0
    if not shutil.which("wrk"):
        print(json.dumps({"benchmark": "lists_serving", "skipped": "wrk is not installed"}))
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        with create_engine(args.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = f"no PostgreSQL at --database-url ({type(error.orig).__name__})"
        print(json.dumps({"benchmark": "lists_serving", "skipped": reason}))
        return
    directory = ROOT / "bench" / "out" / "lists_serving"
    directory.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    recommender = args.recommender or fit_recommender(
        directory, args.teachers, args.seed, "linear" if args.small else "auto"
    )
    diagnosis = small_model(ROOT / "bench" / "out" / "dashboards", args.seed)
    model_dir, version = bundle_dir(
        recommender, diagnosis, directory / f"bundle-{recommender.name}"
    )
    timings["model_s"] = round(time.perf_counter() - started, 1)

    from recommender.bundle import load_recommender

    teacher_ids = load_recommender(model_dir).teachers_.teacher_ids.astype(str)
    if len(teacher_ids) != args.teachers:
        raise SystemExit(f"the model knows {len(teacher_ids)} teachers, not --teachers")
    schema = f"bench_lists_{args.teachers}"
    if args.reuse:
        from bench.bench_dashboards import _schema_url

        url = _schema_url(args.database_url, schema)
    else:
        url = fresh_schema(args.database_url, schema)
        timings.update(
            {
                f"load_{k}": v
                for k, v in synthetic_load(
                    url, args.teachers, args.schools, args.events, args.seed
                ).items()
            }
        )
        timings["load_lists_s"] = synthetic_lists(
            url, args.teachers, args.depth, version, args.seed
        )
        if args.reasons:
            timings["load_reasons_s"] = synthetic_reasons(
                url, model_dir, version, sample=args.reasons_sample
            )

    from service.auth import create_key
    from service.db.engine import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        token = create_key(session, "admin", label="bench")[0]
        session.commit()
    engine.dispose()
    shuffled = np.random.default_rng(args.seed).permutation(teacher_ids).tolist()
    n_open = int(args.rate * args.duration)
    open_teachers, closed_teachers = shuffled[:n_open], shuffled[n_open:]
    port = _free_port()
    load_before = os.getloadavg()
    started = time.perf_counter()
    server = start_server(url, model_dir, port, args.workers)
    timings["server_start_s"] = round(time.perf_counter() - started, 1)
    results: dict[str, Any] = {}
    try:
        work = Path(tempfile.mkdtemp(prefix="bench-lists-"))
        results["memory_started_mib"] = server_memory_mib(server)
        results["memory_started_per_worker"] = server_workers_memory(server.pid)
        closed = [(name, paths) for name, paths in (
            ("me_closed", ["/v1/me"]),
            ("recommendations_first_closed", [path_of(t) for t in closed_teachers]),
        )]  # fmt: skip
        for name, paths in closed:
            results[name] = wrk_closed_loop(
                port, token, paths, args.concurrency, args.duration, work
            )
        requested = results["recommendations_first_closed"]["requests"]
        results["recommendations_first_closed"]["all_first_requests"] = requested <= len(
            closed_teachers
        )
        if args.rate:
            results["me_open"] = open_loop_process(
                port, token, ["/v1/me"], args.rate, args.duration, work, "me"
            )
            results["recommendations_first_open"] = open_loop_process(
                port, token, [path_of(t) for t in open_teachers], args.rate, args.duration,
                work, "first",
            )  # fmt: skip
        results["served_from_lists"] = served_from_lists(url, port, token, closed_teachers[-1])
        results["memory_end_mib"] = server_memory_mib(server)
        results["memory_end_per_worker"] = server_workers_memory(server.pid)
        shutil.rmtree(work, ignore_errors=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    load_after = os.getloadavg()
    me = results["me_closed"]["throughput_rps"]
    first = results["recommendations_first_closed"]["throughput_rps"]
    open_first = results.get("recommendations_first_open", {})
    print(
        json.dumps(
            {
                "benchmark": "lists_serving",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after],
                },
                "teachers": args.teachers,
                "schools": args.schools,
                "list_rows": args.teachers * args.depth,
                "stored_reasons": args.reasons,
                "server": f"uvicorn, {args.workers} worker(s), PostgreSQL",
                "load_generator": "wrk (closed loops), bench.open_loop (open loops, asyncio), "
                "separate processes on the same machine",
                "concurrency": args.concurrency,
                "duration_s": args.duration,
                "timings": timings,
                "results": results,
                "first_to_me": round(first / me, 3) if me else None,
                "targets": {
                    "throughput_half_of_me": bool(me and first >= 0.5 * me),
                    "p99_50ms_at_rate": (
                        open_first.get("p99_ms") is not None
                        and open_first["p99_ms"] <= 50.0
                        and open_first.get("errors") == 0
                    ),
                },
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
