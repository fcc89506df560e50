"""Structured logging: one JSON object per line on stdout (or a console format for humans).

Call :func:`configure_logging` once at start-up. structlog loggers and standard-library loggers
(uvicorn, SQLAlchemy, Alembic, httpx) go through the same formatter, so every line has the same
shape: ``timestamp`` (ISO 8601, UTC), ``level``, ``event``, ``logger`` and whatever was bound.
Values bound with :func:`structlog.contextvars.bind_contextvars` (the request middleware binds
``request_id``) appear on every line logged in that context, from either kind of logger.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_FIRST_KEYS = ("timestamp", "level", "logger", "event")
# Loggers of libraries that would otherwise log a line per SQL statement or HTTP call.
QUIET_LOGGERS = ("sqlalchemy", "httpx", "httpcore", "aiosqlite", "asyncio", "uvicorn.access")
# Loggers that may have handlers of their own (uvicorn installs some): route them to ours.
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` is at the time (pytest swaps it between tests)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn passes a coloured copy of each message as ``extra``; keep only the plain one."""
    event_dict.pop("color_message", None)
    return event_dict


def _key_order(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Put ``timestamp``, ``level``, ``logger``, ``event`` first so lines read left to right."""
    first = {key: event_dict.pop(key) for key in _FIRST_KEYS if key in event_dict}
    first.update(event_dict)
    return first


def _orjson_dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=repr).decode()


def _shared_processors() -> list[Processor]:
    """Run on every line, whether it came from structlog or from the standard library."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _renderer(fmt: str) -> list[Processor]:
    if fmt == "console":
        colors = sys.stdout.isatty()
        return [structlog.dev.ConsoleRenderer(colors=colors)]
    return [
        structlog.processors.format_exc_info,  # a plain traceback string, never local variables
        _key_order,
        structlog.processors.JSONRenderer(serializer=_orjson_dumps),
    ]


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Send all logging to stdout as JSON lines (``fmt="json"``) or for humans (``"console"``).

    Safe to call again: the previous configuration is replaced, not added to.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in ("json", "console"):
        raise ValueError(f"unknown log format {fmt!r}; use json or console")
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger first used before configure_logging still follows it later.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(fmt)],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def reset_logging() -> None:
    """Undo :func:`configure_logging` (for tests): structlog defaults, our handler removed."""
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
    root.setLevel(logging.WARNING)


def current_request_id() -> str | None:
    """The ``request_id`` bound for the request being handled, if any (for error pages)."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
