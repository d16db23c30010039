"""Prometheus metrics of the service (prometheus-client).

Process-wide counters live in prometheus-client's default registry, so every app of a test run
shares them; what belongs to one app (its model version, its ranking cache) is read at scrape
time from that app's state. With ``nengli serve --workers N`` each worker is its own process:
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before start and ``/metrics`` sums the
counters of all workers (prometheus-client's multi-process mode); without it, a scrape sees the
worker that answered it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from service.state import ServiceState

__all__ = [
    "CONTENT_TYPE_LATEST",
    "IMPORT_ROWS",
    "REQUESTS",
    "REQUEST_SECONDS",
    "observe_import",
    "render_metrics",
]

REQUESTS = Counter(
    "nengli_http_requests_total",
    "HTTP requests answered, per route template, method and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "nengli_http_request_duration_seconds",
    "Time from the first byte in to the last byte out, per route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IMPORT_ROWS = Counter(
    "nengli_import_rows_total",
    "Rows of POST /v1/imports files, per table and outcome (stored or rejected).",
    ["table", "outcome"],
)


def observe_import(table: str, stored: int, rejected: int) -> None:
    """Count one import's rows."""
    IMPORT_ROWS.labels(table, "stored").inc(stored)
    IMPORT_ROWS.labels(table, "rejected").inc(rejected)


class _StateCollector(Collector):
    """This worker's model version and ranking cache, read when Prometheus scrapes."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        model = GaugeMetricFamily(
            "nengli_model_info", "The model this worker serves (value 1).", labels=["version"]
        )
        current = self._state.registry.current
        if current is not None:
            model.add_metric([current.version], 1.0)
        yield model
        loaded = GaugeMetricFamily("nengli_model_loaded", "1 when a model is loaded, else 0.")
        loaded.add_metric([], 1.0 if current is not None else 0.0)
        yield loaded
        cache = self._state.ranking_cache
        lookups = CounterMetricFamily(
            "nengli_ranking_cache_lookups",
            "Ranking cache lookups of this worker since start, by result.",
            labels=["result"],
        )
        lookups.add_metric(["hit"], float(cache.hits))
        lookups.add_metric(["miss"], float(cache.misses))
        yield lookups
        entries = GaugeMetricFamily("nengli_ranking_cache_entries", "Rankings kept now.")
        entries.add_metric([], float(len(cache)))
        yield entries


def render_metrics(state: ServiceState) -> bytes:
    """The exposition text: process-wide metrics (all workers in multi-process mode) + state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        text = generate_latest(shared)
    else:
        text = generate_latest(REGISTRY)
    own = CollectorRegistry(auto_describe=False)
    own.register(_StateCollector(state))
    return text + generate_latest(own)
