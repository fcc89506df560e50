"""Logging, metrics and per-request context.

- :func:`configure_logging`: JSON lines (or console) on stdout for structlog and stdlib loggers.
- :func:`create_metrics` / :class:`Metrics` / :func:`render`: every Prometheus metric, in a
  registry of its own.
- :class:`RequestContextMiddleware`: request id, access log line and request metrics.
"""

from tocsin.observability.logging import configure_logging, current_request_id, reset_logging
from tocsin.observability.metrics import Metrics, create_metrics, render
from tocsin.observability.middleware import RequestContextMiddleware

__all__ = [
    "Metrics",
    "RequestContextMiddleware",
    "configure_logging",
    "create_metrics",
    "current_request_id",
    "render",
    "reset_logging",
]
