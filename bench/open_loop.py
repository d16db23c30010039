"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the server does.

A closed loop (wrk, or N clients each waiting for its answer) slows down with the server and so
hides queueing: the latency it reports is that of a load the server chose. Here request ``i`` is
due at ``start + i / rate``; its latency is measured **from that scheduled time** to the last
byte of the answer, so a server (or a generator) that falls behind shows the delay in the
percentiles instead of quietly sending fewer requests (no coordinated omission). A request that
finds every open connection busy gets a new one at once (the handshake counts in its latency)
rather than waiting for a connection to come free.

HTTP/1.1 keep-alive GETs written and read on plain asyncio streams (uvloop when installed): the
httpx client this used before cost more CPU per request than ``/v1/me`` costs the server, and
on a 2-core machine could not offer 200 req/s (2026-12-04: 97 achieved for ``/v1/me``, which
wrk drives at > 1,600 req/s on the same server). The JSON reports what the generator did next to
what it was asked: requests sent per second, how late they left (``send_lag_p99_ms``), the
connections it had to open, and its own CPU time, so a saturated client is visible.

Run as its own process beside the server (``bench.bench_lists_serving`` does)::

    python -m bench.open_loop --base-url http://127.0.0.1:8000 --token KEY \
        --paths paths.txt --rate 200 --duration 20

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

__all__ = ["open_loop"]

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    values = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "max_ms": round(float(values.max()), 2),
    }


class _BadResponse(Exception):
    """The answer was not a complete HTTP/1.1 response with a ``Content-Length``."""


async def _exchange(connection: _Connection, request: bytes) -> tuple[int, bool]:
    """Send one GET on ``connection``; its status and whether the connection stays open."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise _BadResponse(lines[0][:80])
    length, keep = None, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length is None:
        raise _BadResponse(b"no content-length")
    await reader.readexactly(length)
    return int(parts[1]), keep


async def open_loop(
    base_url: str, token: str, paths: list[str], rate: float, duration: float,
    connections: int = 64,
) -> dict[str, Any]:  # fmt: skip
    """Send ``rate × duration`` GETs on schedule; latency from each request's due time."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    requests = {
        path: f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode() for path in paths
    }
    idle: list[_Connection] = []
    opened = 0

    async def connect() -> _Connection:
        nonlocal opened
        opened += 1
        return await asyncio.open_connection(host, port)

    # Open connections first so the measured run does not pay the TCP handshakes.
    idle.extend(await asyncio.gather(*(connect() for _ in range(connections))))
    opened_before = opened
    latencies: list[float] = []
    send_lag: list[float] = []
    errors = 0
    last_sent = 0.0

    async def one(request: bytes, due: float, connection: _Connection | None) -> None:
        nonlocal errors
        try:
            if connection is None:
                connection = await connect()
            status, keep = await _exchange(connection, request)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, _BadResponse):
            errors += 1
            if connection is not None:
                connection[1].close()
            return
        if status == 200:
            latencies.append(time.perf_counter() - due)
        else:
            errors += 1
        if keep:
            idle.append(connection)
        else:
            connection[1].close()

    total = int(rate * duration)
    tasks = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        send_lag.append(now - due)
        last_sent = now
        connection = idle.pop() if idle else None
        tasks.append(asyncio.create_task(one(requests[paths[i % len(paths)]], due, connection)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    for _, writer in idle:
        writer.close()
    return {
        "offered_rps": rate,
        "requests": total,
        "ok": len(latencies),
        "errors": errors,
        "sent_rps": round((total - 1) / (last_sent - started), 1) if total > 1 else None,
        "achieved_rps": round(len(latencies) / elapsed, 1),
        **_percentiles(latencies),
        "send_lag_p99_ms": _percentiles(send_lag)["p99_ms"],
        "connections_opened_during_run": opened - opened_before,
        "client_cpu_share": round(cpu / elapsed, 3),
        "latency_from": "scheduled send time",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--paths", type=Path, required=True, help="One request path a line.")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64, help="Opened before the run.")
    parser.add_argument(
        "--cpu", type=int, default=None, help="Pin this process to one CPU (Linux affinity)."
    )
    args = parser.parse_args(argv)
    paths = [p for p in args.paths.read_text(encoding="utf-8").splitlines() if p]
    if not paths:
        raise SystemExit(f"{args.paths}: no request paths")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        open_loop(args.base_url, args.token, paths, args.rate, args.duration, args.connections)
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
