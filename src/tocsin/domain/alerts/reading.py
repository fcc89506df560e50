"""Reading parsed JSON safely: each getter checks one field's shape and raises
:class:`~tocsin.domain.errors.AlertPayloadError` naming it (``alerts[3].labels``) otherwise.

Nothing here raises anything else, whatever JSON value it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from tocsin.domain.alerts.model import AlertStatus, frozen_map
from tocsin.domain.errors import AlertPayloadError

__all__ = ["Reader", "parse_time"]

MAX_TEXT = 64 * 1024  # characters in any one string field
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<clock>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,12}))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})"
)
_STATUSES = tuple(status.value for status in AlertStatus)


def parse_time(text: str, where: str) -> datetime | None:
    """An RFC 3339 time (up to nanoseconds, as Go writes it) as aware UTC; the zero time
    (year 1, Alertmanager's "not set") is ``None``."""
    match = _TIME.fullmatch(text)
    if match is None:
        what = f'expected an RFC 3339 time such as "2024-05-01T12:00:00Z", got "{text[:40]}"'
        raise AlertPayloadError(where, what)
    try:
        local = datetime.fromisoformat(f"{match['date']}T{match['clock']}")
        if local.year <= 1:
            return None
        micros = int((match["frac"] or "0")[:6].ljust(6, "0"))
        zone = match["zone"].upper()
        offset = UTC if zone == "Z" else _offset(zone)
        return local.replace(microsecond=micros, tzinfo=offset).astimezone(UTC)
    except (ValueError, OverflowError):
        raise AlertPayloadError(where, f'not a valid time: "{text[:40]}"') from None


def _offset(zone: str) -> timezone:
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


class Reader:
    """One JSON object and its path in the body; getters name the field in their errors."""

    def __init__(self, value: object, path: str = "") -> None:
        if not isinstance(value, Mapping):
            raise AlertPayloadError(path, f"expected an object, got {_kind(value)}")
        self.data: Mapping[str, Any] = value
        self.path = path

    def where(self, key: str) -> str:
        return _join(self.path, key)

    def _value(self, key: str, required: bool) -> object:
        value = self.data.get(key)
        if value is None and required:
            raise AlertPayloadError(self.where(key), "missing")
        return value

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self._value(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise AlertPayloadError(self.where(key), f"expected text, got {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise AlertPayloadError(self.where(key), f"longer than {MAX_TEXT} characters")
        return value

    def nonempty(self, key: str) -> str:
        value = self.text(key, required=True)
        if not value.strip():
            raise AlertPayloadError(self.where(key), "must not be empty")
        return value

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        value = self.text(key, required=True)
        if value not in allowed:
            wanted = " or ".join(f'"{item}"' for item in allowed)
            raise AlertPayloadError(self.where(key), f'expected {wanted}, got "{value[:40]}"')
        return value

    def status(self, key: str = "status") -> AlertStatus:
        return AlertStatus(self.choice(key, _STATUSES))

    def count(self, key: str) -> int:
        value = self._value(key, False)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AlertPayloadError(self.where(key), f"expected a whole number, got {_kind(value)}")
        return value

    def strings(self, key: str, *, required: bool = False) -> Mapping[str, str]:
        """An object whose every value is text (labels, annotations)."""
        value = self._value(key, required)
        if value is None:
            return frozen_map()
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise AlertPayloadError(self.where(key), "expected an object of strings")
        if sum(len(k) + len(v) for k, v in value.items()) > MAX_TEXT:
            raise AlertPayloadError(self.where(key), f"longer than {MAX_TEXT} characters")
        return frozen_map(value)

    def numbers(self, key: str) -> dict[str, float]:
        """An object whose every value is a number (Grafana's ``values``)."""
        value = self._value(key, False)
        if value is None:
            return {}
        if isinstance(value, Mapping) and all(_is_number(v) for v in value.values()):
            try:
                return {k: float(v) for k, v in sorted(value.items())}
            except OverflowError:
                pass  # an integer too large for a float
        raise AlertPayloadError(self.where(key), "expected an object of numbers")

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        text = self.text(key, required=required)
        return parse_time(text, self.where(key)) if text else None

    def url(self, key: str) -> str:
        """An http(s) URL, or "" when missing, empty or of another scheme (not shown as a link)."""
        text = self.text(key).strip()
        return text if _is_web_url(text) else ""

    def objects(self, key: str) -> list[Reader]:
        """A non-empty list of objects, each as a :class:`Reader` at ``key[i]``."""
        value = self._value(key, True)
        if not isinstance(value, list):
            raise AlertPayloadError(self.where(key), f"expected a list, got {_kind(value)}")
        if not value:
            raise AlertPayloadError(self.where(key), "expected at least one alert")
        return [Reader(item, f"{self.where(key)}[{index}]") for index, item in enumerate(value)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
