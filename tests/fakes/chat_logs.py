"""Captured structlog entries, and the check the chat tests make on them: bad input that was
handled logs at most a warning, never an error with a traceback."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from structlog.testing import capture_logs

Entry = MutableMapping[str, Any]


@contextmanager
def captured() -> Iterator[list[Entry]]:
    """Every structlog entry logged inside the block."""
    with capture_logs() as entries:
        yield entries


def tracebacks(entries: list[Entry]) -> list[Entry]:
    """The entries that are errors or carry a traceback (``log.exception`` and friends)."""
    return [
        e
        for e in entries
        if e.get("log_level") in ("error", "critical", "exception")
        or e.get("exc_info")
        or "exception" in e
    ]


def warnings(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.get("log_level") == "warning"]
