"""Benchmark: repeat-request cost of the recommendation endpoint in two or more checkouts, side by side.

Issue 13 asks that restructuring the service leave the repeat-request throughput no lower than
before. On a shared 2-core machine wall-clock throughput moves with whatever else runs, so this
measures both the closed-loop throughput (wrk) and the **server's CPU seconds per request**
(psutil, the uvicorn process), which depends far less on the machine's load. Checkouts are
measured in alternating rounds (A, B, A, B …) so that a change in load hits both alike.

Each checkout prepares its own small province, database and model with its own code (the
``prepare`` of its ``bench/bench_service.py``), because model formats may differ between commits.

Usage::

    python -m bench.bench_split_compare --checkout before=/path/a --checkout after=/path/b
    python -m bench.bench_split_compare --small      # this checkout against itself, seconds

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.bench_service import _free_port, recommendation_path, start_server, wrk_closed_loop

PREPARE = """
import sys
from pathlib import Path
from bench.bench_service import prepare
prepare(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
try:
    from competency_model.province import read_province
except ImportError:  # before the domain contracts moved (issue 13)
    from training_data.province import read_province
from service.auth import create_key
from service.db.engine import make_engine, make_session_factory
engine = make_engine(f"sqlite:///{Path(sys.argv[1]) / 'bench.sqlite'}")
with make_session_factory(engine)() as session:
    token = create_key(session, "admin", label="compare")[0]
    session.commit()
ids = read_province(Path(sys.argv[1]) / "province").teachers["teacher_id"].astype(str).tolist()
print(token)
print(",".join(ids))
"""


def _prepare(
    root: Path, directory: Path, teachers: int, schools: int, seed: int
) -> tuple[str, list[str]]:
    directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, str(directory), str(teachers), str(schools), str(seed)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing {root} failed:\n{done.stderr[-4000:]}")
    output = done.stdout.strip().splitlines()
    return output[-2], output[-1].split(",")


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _round(
    root: Path, directory: Path, token: str, teachers: list[str], duration: float, concurrency: int
) -> dict[str, Any]:
    port = _free_port()
    server = start_server(directory, port, root=root)
    try:
        paths = [recommendation_path(t) for t in teachers]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as c:
            for path in paths:  # warm-up: every teacher's ranking is kept afterwards
                c.get(path).raise_for_status()
        cpu_before = _cpu_seconds(server.pid)
        result = wrk_closed_loop(port, token, paths, concurrency, duration, directory)
        cpu = _cpu_seconds(server.pid) - cpu_before
        result["server_cpu_ms_per_request"] = round(1000 * cpu / max(1, result["requests"]), 3)
        result["load_average"] = round(os.getloadavg()[0], 1)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", default=[], help="NAME=PATH")
    parser.add_argument(
        "--small", action="store_true", help="This checkout against itself, seconds-size."
    )
    parser.add_argument("--teachers", type=int, default=2000)
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--repeat-teachers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=Path("bench/out/split-compare"))
    args = parser.parse_args(argv)
    if args.small:
        args.checkout = args.checkout or [f"this={Path(__file__).resolve().parents[1]}"]
        args.teachers, args.schools, args.repeat_teachers = 300, 4, 50
        args.rounds, args.duration = 1, 2.0
    if not args.checkout:
        parser.error("name at least one --checkout NAME=PATH (or --small)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    checkouts = dict(item.split("=", 1) for item in args.checkout)
    prepared: dict[str, tuple[str, list[str]]] = {}
    for name, root in checkouts.items():
        prepared[name] = _prepare(
            Path(root).resolve(), args.dir.resolve() / name, args.teachers, args.schools, args.seed
        )
    ids = prepared[next(iter(prepared))][1]
    sample = np.random.default_rng(args.seed).permutation(ids)[: args.repeat_teachers].tolist()
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in checkouts}
    for _ in range(args.rounds):
        for name, root in checkouts.items():
            rounds[name].append(
                _round(
                    Path(root).resolve(),
                    args.dir.resolve() / name,
                    prepared[name][0],
                    sample,
                    args.duration,
                    args.concurrency,
                )
            )
    summary = {
        name: {
            "median_throughput_rps": float(np.median([r["throughput_rps"] for r in runs])),
            "median_server_cpu_ms_per_request": float(
                np.median([r["server_cpu_ms_per_request"] for r in runs])
            ),
            "runs": runs,
        }
        for name, runs in rounds.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "split_compare",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "teachers": args.teachers,
                "repeat_teachers": args.repeat_teachers,
                "concurrency": args.concurrency,
                "duration_s": args.duration,
                "checkouts": checkouts,
                "results": summary,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
