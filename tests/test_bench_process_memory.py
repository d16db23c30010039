"""The per-worker memory the serving benchmarks report (issue 15 §1: RSS per worker, 1 and 4)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from bench.process_memory import server_workers_memory, summarise

# A parent that only supervises, like uvicorn with --workers N: its children are the workers.
SUPERVISOR = """
import multiprocessing, sys, time
def work(n):
    block = bytearray(n * 1024 * 1024)  # private pages this worker alone holds
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(60)
if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=work, args=(mib,)) for mib in (8, 64)]
    for p in procs:
        p.start()
    print("started", flush=True)
    time.sleep(60)
"""


def test_summary_is_the_mean_per_worker_with_the_largest_beside_it() -> None:
    rows = [
        {"rss_gb": 1.0, "pss_gb": 0.5, "uss_gb": 0.25},
        {"rss_gb": 2.0, "pss_gb": 1.5, "uss_gb": 1.25},
    ]

    summary = summarise(rows)

    assert summary == {
        "rss_gb": 1.5,
        "pss_gb": 1.0,
        "uss_gb": 0.75,
        "max_rss_gb": 2.0,
        "max_uss_gb": 1.25,
        "processes": 2,
    }


def test_no_worker_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no worker"):
        summarise([])


def test_a_supervisor_is_measured_through_its_workers() -> None:
    parent = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        summary = server_workers_memory(parent.pid)
        # The workers touch their blocks after starting; wait until the larger one holds it.
        while summary["max_uss_gb"] < 60 / 1024 and time.monotonic() < deadline:
            time.sleep(0.2)
            summary = server_workers_memory(parent.pid)
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()

    assert summary["processes"] == 2
    assert summary["max_uss_gb"] >= 60 / 1024  # the 64 MiB worker, not the parent
    assert summary["uss_gb"] < summary["max_uss_gb"]  # the 8 MiB worker pulls the mean down


def test_a_single_process_server_is_measured_itself() -> None:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        summary = server_workers_memory(server.pid)
    finally:
        server.kill()
        server.wait()

    assert summary["processes"] == 1
    assert summary["rss_gb"] > 0
