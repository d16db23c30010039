"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the server does.

A closed loop (wrk, or N clients each waiting for its answer) slows down with the server and so
hides queueing: the latency it reports is that of a load the server chose. Here request ``i`` is
due at ``start + i / rate``; its latency is measured **from that scheduled time** to the last
byte of the answer, so a server (or a generator) that falls behind shows the delay in the
percentiles instead of quietly sending fewer requests (no coordinated omission). The generator
also reports how late it sent requests, so a saturated client is visible in the JSON.

Run as its own process beside the server (``bench.bench_lists_serving`` does)::

    python -m bench.open_loop --base-url http://127.0.0.1:8000 --token KEY \
        --paths paths.txt --rate 200 --duration 20

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

__all__ = ["open_loop"]


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    values = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "max_ms": round(float(values.max()), 2),
    }


async def open_loop(
    base_url: str, token: str, paths: list[str], rate: float, duration: float
) -> dict[str, Any]:
    """Send ``rate × duration`` GETs on schedule; latency from each request's due time."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    latencies: list[float] = []
    send_lag: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        # Open connections first so the measured run does not pay the TCP handshakes.
        await asyncio.gather(*(client.get("/healthz") for _ in range(32)))

        async def one(path: str, due: float) -> None:
            nonlocal errors
            send_lag.append(time.perf_counter() - due)
            try:
                response = await client.get(path)
            except httpx.HTTPError:
                errors += 1
                return
            if response.status_code == 200:
                latencies.append(time.perf_counter() - due)
            else:
                errors += 1

        total = int(rate * duration)
        tasks = []
        started = time.perf_counter()
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(paths[i % len(paths)], due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {
        "offered_rps": rate,
        "requests": total,
        "ok": len(latencies),
        "errors": errors,
        "achieved_rps": round(len(latencies) / elapsed, 1),
        **_percentiles(latencies),
        "send_lag_p99_ms": _percentiles(send_lag)["p99_ms"],
        "latency_from": "scheduled send time",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--paths", type=Path, required=True, help="One request path a line.")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args(argv)
    paths = [p for p in args.paths.read_text(encoding="utf-8").splitlines() if p]
    if not paths:
        raise SystemExit(f"{args.paths}: no request paths")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(open_loop(args.base_url, args.token, paths, args.rate, args.duration))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
