"""The dashboard's "Add a monitor" form read into the keys of a ``[[monitor]]`` table.

Only the shape is settled here (blank fields left out, whole numbers made numbers, the
comma-separated status codes made a list, the checkbox a boolean); the values are judged by the
same rules as the API's and the CLI's (``services/monitors/manage.py``, which raises
:class:`~tocsin.domain.monitor_definition.MonitorInvalid` naming each field). So a field that is
not a number reaches those rules as typed and comes back with their message
(``interval_seconds: expected a whole number of seconds from 10 to 86400, got "abc"``).
"""

from __future__ import annotations

import re
from typing import Any

from tocsin.domain.monitor_definition import MonitorInvalid

__all__ = ["KINDS", "MAX_FIELD", "read_definition"]

KINDS = ("http", "tcp")
MAX_FIELD = 2000  # as the API's body (adapters/web/api/monitors.py)
_TEXT = ("name", "kind", "url", "target", "keyword", "absent_keyword", "component")
_NUMBERS = ("interval_seconds", "timeout_seconds", "max_response_ms", "tls_expiry_warn_days",
            "down_after", "up_after")  # fmt: skip
_WHOLE = re.compile(r"-?\d{1,9}")
_STATUSES = 'status codes separated by commas, such as "200, 204"'


def _number(value: str) -> int | str:
    return int(value) if _WHOLE.fullmatch(value) else value


def read_definition(form: dict[str, str]) -> dict[str, Any]:
    """The definition the form describes; :class:`MonitorInvalid` for a field too long or
    status codes that are not numbers (nothing else is judged here)."""
    definition: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in (*_TEXT, *_NUMBERS, "expect_status"):
        value = form.get(key, "").strip()
        if not value:
            continue
        if len(value) > MAX_FIELD:
            errors[key] = f"at most {MAX_FIELD:,} characters, got {len(value):,}"
        elif key in _NUMBERS:
            definition[key] = _number(value)
        elif key == "expect_status":
            codes = [code.strip() for code in value.split(",") if code.strip()]
            if not all(_WHOLE.fullmatch(code) for code in codes):
                errors[key] = f"expected {_STATUSES}, got {value[:60]!r}"
            definition[key] = [_number(code) for code in codes]
        else:
            definition[key] = value
    status = form.get("component_status", "").strip()
    if "component" in definition and status:  # the status is only asked for with a component
        definition["component_status"] = status
    if form.get("follow_redirects"):
        definition["follow_redirects"] = True
    if errors:
        raise MonitorInvalid(errors)
    return definition
