"""Memory of server processes as the kernel accounts it: RSS, PSS and private (USS) pages.

RSS counts a memory-mapped model once in every worker that touched it; PSS splits shared pages
between the processes that map them, and USS is what a worker alone holds. Issue 15 §1 asks for
the memory *per worker* with 1 and 4 workers, so the mean and the largest worker are both kept:
one worker that copied the model would stand out in ``max_uss_gb``.
"""

from __future__ import annotations

from typing import Any

import psutil

GB = 1024**3
KEYS = ("rss_gb", "pss_gb", "uss_gb")


def process_memory(process: psutil.Process) -> dict[str, float]:
    """RSS, PSS and USS of one process in GB (``memory_full_info`` reads /proc/PID/smaps_rollup)."""
    info = process.memory_full_info()
    return {"rss_gb": info.rss / GB, "pss_gb": info.pss / GB, "uss_gb": info.uss / GB}


def summarise(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Mean per worker of each figure, the largest RSS and USS, and how many workers there were."""
    if not rows:
        raise ValueError("no worker process to measure")
    summary: dict[str, Any] = {key: round(sum(r[key] for r in rows) / len(rows), 3) for key in KEYS}
    summary |= {f"max_{key}": round(max(r[key] for r in rows), 3) for key in ("rss_gb", "uss_gb")}
    summary["processes"] = len(rows)
    return summary


def server_workers_memory(pid: int) -> dict[str, Any]:
    """Per-worker memory of a uvicorn server: its worker children, or itself when it has none.

    With ``--workers N`` uvicorn's parent only supervises (it never imports the app), so its
    pages are left out; a single-process server serves from the parent and is measured itself.
    """
    parent = psutil.Process(pid)
    workers = [
        child
        for child in parent.children(recursive=False)
        if "multiprocessing.resource_tracker" not in " ".join(child.cmdline())
    ]
    return summarise([process_memory(w) for w in (workers or [parent])])
