"""Alert routes: the policy file's [[alert_route]] section, checked one problem per line, and
route(labels) picking the first matching route or the explicit P3 "propose" default."""

from __future__ import annotations

import tomllib

import pytest

from tocsin.domain.alerts import DEFAULT_ROUTE, AlertAction, AlertRoute, AlertRouter
from tocsin.domain.errors import PolicyError
from tocsin.domain.model import Severity
from tocsin.domain.policy import default_policy
from tocsin.domain.policy_file import parse_policy

ROUTES = """
[[escalation]]
name = "payments"
levels = [["slack:U0PAY"]]

[[alert_route]]
match = { severity = "critical", team = "payments" }   # label equality
match_re = { service = "checkout|payments" }           # regex form (full match), optional
severity = "P1"
action = "declare"        # page | propose | declare | ignore
escalation = "payments"   # optional; default from the severity's policy
auto_resolve = true       # optional, default false

[[alert_route]]
match = { severity = "critical" }
severity = "P2"
action = "page"

[[alert_route]]
match_re = { alertname = "Watchdog|InfoInhibitor" }
action = "ignore"
"""


def _router(text: str = ROUTES) -> AlertRouter:
    return parse_policy(tomllib.loads(text), "policy.toml").alert_routes


def test_the_documented_route_parses_into_its_fields() -> None:
    """Every key of the documented example lands in the route, in file order."""
    first, second, third = _router().routes
    assert first.severity is Severity.P1
    assert first.action is AlertAction.DECLARE
    assert first.escalation == "payments"
    assert first.auto_resolve is True
    assert [str(m) for m in first.matchers] == [
        'severity="critical"',
        'team="payments"',
        'service=~"checkout|payments"',
    ]
    assert (second.action, second.auto_resolve, second.escalation) == (
        AlertAction.PAGE,
        False,
        None,
    )
    assert third.severity is Severity.P3  # severity defaults to P3
    assert third.action is AlertAction.IGNORE


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical", "team": "payments", "service": "checkout"}, 0),
        ({"severity": "critical", "team": "payments", "service": "payments"}, 0),
        # the regex must match the whole value
        ({"severity": "critical", "team": "payments", "service": "checkout-api"}, 1),
        ({"severity": "critical", "team": "search"}, 1),
        ({"alertname": "Watchdog"}, 2),
        ({"alertname": "WatchdogX"}, None),
        ({"severity": "warning", "team": "payments", "service": "checkout"}, None),
        ({}, None),
    ],
)
def test_routes_are_tried_in_order_and_the_first_match_wins(
    labels: dict[str, str], expected: int | None
) -> None:
    """Equality and full-match regex per route; no match gives the explicit default route."""
    router = _router()
    chosen = router.route(labels)
    assert chosen is (DEFAULT_ROUTE if expected is None else router.routes[expected])


def test_unmatched_alerts_are_proposed_at_p3() -> None:
    """The default route is explicit: propose at P3, page nobody, resolve nothing by itself."""
    assert AlertRouter().route({"anything": "x"}) is DEFAULT_ROUTE
    assert DEFAULT_ROUTE.severity is Severity.P3
    assert DEFAULT_ROUTE.action is AlertAction.PROPOSE
    assert DEFAULT_ROUTE.escalation_for(default_policy()) is None
    assert DEFAULT_ROUTE.auto_resolve is False


def test_the_default_policy_has_no_routes() -> None:
    """Without [[alert_route]] every alert takes the default route."""
    assert parse_policy({}).alert_routes == AlertRouter()
    assert default_policy().alert_routes.route({"severity": "critical"}) is DEFAULT_ROUTE


def test_the_escalation_comes_from_the_route_else_the_severity() -> None:
    """A route's escalation wins; without one a declare uses the severity's (P1: "default",
    P3: none, since P3 does not page), and a page route always pages ("default")."""
    policy = parse_policy(tomllib.loads(ROUTES))
    declare, page, ignore = policy.alert_routes.routes
    assert declare.escalation_for(policy) == "payments"
    assert page.escalation_for(policy) == "default"
    assert ignore.escalation_for(policy) is None
    p1 = AlertRoute(Severity.P1, AlertAction.DECLARE)
    p3 = AlertRoute(Severity.P3, AlertAction.DECLARE)
    p3_page = AlertRoute(Severity.P3, AlertAction.PAGE)
    assert p1.escalation_for(policy) == "default"
    assert p3.escalation_for(policy) is None
    assert p3_page.escalation_for(policy) == "default"


BAD = """
[[alert_route]]
match = { severity = 3, "bad-name" = "x" }
match_re = { service = "(" }
severity = "P9"
action = "pg"
escalation = "nope"
auto_resolve = 1
actoin = "page"

[[alert_route]]
severity = "P2"

[[alert_route]]
action = "ignore"
escalation = "default"
"""


def test_every_problem_in_the_section_is_reported_one_per_line() -> None:
    """Unknown keys, non-string match values, bad label names, a bad regex, unknown severity,
    action and escalation, a non-boolean auto_resolve, a missing action and an escalation that
    an ignore route cannot use: each is one line naming its key path."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(tomllib.loads(BAD), "policy.toml")
    assert caught.value.problems == [
        'policy.toml: alert_route[0].actoin: unknown key (did you mean "action"?)',
        "policy.toml: alert_route[0].match.severity: expected text, got 3",
        "policy.toml: alert_route[0].match.bad-name: not a label name (letters, digits and _)",
        'policy.toml: alert_route[0].match_re.service: bad regex in service=~"(": '
        "missing ), unterminated subpattern at position 0",
        'policy.toml: alert_route[0].severity: expected P1, P2, P3 or P4, got "P9"',
        'policy.toml: alert_route[0].action: expected page, propose, declare or ignore, got "pg"',
        'policy.toml: alert_route[0].escalation: unknown escalation "nope" (known: default)',
        "policy.toml: alert_route[0].auto_resolve: expected true or false, got 1",
        "policy.toml: alert_route[1].action: missing (expected page, propose, declare or ignore)",
        'policy.toml: alert_route[2].escalation: only used with action "page" or "declare", '
        'not "ignore"',
    ]


def test_a_section_that_is_not_an_array_of_tables_is_an_error() -> None:
    """``alert_route = "x"`` and a table where a match table belongs are caught, not crashed on."""
    with pytest.raises(PolicyError) as caught:
        parse_policy({"alert_route": "x"}, "p")
    assert caught.value.problems == [
        'p: alert_route: expected [[alert_route]] entries (an array of tables), got "x"'
    ]
    with pytest.raises(PolicyError) as caught:
        parse_policy({"alert_route": [{"action": "page", "match": ["a"]}]}, "p")
    assert caught.value.problems == ["p: alert_route[0].match: expected a table, got a list"]


def test_a_route_may_name_an_escalation_defined_in_the_file() -> None:
    """Escalation names are checked against the policy's escalations, the built-in included."""
    policy = parse_policy(tomllib.loads(ROUTES))
    assert policy.alert_routes.routes[0].escalation == "payments"
    with pytest.raises(PolicyError, match=r"known: default, payments"):
        parse_policy(
            tomllib.loads(ROUTES.replace('escalation = "payments" ', 'escalation = "pay" '))
        )
