"""Alert routing: which severity an alert group gets and what tocsin does with it.

The policy file's ``[[alert_route]]`` entries are tried in order; the first whose every matcher
matches the labels wins. ``match`` compares labels for equality and ``match_re`` with a regular
expression that must match the whole value (a missing label counts as the empty string, as in
silences). When no route matches, :data:`DEFAULT_ROUTE` applies: propose an incident at P3.

Actions: ``page`` pages on-call without an incident; ``propose`` posts the alert with a button to
declare; ``declare`` declares an incident at the route's severity; ``ignore`` records the alert
and does nothing else. ``docs/policy.md`` ("Alert routes") is the reference for the section.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tocsin.domain.alerts.silences import Matcher, MatchOp
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Severity

if TYPE_CHECKING:
    from tocsin.domain.policy import Policy
    from tocsin.domain.policy_file import _Checker

__all__ = ["DEFAULT_ROUTE", "AlertAction", "AlertRoute", "AlertRouter", "parse_alert_routes"]

ROUTE_KEYS = ("match", "match_re", "severity", "action", "escalation", "auto_resolve")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AlertAction(enum.StrEnum):
    PAGE = "page"
    PROPOSE = "propose"
    DECLARE = "declare"
    IGNORE = "ignore"


_ACTIONS = tuple(action.value for action in AlertAction)
_USES_ESCALATION = (AlertAction.PAGE, AlertAction.DECLARE)


@dataclass(frozen=True, slots=True)
class AlertRoute:
    """One ``[[alert_route]]``. ``escalation`` ``None`` means the severity's (see
    :meth:`escalation_for`); ``auto_resolve`` resolves the incident when the group resolves."""

    severity: Severity
    action: AlertAction
    matchers: tuple[Matcher, ...] = ()
    escalation: str | None = None
    auto_resolve: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(matcher.matches(labels) for matcher in self.matchers)

    def escalation_for(self, policy: Policy) -> str | None:
        """Who is paged: the route's escalation, else the severity's; a ``page`` route always
        pages (through "default" when neither names one); ``propose``/``ignore`` page nobody."""
        if self.action not in _USES_ESCALATION:
            return None
        chosen = self.escalation or policy.rule(self.severity).escalation
        if self.action is AlertAction.PAGE:
            return chosen or "default"
        return chosen


DEFAULT_ROUTE = AlertRoute(Severity.P3, AlertAction.PROPOSE)
"""What an alert no route matches gets: an incident is proposed at P3, nobody is paged."""


@dataclass(frozen=True, slots=True)
class AlertRouter:
    """The routes in policy order; :meth:`route` picks one for a label set."""

    routes: tuple[AlertRoute, ...] = ()

    def route(self, labels: Mapping[str, str]) -> AlertRoute:
        """The first route matching ``labels``, else :data:`DEFAULT_ROUTE`."""
        return next((r for r in self.routes if r.matches(labels)), DEFAULT_ROUTE)


# --- the policy-file section -------------------------------------------------------------------
def parse_alert_routes(
    check: _Checker, data: Mapping[str, Any], escalations: Sequence[str]
) -> AlertRouter:
    """``[[alert_route]]`` entries, checked; problems go to ``check`` one per line."""
    routes = []
    for path, table in check.tables(data, "alert_route"):
        check.known_keys(table, ROUTE_KEYS, path)
        matchers = [
            *_matchers(check, table, path, "match", MatchOp.EQUAL),
            *_matchers(check, table, path, "match_re", MatchOp.REGEX),
        ]
        severity = check.get(table, "severity", path, "P3", _is_severity, "P1, P2, P3 or P4")
        action = _action(check, table, path)
        escalation = _escalation(check, table, path, action, escalations)
        auto = check.get(table, "auto_resolve", path, False, _is_bool, "true or false")
        routes.append(AlertRoute(Severity(severity), action, tuple(matchers), escalation, auto))
    return AlertRouter(tuple(routes))


def _is_severity(value: object) -> bool:
    return isinstance(value, str) and value in Severity.__members__


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _matchers(
    check: _Checker, table: Mapping[str, Any], path: str, key: str, op: MatchOp
) -> list[Matcher]:
    if key not in table:
        return []
    where = f"{path}.{key}"
    found: list[Matcher] = []
    mapping = check.table(table[key], where)
    for name in mapping:
        if _LABEL_NAME.fullmatch(str(name)) is None:
            check.add(f"{where}.{name}", "not a label name (letters, digits and _)")
            continue
        text = check.get(mapping, name, where, None, _is_str, "text")
        if text is None:
            continue
        try:
            found.append(Matcher.of(name, op, text))
        except ParseError as exc:
            check.add(f"{where}.{name}", exc.message)
    return found


def _action(check: _Checker, table: Mapping[str, Any], path: str) -> AlertAction:
    if "action" not in table:
        check.add(f"{path}.action", "missing (expected page, propose, declare or ignore)")
        return AlertAction.PROPOSE
    wanted = "page, propose, declare or ignore"
    value = check.get(table, "action", path, "propose", lambda v: v in _ACTIONS, wanted)
    return AlertAction(value)


def _escalation(
    check: _Checker,
    table: Mapping[str, Any],
    path: str,
    action: AlertAction,
    escalations: Sequence[str],
) -> str | None:
    if "escalation" not in table:
        return None
    where = f"{path}.escalation"
    name = table["escalation"]
    if not isinstance(name, str) or not name.strip():
        check.add(where, "expected an escalation name")
        return None
    if name not in escalations:
        check.add(where, f'unknown escalation "{name}" (known: {", ".join(sorted(escalations))})')
    elif action not in _USES_ESCALATION:
        check.add(where, f'only used with action "page" or "declare", not "{action}"')
    return name
