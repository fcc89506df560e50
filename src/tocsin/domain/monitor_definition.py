"""A monitor defined through the API or the CLI: the keys of one ``[[monitor]]`` table, checked
by the policy file's own parser (:func:`~tocsin.domain.monitors.section.parse_monitor`), so the
same rules give the same messages, here keyed by the field they are about.

Names follow the parser's rule for URLs (at most :data:`MAX_NAME` characters, no ``/``, no
control characters), as in the policy file. A module of its own beside ``policy_file`` (not in
the monitors package): it reads the policy file's checker, which itself imports the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from tocsin.domain.errors import ParseError
from tocsin.domain.monitors.model import Monitor
from tocsin.domain.monitors.section import MAX_NAME, parse_monitor
from tocsin.domain.policy_file import _Checker

__all__ = ["MAX_NAME", "MonitorInvalid", "load_definition", "validate_definition"]

_PATH = "monitor"


class MonitorInvalid(ParseError):
    """Fields of a monitor definition are wrong: ``errors`` maps each field (``url``,
    ``headers.X-Token`` …) to what is wrong with it; the message lists them all."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {what}" for field, what in errors.items()))
        self.errors = dict(errors)


class _FieldChecker(_Checker):
    """The policy checker, keeping each problem under the field it names."""

    def __init__(self) -> None:
        super().__init__("api")
        self.fields: dict[str, str] = {}

    def add(self, path: str, what: str) -> None:
        super().add(path, what)
        field = path.removeprefix(_PATH).lstrip(".") or "(body)"
        self.fields.setdefault(field, what)


def validate_definition(definition: Mapping[str, Any], components: Sequence[str]) -> Monitor:
    """The monitor ``definition`` describes, with ``source`` "api"; raises
    :class:`MonitorInvalid` naming every bad field. ``components`` are the status-page
    components that exist. A name already taken is a conflict the caller reports."""
    check = _FieldChecker()
    monitor = parse_monitor(check, definition, _PATH, components, set())
    if check.fields:
        raise MonitorInvalid(check.fields)
    return replace(monitor, source="api")


def load_definition(definition: Mapping[str, Any], restricted: bool) -> Monitor | None:
    """A stored definition read back (its components are not checked again: one deleted since
    leaves the monitor running without it); None if it no longer passes the rules."""
    check = _FieldChecker()
    monitor = parse_monitor(check, definition, _PATH, None, set())
    if check.fields:
        return None
    return replace(monitor, source="api", restricted=restricted)
