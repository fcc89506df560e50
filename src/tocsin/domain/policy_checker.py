"""The checking half of reading the policy file (domain/policy_file.py): :class:`Checker`
collects every problem as one ``<file>: <key path>: <what is wrong>`` line, and the small
predicates and phrasings its callers share (``is_bool``, ``at_least``, ``show``, ``listed``...).
The ``[[alert_route]]``, ``[[monitor]]`` and ``[[person]]`` section parsers use it too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.domain.model import Severity
from tocsin.domain.policy import PERSON, PLATFORMS

_T = TypeVar("_T")
Check = Callable[[object], bool]


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def at_least(least: int) -> Check:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= least


def or_false(ok: Check) -> Check:
    """Also accept ``false`` (the TOML way to say "none")."""
    return lambda value: value is False or value is None or ok(value)


def is_severity(value: object) -> bool:
    return isinstance(value, str) and value in Severity.__members__


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def show(value: object) -> str:
    """A value as the TOML author wrote it, kept short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..."'
    if isinstance(value, Mapping):
        return "a table"
    return "a list" if isinstance(value, list) else str(value)


def listed(names: Sequence[str]) -> str:
    """``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class Checker:
    """Collects problems as ``<source>: <path>: <what>`` lines while reading a policy."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, path: str, what: str) -> None:
        self.problems.append(f"{self.source}: {path}: {what}")

    def table(self, value: object, path: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.add(path, f"expected a table, got {show(value)}")
        return {}

    def known_keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], path: str, kind: str = "key"
    ) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f'did you mean "{close[0]}"?' if close else f"expected {listed(allowed)}"
                self.add(join(path, key), f"unknown {kind} ({hint})")

    def get(
        self, table: Mapping[str, Any], key: str, path: str, default: _T, ok: Check, wanted: str
    ) -> _T:
        """``table[key]`` if given and ``ok``; else the default (and a problem if it was given)."""
        value = table.get(key, default)
        if ok(value):
            return cast(_T, None if value is False and not is_bool(default) else value)
        self.add(join(path, key), f"expected {wanted}, got {show(value)}")
        return default

    def text(self, table: Mapping[str, Any], key: str, path: str, default: str) -> str:
        return self.get(table, key, path, default, is_text, "some text").strip()

    def strings(self, value: object, path: str) -> list[str]:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        self.add(path, f'expected a list of text such as ["a", "b"], got {show(value)}')
        return []

    def person(self, key: str, path: str) -> None:
        match = PERSON.fullmatch(key)
        if match is None:
            self.add(path, f'"{key}" is not of the form platform:user_id (e.g. "slack:U0ALICE")')
        elif match["platform"] not in PLATFORMS:
            self.add(path, f'unknown platform in "{key}" (expected {listed(PLATFORMS)})')

    def timezone(self, table: Mapping[str, Any], path: str) -> str:
        timezone = self.text(table, "timezone", path, "UTC")
        if not is_timezone(timezone):
            what = f'unknown timezone "{timezone}" (use an IANA name such as "Europe/Berlin")'
            self.add(join(path, "timezone"), what)
        return timezone

    def tables(self, data: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The ``[[key]]`` array of tables as (path, table) pairs; paths count from 0."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(key, f"expected [[{key}]] entries (an array of tables), got {show(value)}")
            return
        for index, item in enumerate(value):
            yield f"{key}[{index}]", self.table(item, f"{key}[{index}]")

    def name(self, table: Mapping[str, Any], path: str, kind: str, seen: set[str]) -> str:
        if "name" not in table:
            self.add(join(path, "name"), f"every {kind} needs a name")
            return ""
        name = self.text(table, "name", path, "")
        if name and name in seen:
            self.add(join(path, "name"), f'duplicate {kind} name "{name}"')
        seen.add(name)
        return name


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
