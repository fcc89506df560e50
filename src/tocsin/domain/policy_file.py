"""Reading and checking the TOML policy file (``TOCSIN_POLICY_FILE``) over the defaults.

Every problem is collected and reported together as one :class:`PolicyError`, one line each:
``<file>: <key path>: <what is wrong>``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

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
    PLATFORMS,
    ROTATIONS,
    Component,
    Escalation,
    Policy,
    Schedule,
    SeverityRule,
    builtin_default_escalation,
)
from tocsin.domain.policy_checker import (
    Checker,
    at_least,
    is_bool,
    is_severity,
    is_str,
    is_text,
    join,
    listed,
    or_false,
    show,
)

__all__ = ["load_policy", "parse_policy"]
_Checker = Checker  # the name the section parsers elsewhere (alerts, monitors, people) type with


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
    check = Checker(source)
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
    default_severity = check.get(data, "default_severity", "", "P3", is_severity, wanted)
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


# --- the keys each table may have ----------------------------------------------------------------
_TOP_KEYS = ("admins", "severity", "permissions", "schedule", "escalation", "component",
             "default_severity", "alert_route", "monitor", "person")  # fmt: skip
_RULE_KEYS = ("announce", "page", "escalation", "statuspage", "update_reminder_minutes",
              "component_status", "slack_channel", "discord_channel")  # fmt: skip
_SCHEDULE_KEYS = ("name", "timezone", "rotation", "hours", "handoff", "members")
_ESCALATION_KEYS = ("name", "levels", "escalate_after_minutes", "repeat")
_COMPONENT_KEYS = ("name", "description")


# --- sections ----------------------------------------------------------------------------------
def _parse_severities(check: Checker, value: object) -> dict[Severity, SeverityRule]:
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
    check: Checker, table: Mapping[str, Any], path: str, base: SeverityRule
) -> SeverityRule:
    check.known_keys(table, _RULE_KEYS, path)
    page = check.get(table, "page", path, base.page, is_bool, "true or false")
    channels = dict(base.announce_channels)
    for platform in CHANNEL_PLATFORMS:
        if f"{platform}_channel" in table:
            channels[platform] = check.text(table, f"{platform}_channel", path, "")
    minutes = "a positive number of minutes, or false for no reminder"
    statuses = f"{', '.join(COMPONENT_STATUSES)} or false"
    return replace(
        base,
        announce=check.get(table, "announce", path, base.announce, is_bool, "true or false"),
        page=page,
        escalation=_rule_escalation(check, table, path, page, base.escalation),
        statuspage=check.get(table, "statuspage", path, base.statuspage, is_bool, "true or false"),
        update_reminder_minutes=check.get(
            table, "update_reminder_minutes", path, base.update_reminder_minutes,
            or_false(at_least(1)), minutes,
        ),
        component_status=check.get(
            table, "component_status", path, base.component_status,
            or_false(lambda value: value in COMPONENT_STATUSES), statuses,
        ),
        announce_channels=MappingProxyType(channels),
    )  # fmt: skip


def _rule_escalation(
    check: Checker, table: Mapping[str, Any], path: str, page: bool, base: str | None
) -> str | None:
    """Set exactly when paging: paging with none given uses "default"; no page, no escalation."""
    fallback = (base or DEFAULT_ESCALATION) if page else None
    if "escalation" not in table:
        return fallback
    wanted = "an escalation name, or false"
    name = check.get(table, "escalation", path, fallback, or_false(is_text), wanted)
    given = table["escalation"]
    if page and given is False:
        check.add(join(path, "escalation"), 'page is on, so it needs one ("default" is built in)')
    if not page and is_text(given):
        what = "page is off, so no escalation is used; remove it or set page = true"
        check.add(join(path, "escalation"), what)
    return name.strip() if page and name else None


def _parse_permissions(check: Checker, value: object) -> dict[str, frozenset[str]]:
    permissions = dict(DEFAULT_PERMISSIONS)
    table = check.table(value, "permissions")
    check.known_keys(table, PERMISSION_KEYS, "permissions", "subcommand")
    for command, item in table.items():
        path = f"permissions.{command}"
        roles = check.strings(item, path)
        unknown = [role for role in roles if role not in PERMISSION_ROLES]
        for role in unknown:
            check.add(path, f'unknown role "{role}" (expected {listed(PERMISSION_ROLES)})')
        scoped = sorted(set(roles) - {ADMIN, ANYONE, *unknown})
        if command in GLOBAL_COMMANDS and scoped:
            what = f'{command} is not about one incident, so use "anyone" or "admin", not '
            check.add(path, what + listed(scoped))
        permissions[command] = frozenset(roles)
    return permissions


def _parse_schedules(check: Checker, data: Mapping[str, Any]) -> list[Schedule]:
    seen: set[str] = set()
    schedules = []
    for path, table in check.tables(data, "schedule"):
        check.known_keys(table, _SCHEDULE_KEYS, path)
        name = check.name(table, path, "schedule", seen)
        timezone = check.timezone(table, path)
        rotation, hours = _rotation(check, table, path)
        handoff = _handoff(check, table, path, rotation)
        members = check.strings(table.get("members", []), join(path, "members"))
        if not members:
            check.add(join(path, "members"), "a schedule needs at least one member")
        for member in members:
            check.person(member, join(path, "members"))
        rotation = rotation or "weekly"
        schedules.append(Schedule(name, timezone, rotation, hours, handoff, tuple(members)))
    return schedules


def _rotation(check: Checker, table: Mapping[str, Any], path: str) -> tuple[str | None, int | None]:
    """``rotation = "daily"|"weekly"``, or hour shifts: ``hours = N`` (``rotation = "hours"``)."""
    has_hours = "hours" in table
    hours = check.get(table, "hours", path, 1, at_least(1), "a positive whole number")
    rotation = table.get("rotation", "hours" if has_hours else None)
    if rotation not in ROTATIONS:
        what = f'expected "daily", "weekly" or "hours", got {show(rotation)}'
        if rotation is None:
            what = 'missing (use "daily", "weekly", or hours = N for shifts of N hours)'
        check.add(join(path, "rotation"), what)
        return None, None
    if rotation == "hours" and not has_hours:
        check.add(join(path, "hours"), 'rotation is "hours", so say how many: hours = 12')
    if rotation != "hours" and has_hours:
        check.add(join(path, "hours"), f'only used with hour shifts, not rotation = "{rotation}"')
    return str(rotation), (hours if rotation == "hours" else None)


def _handoff(check: Checker, table: Mapping[str, Any], path: str, rotation: str | None) -> str:
    """When the shift changes: "monday 09:00" for weekly rotations, "09:00" otherwise."""
    example = "monday 09:00" if rotation in ("weekly", None) else "09:00"
    handoff = check.text(table, "handoff", path, example)
    pattern = HANDOFF_WEEKLY if rotation == "weekly" else HANDOFF_DAILY
    if rotation is not None and pattern.fullmatch(handoff) is None:
        what = f'bad handoff "{handoff}" for a {rotation} rotation (expected e.g. "{example}")'
        check.add(join(path, "handoff"), what)
    return handoff.lower()


def _parse_escalations(
    check: Checker, data: Mapping[str, Any], schedules: set[str]
) -> list[Escalation]:
    seen: set[str] = set()
    escalations = []
    for path, table in check.tables(data, "escalation"):
        check.known_keys(table, _ESCALATION_KEYS, path)
        name = check.name(table, path, "escalation", seen)
        levels = _levels(check, table.get("levels"), join(path, "levels"), schedules)
        positive, not_negative = "a positive whole number", "a whole number, 0 or more"
        after = check.get(table, "escalate_after_minutes", path, 5, at_least(1), positive)
        repeat = check.get(table, "repeat", path, 0, at_least(0), not_negative)
        escalations.append(Escalation(name, levels, after, repeat))
    return escalations


def _levels(
    check: Checker, value: object, path: str, schedules: set[str]
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


def _parse_components(check: Checker, data: Mapping[str, Any]) -> list[Component]:
    seen: set[str] = set()
    components = []
    for path, table in check.tables(data, "component"):
        check.known_keys(table, _COMPONENT_KEYS, path)
        name = check.name(table, path, "component", seen)
        description = check.get(table, "description", path, "", is_str, "text")
        components.append(Component(name, description.strip()))
    return components
