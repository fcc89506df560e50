"""The process clock: aware UTC ``datetime``s. Every component takes a ``clock`` argument that
defaults to :func:`utcnow`, so tests inject their own."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
