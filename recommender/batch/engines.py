"""Where batch partitions run: in this process, or as Ray tasks on a cluster.

The engine is a thin layer: it gets :class:`~recommender.batch.pipeline.PartitionTask` values
and returns their results; all the work is :func:`~recommender.batch.pipeline.run_partition`.
Ray gives the scheduling, the placement on any node of a cluster and the fault tolerance — a
task whose worker dies is re-run (``max_retries``), which is safe because a partition publishes
its directory atomically. Ray is an optional dependency (``pip install 'nengli[batch]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from competency_model.errors import NengliError
from recommender.batch.pipeline import PartitionResult, PartitionTask, run_partition

__all__ = ["ENGINES", "RAY_TASK_RETRIES", "run_local", "run_partitions", "run_ray"]

ENGINES: tuple[str, ...] = ("local", "ray")
#: Times Ray re-runs a partition whose worker died (a node lost, a process killed).
RAY_TASK_RETRIES = 3


def run_local(tasks: Sequence[PartitionTask]) -> list[PartitionResult]:
    """Run every partition one after the other in this process."""
    return [run_partition(task) for task in tasks]


def _ray() -> Any:
    try:
        import ray
    except ImportError as error:  # pragma: no cover - ray is in the dev extra
        raise NengliError(
            "需要安装 Ray · the ray engine needs Ray: pip install 'nengli[batch]' "
            "(or use --engine local)"
        ) from error
    return ray


def run_ray(
    tasks: Sequence[PartitionTask], address: str | None = None, num_cpus: int | None = None
) -> list[PartitionResult]:
    """Run every partition as a Ray task (one CPU each) and wait for all of them.

    Connects to the cluster at ``address``; without one, reuses the Ray this process is already
    connected to or starts a local one with ``num_cpus`` CPUs (all of them by default).
    """
    ray = _ray()
    started_here = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise NengliError(
                f"无法连接 Ray 集群 · cannot reach the Ray cluster at {address!r}: {error}"
            ) from error
        started_here = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=RAY_TASK_RETRIES)(run_partition)
        return list(ray.get([remote.remote(task) for task in tasks]))
    finally:
        if started_here:
            ray.shutdown()


def run_partitions(
    tasks: Sequence[PartitionTask], engine: str, address: str | None = None
) -> list[PartitionResult]:
    """Run ``tasks`` on ``engine`` (``local`` or ``ray``)."""
    if engine == "local":
        if address:
            raise NengliError("--address is only for --engine ray")
        return run_local(tasks)
    if engine == "ray":
        return run_ray(tasks, address)
    raise NengliError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
