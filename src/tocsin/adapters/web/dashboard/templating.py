"""Jinja2 for the dashboard and the API docs page: autoescaping always on, strict undefined.

Every value a template prints is escaped (an incident titled ``<script>`` shows as text); the
templates never mark user text safe.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jinja2 is imported at the first page rendered (~2 MB idle otherwise)
    from jinja2 import Environment


def when(value: datetime | None) -> str:
    """``2026-03-01 09:00 UTC``; an empty string for no time."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


@functools.cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("tocsin.adapters.web.dashboard", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
