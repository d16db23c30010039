"""Metrics, JSON logs and request ids: what an operator watches a running service with.

* :mod:`.metrics` — Prometheus counters and histograms, and ``/metrics``;
* :mod:`.logs` — every log line as one JSON object carrying the request id (structlog);
* :mod:`.middleware` — the ASGI middleware that gives each request its id, times it, counts it
  and writes the optional access log.
"""

from service.observability.logs import configure_logging, request_id
from service.observability.metrics import observe_import, render_metrics
from service.observability.middleware import RequestContext

__all__ = ["RequestContext", "configure_logging", "observe_import", "render_metrics", "request_id"]
