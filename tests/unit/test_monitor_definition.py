"""A monitor definition from the API or the CLI: the policy file's own rules, each problem keyed
by the field it names; the stricter name rules of stored monitors; ``follow_redirects``, valid in
the policy file too; and a stored definition read back."""

from __future__ import annotations

from typing import Any

import pytest
from test_policy import parse, problems  # the policy tests' helpers

from tocsin.domain.monitor_definition import (
    MonitorInvalid,
    load_definition,
    validate_definition,
)
from tocsin.domain.monitors import Monitor, MonitorKind

WEB = {"name": "web", "kind": "http", "url": "https://shop.example/health"}


def _errors(definition: dict[str, Any], components: tuple[str, ...] = ()) -> dict[str, str]:
    with pytest.raises(MonitorInvalid) as raised:
        validate_definition(definition, components)
    return raised.value.errors


def test_a_good_definition_is_the_monitor_the_policy_would_make() -> None:
    """The same keys give the same Monitor as in the policy file, marked as from the API."""
    made = validate_definition({**WEB, "interval_seconds": 30, "component": "Checkout",
                                "follow_redirects": True}, ["Checkout"])  # fmt: skip
    assert made == Monitor("web", MonitorKind.HTTP, "https://shop.example/health",
                           interval_seconds=30, timeout_seconds=10, component="Checkout",
                           follow_redirects=True, source="api")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"kind": "udp"}, "kind", 'expected "http" or "tcp"'),
        ({"url": "ftp://a.example/"}, "url", "http:// or https:// URL"),
        ({"url": None}, "url", "expected some text"),
        ({"target": "db:5432"}, "target", 'only used with kind = "tcp"'),
        ({"interval_seconds": 5}, "interval_seconds", "from 10 to 86400"),
        ({"timeout_seconds": 60}, "timeout_seconds", "less than the interval"),
        ({"expect_status": [200, 700]}, "expect_status", "status codes from 100 to 599"),
        ({"headers": {"Bad Name": "x"}}, "headers.Bad Name", "not a valid HTTP header name"),
        ({"headers": {"X-A": "a\nb"}}, "headers.X-A", "one line of text"),
        ({"component": "API"}, "component", 'unknown component "API" (known: Checkout)'),
        ({"follow_redirects": "yes"}, "follow_redirects", "expected true or false"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"name": "a/b"}, "name", 'must not contain "/"'),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"name": "tab\there"}, "name", "control characters"),
        ({"name": " padded"}, "name", "must not start or end with spaces"),
        ({"name": ""}, "name", "expected some text"),
    ],
)
def test_each_bad_value_is_refused_under_its_field(
    change: dict[str, Any], field: str, says: str
) -> None:
    """One bad key: one error, keyed by that key (a header by headers.<name>), with the
    policy file's own words."""
    errors = _errors({**WEB, **change}, ("Checkout",))
    assert list(errors) == [field]
    assert says in errors[field]


def test_every_bad_field_is_reported_at_once() -> None:
    """Several problems are all named, and the message joins them field by field."""
    with pytest.raises(MonitorInvalid) as raised:
        validate_definition({"name": "db", "kind": "tcp", "url": "http://x/", "down_after": 0}, [])
    assert set(raised.value.errors) == {"url", "target", "down_after"}
    assert "target: missing" in str(raised.value)


def test_follow_redirects_is_a_policy_key_too() -> None:
    """In the policy file follow_redirects is a boolean (false by default), http only."""
    base = '[[monitor]]\nname = "m"\nkind = "http"\nurl = "https://a.example/"\n'
    assert parse(base).monitors[0].follow_redirects is False
    assert parse(base + "follow_redirects = true\n").monitors[0].follow_redirects is True
    tcp = '[[monitor]]\nname = "t"\nkind = "tcp"\ntarget = "db:5432"\nfollow_redirects = true\n'
    assert problems(tcp) == [
        'policy.toml: monitor[0].follow_redirects: only used with kind = "http"'
    ]


def test_a_stored_definition_reads_back_without_its_components() -> None:
    """Read back, a definition keeps its restriction and no longer needs its component to
    exist; one that no longer passes the rules is None rather than an error."""
    loaded = load_definition({**WEB, "component": "Gone"}, restricted=True)
    assert loaded is not None
    assert (loaded.source, loaded.restricted, loaded.component) == ("api", True, "Gone")
    assert load_definition({**WEB, "kind": "ftp"}, restricted=False) is None
