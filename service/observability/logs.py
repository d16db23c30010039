"""JSON log lines with the request id on every line of a request (structlog).

:func:`configure_logging` routes the standard library's logging (our ``nengli.*`` loggers,
uvicorn's, SQLAlchemy's) through structlog's formatter, so every line is one JSON object with
``timestamp``, ``level``, ``logger``, ``event`` and — inside a request — ``request_id``, bound
by :class:`~service.observability.middleware.RequestContext` in a context variable.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "request_id"]

_HANDLER_NAME = "nengli-json"


def request_id() -> str | None:
    """The id of the request being served by this task or thread, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value is not None else None


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


def _extra_fields(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Keep the ``extra={…}`` of standard-library calls as fields of the line."""
    record = event.get("_record")
    for key, value in getattr(record, "__dict__", {}).items():
        if key not in _STANDARD and not key.startswith("_") and key not in event:
            event[key] = value
    return event


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Make the root logger write JSON lines at ``level`` (idempotent; replaces our handler)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, _extra_fields],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Ours from an earlier call, and plain stream handlers (``logging.basicConfig``), which
    # would print every line a second time without the JSON; test capture handlers stay.
    for old in [
        h
        for h in root.handlers
        if h.get_name() == _HANDLER_NAME or type(h) is logging.StreamHandler
    ]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's ``--no-access-log`` leaves its access logger without handlers and not
    # propagating: that choice is kept, else every request would write a JSON line the server
    # was told not to write (the service has its own access log, ``Settings.access_log``).
    access = logging.getLogger("uvicorn.access")
    access_off = not access.propagate and not access.handlers
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = not (access_off and name == "uvicorn.access")
