"""Benchmark: the recommendation endpoint over loopback, next to /healthz, in the same run.

Phases (each cached under ``--dir`` and skipped when its output exists):

1. simulate a province (``write_simulated_province``, the code path of ``nengli generate``);
2. load it into a SQLite database (``store_tables``, the code path of imports; questionnaire
   answers are left out, see below);
3. train the models (``train_model_dir``, the code path of ``nengli train``);
4. start ``uvicorn service.app:create_app`` (``--workers``, default 1) on a free loopback port
   and wait until every worker has loaded the models (uvloop and httptools are used when
   installed, as uvicorn does by default);
5. closed loops of ``--concurrency`` clients for ``--duration`` seconds each, measured by
   ``wrk`` (``apt-get install wrk``; httpx, whose client saturates far earlier, when wrk is
   missing): ``/healthz`` (trivial, no key), ``/v1/me`` (trivial, with the key check every
   ``/v1`` request pays), recommendations for teachers asked **for the first time** since the
   server started (every request scores the catalog), then, after one warm-up request each,
   recommendations for ``--repeat-teachers`` teachers asked **again** (their rankings kept);
6. open loops at ``--rate`` requests/s (httpx, requests sent on a fixed schedule whatever the
   responses do) for ``/healthz``, first and repeat recommendations: the latency at a fixed load.

The three teacher samples are disjoint and drawn at random (seeded). Every recommendation request
authenticates the key, checks tenancy, reads the teacher's completed items and commits an audit
row. The load generator shares the 2 cores with the server; the JSON records the load average
before and after the run and the workers' resident memory.

Usage::

    python -m bench.bench_service --small                       # about a minute
    python -m bench.bench_service --teachers 100000 --schools 1000 --workers 1

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(directory: Path, teachers: int, schools: int, seed: int) -> dict[str, float]:
    """Phases 1–3; returns the seconds each phase took (0 when reused)."""
    from competency_model.province import read_province
    from recommender.training import train_model_dir
    from service.auth import Principal
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.db.stores.province import store_tables
    from training_data.simulator.writer import write_simulated_province

    timings = {"simulate": 0.0, "load_database": 0.0, "train": 0.0}
    province_dir, model_dir, database = (
        directory / "province",
        directory / "model",
        directory / "bench.sqlite",
    )
    if not (province_dir / "province.json").is_file():
        started = time.perf_counter()
        write_simulated_province(province_dir, teachers, schools, seed)
        timings["simulate"] = time.perf_counter() - started
    if not database.is_file():
        started = time.perf_counter()
        staging = database.with_suffix(".partial")
        for leftover in staging.parent.glob(staging.name + "*"):
            leftover.unlink()
        engine = make_engine(f"sqlite:///{staging}")
        upgrade_database(engine)
        province = read_province(province_dir)
        tables = {
            name: getattr(province, name)
            for name in ("schools", "teachers", "responses", "grades", "events")
        }
        with make_session_factory(engine)() as session:
            store_tables(session, Principal("bench", "admin", None), tables)
            session.commit()
        engine.dispose()
        staging.rename(database)  # the WAL was checkpointed on dispose
        timings["load_database"] = time.perf_counter() - started
    if (model_dir / "metadata.json").is_file():
        from competency_model.errors import ModelError
        from recommender.bundle import load_bundle

        try:
            load_bundle(model_dir)
        except ModelError:  # written by an older nengli: retrain below
            shutil.rmtree(model_dir)
    if not (model_dir / "metadata.json").is_file():
        started = time.perf_counter()
        train_model_dir(province_dir, model_dir, seed=seed)
        timings["train"] = time.perf_counter() - started
    return {k: round(v, 1) for k, v in timings.items()}


def start_server(
    directory: Path, port: int, workers: int = 1, root: Path = ROOT
) -> subprocess.Popen[str]:
    """Start uvicorn on the bench database and wait until every worker has started.

    Each worker loads the models in its own lifespan startup and accepts connections only
    afterwards, so ``/readyz`` answering once proves only one worker ready: connections opened
    before the others finish would all stick to it. uvicorn logs "Application startup
    complete." once per worker (at log level info; access logs stay off), which is what this
    waits for. ``root`` runs the server of another checkout (``bench_split_compare``).
    """
    env = {
        **os.environ,
        **({"PYTHONPATH": str(root)} if root != ROOT else {}),
        "NENGLI_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite'}",
        "NENGLI_MODEL_DIR": str(directory / "model"),
        "NENGLI_LOG_LEVEL": "WARNING",
        "NENGLI_RATE_LIMIT_PER_MINUTE": "0",  # one key drives the whole load
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = threading.Semaphore(0)

    def follow_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            if "Application startup complete" in line:
                started.release()
            elif not line.startswith("INFO:"):
                sys.stderr.write(line)  # warnings and errors still reach the console

    threading.Thread(target=follow_log, daemon=True).start()
    deadline = time.monotonic() + 600
    for _ in range(workers):
        if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
            server.kill()
            raise RuntimeError(f"not all {workers} uvicorn worker(s) started within 600 s")
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("server exited or was not ready within 600 s")


def server_stack() -> str:
    """Event loop and HTTP parser uvicorn picks by default (uvloop/httptools when installed)."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("NENGLI_BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("NENGLI_BENCH_TOKEN")
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "errors": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk_closed_loop(
    port: int, token: str, paths: list[str], concurrency: int, duration: float, workdir: Path
) -> dict[str, Any]:
    """The same closed loop measured by ``wrk`` (C, one thread): far less client CPU than httpx."""
    script, path_file = workdir / "bench.lua", workdir / "paths.txt"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    env = {**os.environ, "NENGLI_BENCH_PATHS": str(path_file), "NENGLI_BENCH_TOKEN": token}
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{int(duration)}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["throughput_rps"] = round(result["requests"] / result.pop("seconds"), 1)
    return result


def _summary(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    values = np.array(latencies) * 1000.0
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(values, 50)), 2) if len(values) else None,
        "p99_ms": round(float(np.percentile(values, 99)), 2) if len(values) else None,
    }


async def closed_loop(
    client: httpx.AsyncClient, urls: list[str], concurrency: int, duration: float
) -> dict[str, Any]:
    """``concurrency`` clients each sending the next request as soon as the last returns."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < stop:
            began = time.perf_counter()
            try:
                response = await client.get(urls[i % len(urls)])
            except httpx.HTTPError:  # e.g. a keep-alive connection closed under us: count it
                errors += 1
                i += concurrency
                continue
            if response.status_code == 200:
                latencies.append(time.perf_counter() - began)
            else:
                errors += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return _summary(latencies, errors, time.perf_counter() - started)


async def open_loop(
    client: httpx.AsyncClient, urls: list[str], rate: float, duration: float
) -> dict[str, Any]:
    """Requests sent on a fixed schedule (``rate`` per second) whatever the responses do."""
    latencies: list[float] = []
    errors = 0

    async def one(url: str) -> None:
        nonlocal errors
        began = time.perf_counter()
        try:
            response = await client.get(url)
        except httpx.HTTPError:
            errors += 1
            return
        if response.status_code == 200:
            latencies.append(time.perf_counter() - began)
        else:
            errors += 1

    tasks = []
    started = time.perf_counter()
    for i in range(int(rate * duration)):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(urls[i % len(urls)])))
    await asyncio.gather(*tasks)
    result = _summary(latencies, errors, time.perf_counter() - started)
    result["offered_rps"] = rate
    return result


async def warm_up(port: int, token: str, paths: list[str], concurrency: int) -> float:
    """Request every path once (so each teacher's ranking is kept); returns the seconds taken."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    queue = list(reversed(paths))
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            while queue:
                response = await client.get(queue.pop())
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return round(time.perf_counter() - started, 1)


async def open_loops(
    port: int, token: str, named_paths: dict[str, list[str]], rate: float, duration: float
) -> dict[str, Any]:
    """The open loop at ``rate`` requests/s for each list of paths, one after the other."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {token}"}
    results = {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=60
    ) as client:
        await closed_loop(client, ["/healthz"], 4, 1.0)  # open the connections
        for name, paths in named_paths.items():
            results[name] = await open_loop(client, paths, rate, duration)
    return results


def closed(
    port: int, token: str, paths: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """A closed loop of ``--concurrency`` clients: wrk when installed, else httpx."""
    if shutil.which("wrk"):
        result = wrk_closed_loop(port, token, paths, args.concurrency, args.duration, workdir)
        result["generator"] = "wrk"
        return result

    async def run() -> dict[str, Any]:
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            limits=limits,
            timeout=60,
        ) as client:
            return await closed_loop(client, paths, args.concurrency, args.duration)

    result = asyncio.run(run())
    result["generator"] = "httpx (install wrk for throughput figures)"
    return result


def server_memory_mib(server: subprocess.Popen[str]) -> float:
    """Resident memory of the uvicorn workers (the parent too when it serves itself)."""
    import psutil

    process = psutil.Process(server.pid)
    workers = process.children(recursive=True) or [process]
    return round(sum(w.memory_info().rss for w in workers) / 2**20, 1)


RANKING_CACHE_ENTRIES = 5000  # the service default (NENGLI_RANKING_CACHE_ENTRIES)


def recommendation_path(teacher_id: str) -> str:
    return f"/v1/teachers/{teacher_id}/recommendations?kind=course&k=10"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load-test the recommendation endpoint.")
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None, help="Cache of province/model/db.")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds per measurement.")
    parser.add_argument("--rate", type=float, default=200.0, help="Open-loop rate (0 = skip).")
    parser.add_argument("--small", action="store_true", help="2,000 teachers, 5 s runs.")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes.")
    parser.add_argument(
        "--repeat-teachers", type=int, default=5000, help="Teachers of the repeat-request runs."
    )
    parser.add_argument(
        "--lists",
        action="store_true",
        help="Serve known teachers from precomputed lists (ranked and loaded before the run).",
    )
    args = parser.parse_args(argv)
    if args.small:
        args.teachers, args.schools, args.duration, args.rate = 2000, 20, 5.0, 100.0
        args.repeat_teachers = 500
    directory = (args.dir or ROOT / "bench" / "out" / f"service-{args.teachers}").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    timings = prepare(directory, args.teachers, args.schools, args.seed)
    lists: dict[str, float] | None = None
    if args.lists:
        from bench.precomputed_lists import write_and_load_lists

        lists = write_and_load_lists(
            directory / "model",
            f"sqlite:///{directory / 'bench.sqlite'}",
            directory / "lists.parquet",
        )
    else:  # a cached database may hold lists of an earlier --lists run
        from sqlalchemy import text

        from service.db.engine import make_engine as _engine
        from service.db.migrate import upgrade_database as _upgrade

        plain = _engine(f"sqlite:///{directory / 'bench.sqlite'}")
        _upgrade(plain)
        with plain.begin() as connection:
            connection.execute(text("DELETE FROM list_pointers"))
        plain.dispose()

    from competency_model.province import read_province
    from service.auth import create_key
    from service.db.engine import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{directory / 'bench.sqlite'}")
    with make_session_factory(engine)() as session:
        token = create_key(session, "admin", label="bench")[0]
        session.commit()
    engine.dispose()
    teachers = read_province(directory / "province").teachers["teacher_id"].astype(str).to_numpy()
    shuffled = np.random.default_rng(args.seed).permutation(teachers).tolist()
    # Disjoint samples: teachers asked again (their ranking kept), teachers asked for the first
    # time since the server started (closed loop), and first-timers for the open loop.
    repeat = shuffled[: args.repeat_teachers]
    first = shuffled[args.repeat_teachers :]
    open_first_count = int(args.rate * args.duration)
    first_closed, first_open = first[:-open_first_count] or first, first[-open_first_count:]
    port = _free_port()
    load_before = os.getloadavg()
    server = start_server(directory, port, args.workers)
    try:
        memory_started = server_memory_mib(server)
        results: dict[str, Any] = {
            "healthz_closed": closed(port, token, ["/healthz"], args, directory),
            "me_closed": closed(port, token, ["/v1/me"], args, directory),
        }
        results["recommendations_first_closed"] = closed(
            port, token, [recommendation_path(t) for t in first_closed], args, directory
        )
        results["recommendations_first_closed"]["share_of_first_requests"] = round(
            min(
                1.0, len(first_closed) / max(1, results["recommendations_first_closed"]["requests"])
            ),
            3,
        )
        repeat_paths = [recommendation_path(t) for t in repeat]
        memory_after_first = server_memory_mib(server)
        kept = min(
            results["recommendations_first_closed"]["requests"],
            RANKING_CACHE_ENTRIES * args.workers,
        )
        results["warm_up_seconds"] = asyncio.run(
            warm_up(port, token, repeat_paths, args.concurrency)
        )
        results["memory_mib"] = {
            "started": memory_started,
            "after_first_requests": memory_after_first,
            "after_warm_up": server_memory_mib(server),
            # Growth over the first-request run per ranking it left in the workers' caches
            # (includes allocator slack and the pages SQLite read).
            "per_kept_ranking_kib_approx": round(
                (memory_after_first - memory_started) * 1024 / max(1, kept), 1
            ),
        }
        results["recommendations_repeat_closed"] = closed(
            port, token, repeat_paths, args, directory
        )
        if args.rate:
            results.update(
                asyncio.run(
                    open_loops(
                        port,
                        token,
                        {
                            "healthz_open": ["/healthz"],
                            "recommendations_first_open": [
                                recommendation_path(t) for t in first_open
                            ],
                            "recommendations_repeat_open": repeat_paths,
                        },
                        args.rate,
                        args.duration,
                    )
                )
            )
        results["memory_mib"]["end"] = server_memory_mib(server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()
    trivial = results["healthz_closed"]["throughput_rps"]
    keyed = results["me_closed"]["throughput_rps"]
    ratios = {
        f"{run}_to_{base}": round(results[f"recommendations_{run}_closed"]["throughput_rps"] / d, 3)
        for run in ("first", "repeat")
        for base, d in (("healthz", trivial), ("me", keyed))
        if d
    }
    print(
        json.dumps(
            {
                "benchmark": "service",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after],
                },
                "teachers": args.teachers,
                "schools": args.schools,
                "server": f"uvicorn ({server_stack()}), {args.workers} worker(s), SQLite (WAL)",
                "load_generator": "wrk (closed loops) and asyncio + httpx (open loops, warm-up)"
                " on the same machine",
                "concurrency": args.concurrency,
                "duration_s": args.duration,
                "samples": {
                    "repeat_teachers": len(repeat),
                    "first_closed_teachers": len(first_closed),
                    "first_open_teachers": len(first_open),
                },
                "prepare_seconds": timings,
                "precomputed_lists": lists,
                "results": results,
                "throughput_ratios": ratios,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
