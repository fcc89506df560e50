"""Reading and checking the TOML policy file (``TOCSIN_POLICY_FILE``) over the defaults.

Every problem is collected and reported together as one :class:`PolicyError`, one line each:
``<file>: <key path>: <what is wrong>``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.domain.alerts.routes import parse_alert_routes
from tocsin.domain.errors import PolicyError
from tocsin.domain.model import Severity
from tocsin.domain.monitors.section import parse_monitors
from tocsin.domain.notify.people import parse_people
from tocsin.domain.permissions import (
    ADMIN,
    ANYONE,
    DEFAULT_PERMISSIONS,
    GLOBAL_COMMANDS,
    PERMISSION_KEYS,
    PERMISSION_ROLES,
)
from tocsin.domain.policy import (
    CHANNEL_PLATFORMS,
    COMPONENT_STATUSES,
    DEFAULT_ESCALATION,
    DEFAULT_SEVERITIES,
    HANDOFF_DAILY,
    HANDOFF_WEEKLY,
    PERSON,
    PLATFORMS,
    ROTATIONS,
    Component,
    Escalation,
    Policy,
    Schedule,
    SeverityRule,
    builtin_default_escalation,
)

__all__ = ["load_policy", "parse_policy"]


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check a TOML policy file; any problem raises one :class:`PolicyError`."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise PolicyError([f"{source}: cannot read the policy file: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise PolicyError([f"{source}: the policy file is not UTF-8 text"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([f"{source}: not valid TOML: {exc}"]) from exc
    return parse_policy(data, source)


def parse_policy(data: Mapping[str, Any], source: str = "<policy>") -> Policy:
    """Build a policy from an already-parsed TOML document, over the defaults."""
    check = _Checker(source)
    check.known_keys(data, _TOP_KEYS, "")
    severities = _parse_severities(check, data.get("severity", {}))
    permissions = _parse_permissions(check, data.get("permissions", {}))
    admins = {
        platform: frozenset(check.strings(ids, f"admins.{platform}"))
        for platform, ids in check.table(data.get("admins", {}), "admins").items()
    }
    check.known_keys(admins, PLATFORMS, "admins", "platform")
    schedules = _parse_schedules(check, data)
    escalations = _parse_escalations(check, data, {s.name for s in schedules})
    if all(e.name != DEFAULT_ESCALATION for e in escalations):
        escalations.append(builtin_default_escalation(schedules))
    names = sorted({e.name for e in escalations} - {""})
    for severity, rule in severities.items():
        if rule.escalation is not None and rule.escalation not in names:
            what = f'unknown escalation "{rule.escalation}" (known: {", ".join(names)})'
            check.add(f"severity.{severity}.escalation", what)
    alert_routes = parse_alert_routes(check, data, names)
    components = _parse_components(check, data)
    monitors = parse_monitors(check, data, [c.name for c in components])
    people = parse_people(check, data)
    wanted = "P1, P2, P3 or P4"
    default_severity = check.get(data, "default_severity", "", "P3", _is_severity, wanted)
    if check.problems:
        raise PolicyError(check.problems)
    return Policy(
        MappingProxyType(severities),
        MappingProxyType(permissions),
        MappingProxyType(admins),
        tuple(schedules),
        tuple(escalations),
        tuple(components),
        Severity(default_severity),
        alert_routes,
        monitors,
        people,
    )


# --- reading and checking ----------------------------------------------------------------------
_TOP_KEYS = ("admins", "severity", "permissions", "schedule", "escalation", "component",
             "default_severity", "alert_route", "monitor", "person")  # fmt: skip
_RULE_KEYS = ("announce", "page", "escalation", "statuspage", "update_reminder_minutes",
              "component_status", "slack_channel", "discord_channel")  # fmt: skip
_SCHEDULE_KEYS = ("name", "timezone", "rotation", "hours", "handoff", "members")
_ESCALATION_KEYS = ("name", "levels", "escalate_after_minutes", "repeat")
_COMPONENT_KEYS = ("name", "description")

_T = TypeVar("_T")
_Check = Callable[[object], bool]


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _at_least(least: int) -> _Check:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= least


def _or_false(ok: _Check) -> _Check:
    """Also accept ``false`` (the TOML way to say "none")."""
    return lambda value: value is False or value is None or ok(value)


def _is_severity(value: object) -> bool:
    return isinstance(value, str) and value in Severity.__members__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: object) -> str:
    """A value as the TOML author wrote it, kept short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..."'
    if isinstance(value, Mapping):
        return "a table"
    return "a list" if isinstance(value, list) else str(value)


def _listed(names: Sequence[str]) -> str:
    """``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class _Checker:
    """Collects problems as ``<source>: <path>: <what>`` lines while reading a policy."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, path: str, what: str) -> None:
        self.problems.append(f"{self.source}: {path}: {what}")

    def table(self, value: object, path: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.add(path, f"expected a table, got {_show(value)}")
        return {}

    def known_keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], path: str, kind: str = "key"
    ) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f'did you mean "{close[0]}"?' if close else f"expected {_listed(allowed)}"
                self.add(_join(path, key), f"unknown {kind} ({hint})")

    def get(
        self, table: Mapping[str, Any], key: str, path: str, default: _T, ok: _Check, wanted: str
    ) -> _T:
        """``table[key]`` if given and ``ok``; else the default (and a problem if it was given)."""
        value = table.get(key, default)
        if ok(value):
            return cast(_T, None if value is False and not _is_bool(default) else value)
        self.add(_join(path, key), f"expected {wanted}, got {_show(value)}")
        return default

    def text(self, table: Mapping[str, Any], key: str, path: str, default: str) -> str:
        return self.get(table, key, path, default, _is_text, "some text").strip()

    def strings(self, value: object, path: str) -> list[str]:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        self.add(path, f'expected a list of text such as ["a", "b"], got {_show(value)}')
        return []

    def person(self, key: str, path: str) -> None:
        match = PERSON.fullmatch(key)
        if match is None:
            self.add(path, f'"{key}" is not of the form platform:user_id (e.g. "slack:U0ALICE")')
        elif match["platform"] not in PLATFORMS:
            self.add(path, f'unknown platform in "{key}" (expected {_listed(PLATFORMS)})')

    def timezone(self, table: Mapping[str, Any], path: str) -> str:
        timezone = self.text(table, "timezone", path, "UTC")
        if not _is_timezone(timezone):
            what = f'unknown timezone "{timezone}" (use an IANA name such as "Europe/Berlin")'
            self.add(_join(path, "timezone"), what)
        return timezone

    def tables(self, data: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The ``[[key]]`` array of tables as (path, table) pairs; paths count from 0."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(key, f"expected [[{key}]] entries (an array of tables), got {_show(value)}")
            return
        for index, item in enumerate(value):
            yield f"{key}[{index}]", self.table(item, f"{key}[{index}]")

    def name(self, table: Mapping[str, Any], path: str, kind: str, seen: set[str]) -> str:
        if "name" not in table:
            self.add(_join(path, "name"), f"every {kind} needs a name")
            return ""
        name = self.text(table, "name", path, "")
        if name and name in seen:
            self.add(_join(path, "name"), f'duplicate {kind} name "{name}"')
        seen.add(name)
        return name


# --- sections ----------------------------------------------------------------------------------
def _parse_severities(check: _Checker, value: object) -> dict[Severity, SeverityRule]:
    rules = dict(DEFAULT_SEVERITIES)
    for key, item in check.table(value, "severity").items():
        path = f"severity.{key}"
        if key not in Severity.__members__:
            check.add(path, "unknown severity (expected P1, P2, P3 or P4)")
            continue
        severity = Severity(key)
        rules[severity] = _parse_rule(check, check.table(item, path), path, rules[severity])
    return rules


def _parse_rule(
    check: _Checker, table: Mapping[str, Any], path: str, base: SeverityRule
) -> SeverityRule:
    check.known_keys(table, _RULE_KEYS, path)
    page = check.get(table, "page", path, base.page, _is_bool, "true or false")
    channels = dict(base.announce_channels)
    for platform in CHANNEL_PLATFORMS:
        if f"{platform}_channel" in table:
            channels[platform] = check.text(table, f"{platform}_channel", path, "")
    minutes = "a positive number of minutes, or false for no reminder"
    statuses = f"{', '.join(COMPONENT_STATUSES)} or false"
    return replace(
        base,
        announce=check.get(table, "announce", path, base.announce, _is_bool, "true or false"),
        page=page,
        escalation=_rule_escalation(check, table, path, page, base.escalation),
        statuspage=check.get(table, "statuspage", path, base.statuspage, _is_bool, "true or false"),
        update_reminder_minutes=check.get(
            table, "update_reminder_minutes", path, base.update_reminder_minutes,
            _or_false(_at_least(1)), minutes,
        ),
        component_status=check.get(
            table, "component_status", path, base.component_status,
            _or_false(lambda value: value in COMPONENT_STATUSES), statuses,
        ),
        announce_channels=MappingProxyType(channels),
    )  # fmt: skip


def _rule_escalation(
    check: _Checker, table: Mapping[str, Any], path: str, page: bool, base: str | None
) -> str | None:
    """Set exactly when paging: paging with none given uses "default"; no page, no escalation."""
    fallback = (base or DEFAULT_ESCALATION) if page else None
    if "escalation" not in table:
        return fallback
    wanted = "an escalation name, or false"
    name = check.get(table, "escalation", path, fallback, _or_false(_is_text), wanted)
    given = table["escalation"]
    if page and given is False:
        check.add(_join(path, "escalation"), 'page is on, so it needs one ("default" is built in)')
    if not page and _is_text(given):
        what = "page is off, so no escalation is used; remove it or set page = true"
        check.add(_join(path, "escalation"), what)
    return name.strip() if page and name else None


def _parse_permissions(check: _Checker, value: object) -> dict[str, frozenset[str]]:
    permissions = dict(DEFAULT_PERMISSIONS)
    table = check.table(value, "permissions")
    check.known_keys(table, PERMISSION_KEYS, "permissions", "subcommand")
    for command, item in table.items():
        path = f"permissions.{command}"
        roles = check.strings(item, path)
        unknown = [role for role in roles if role not in PERMISSION_ROLES]
        for role in unknown:
            check.add(path, f'unknown role "{role}" (expected {_listed(PERMISSION_ROLES)})')
        scoped = sorted(set(roles) - {ADMIN, ANYONE, *unknown})
        if command in GLOBAL_COMMANDS and scoped:
            what = f'{command} is not about one incident, so use "anyone" or "admin", not '
            check.add(path, what + _listed(scoped))
        permissions[command] = frozenset(roles)
    return permissions


def _parse_schedules(check: _Checker, data: Mapping[str, Any]) -> list[Schedule]:
    seen: set[str] = set()
    schedules = []
    for path, table in check.tables(data, "schedule"):
        check.known_keys(table, _SCHEDULE_KEYS, path)
        name = check.name(table, path, "schedule", seen)
        timezone = check.timezone(table, path)
        rotation, hours = _rotation(check, table, path)
        handoff = _handoff(check, table, path, rotation)
        members = check.strings(table.get("members", []), _join(path, "members"))
        if not members:
            check.add(_join(path, "members"), "a schedule needs at least one member")
        for member in members:
            check.person(member, _join(path, "members"))
        rotation = rotation or "weekly"
        schedules.append(Schedule(name, timezone, rotation, hours, handoff, tuple(members)))
    return schedules


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _rotation(
    check: _Checker, table: Mapping[str, Any], path: str
) -> tuple[str | None, int | None]:
    """``rotation = "daily"|"weekly"``, or hour shifts: ``hours = N`` (``rotation = "hours"``)."""
    has_hours = "hours" in table
    hours = check.get(table, "hours", path, 1, _at_least(1), "a positive whole number")
    rotation = table.get("rotation", "hours" if has_hours else None)
    if rotation not in ROTATIONS:
        what = f'expected "daily", "weekly" or "hours", got {_show(rotation)}'
        if rotation is None:
            what = 'missing (use "daily", "weekly", or hours = N for shifts of N hours)'
        check.add(_join(path, "rotation"), what)
        return None, None
    if rotation == "hours" and not has_hours:
        check.add(_join(path, "hours"), 'rotation is "hours", so say how many: hours = 12')
    if rotation != "hours" and has_hours:
        check.add(_join(path, "hours"), f'only used with hour shifts, not rotation = "{rotation}"')
    return str(rotation), (hours if rotation == "hours" else None)


def _handoff(check: _Checker, table: Mapping[str, Any], path: str, rotation: str | None) -> str:
    """When the shift changes: "monday 09:00" for weekly rotations, "09:00" otherwise."""
    example = "monday 09:00" if rotation in ("weekly", None) else "09:00"
    handoff = check.text(table, "handoff", path, example)
    pattern = HANDOFF_WEEKLY if rotation == "weekly" else HANDOFF_DAILY
    if rotation is not None and pattern.fullmatch(handoff) is None:
        what = f'bad handoff "{handoff}" for a {rotation} rotation (expected e.g. "{example}")'
        check.add(_join(path, "handoff"), what)
    return handoff.lower()


def _parse_escalations(
    check: _Checker, data: Mapping[str, Any], schedules: set[str]
) -> list[Escalation]:
    seen: set[str] = set()
    escalations = []
    for path, table in check.tables(data, "escalation"):
        check.known_keys(table, _ESCALATION_KEYS, path)
        name = check.name(table, path, "escalation", seen)
        levels = _levels(check, table.get("levels"), _join(path, "levels"), schedules)
        positive, not_negative = "a positive whole number", "a whole number, 0 or more"
        after = check.get(table, "escalate_after_minutes", path, 5, _at_least(1), positive)
        repeat = check.get(table, "repeat", path, 0, _at_least(0), not_negative)
        escalations.append(Escalation(name, levels, after, repeat))
    return escalations


def _levels(
    check: _Checker, value: object, path: str, schedules: set[str]
) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, list) for v in value):
        example = '[["schedule:primary"], ["slack:U0LEAD"]]'
        check.add(path, f"expected a list of levels, each a list of targets, e.g. {example}")
        return ()
    levels = []
    for index, item in enumerate(value):
        level_path = f"{path}[{index}]"
        targets = check.strings(item, level_path)
        if not targets:
            check.add(level_path, "a level needs at least one target")
        for target in targets:
            if not target.startswith("schedule:"):
                check.person(target, level_path)
            elif target.removeprefix("schedule:") not in schedules:
                known = ", ".join(sorted(schedules - {""})) or "none are defined"
                check.add(level_path, f'unknown schedule in "{target}" (known: {known})')
        levels.append(tuple(targets))
    return tuple(levels)


def _parse_components(check: _Checker, data: Mapping[str, Any]) -> list[Component]:
    seen: set[str] = set()
    components = []
    for path, table in check.tables(data, "component"):
        check.known_keys(table, _COMPONENT_KEYS, path)
        name = check.name(table, path, "component", seen)
        description = check.get(table, "description", path, "", _is_str, "text")
        components.append(Component(name, description.strip()))
    return components
