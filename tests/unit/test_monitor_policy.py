"""The policy file's [[monitor]] section: the documented example parses into a Monitor, the
defaults, and every bad value gets its own one-line problem naming the key."""

from __future__ import annotations

import pytest
from test_policy import parse, problems  # the policy tests' helpers

from tocsin.domain.monitors import Monitor, MonitorKind

COMPONENT = '[[component]]\nname = "Checkout"\n\n'
EXAMPLE = (
    COMPONENT
    + """
[[monitor]]
name = "checkout-web"
kind = "http"
url = "https://shop.example.com/health"
method = "GET"
headers = { "X-Probe" = "tocsin" }
interval_seconds = 30
timeout_seconds = 5
expect_status = [200]
keyword = "ok"
max_response_ms = 2000
tls_expiry_warn_days = 14
down_after = 2
up_after = 1
component = "Checkout"
component_status = "major_outage"

[[monitor]]
name = "db"
kind = "tcp"
target = "db.internal:5432"
"""
)
HTTP = '[[monitor]]\nname = "m"\nkind = "http"\nurl = "https://a.example/"\n'
TCP = '[[monitor]]\nname = "t"\nkind = "tcp"\ntarget = "db:5432"\n'


def test_the_documented_monitors_parse_into_their_fields() -> None:
    """Every key of the example lands in the Monitor; the tcp monitor gets the defaults."""
    web, db = parse(EXAMPLE).monitors
    assert web == Monitor(
        "checkout-web", MonitorKind.HTTP, "https://shop.example.com/health", "",
        method="GET", headers={"X-Probe": "tocsin"}, interval_seconds=30, timeout_seconds=5,
        expect_status=(200,), keyword="ok", max_response_ms=2000, tls_expiry_warn_days=14,
        down_after=2, up_after=1, component="Checkout", component_status="major_outage",
    )  # fmt: skip
    assert db == Monitor("db", MonitorKind.TCP, target="db.internal:5432")
    assert (db.interval_seconds, db.timeout_seconds, db.down_after, db.up_after) == (60, 10, 2, 1)
    assert (db.expect_status, db.component, db.component_status) == ((), None, "major_outage")


def test_a_policy_without_monitors_has_none() -> None:
    """No [[monitor]] section means no monitors (nothing is checked by default)."""
    assert parse("").monitors == ()


def test_a_short_interval_gets_a_timeout_below_it() -> None:
    """With interval 10 s and no timeout given, the default timeout (10 s) is cut to 9 s so the
    timeout stays below the interval."""
    (monitor,) = parse(HTTP + "interval_seconds = 10\n").monitors
    assert monitor.timeout_seconds == 9


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (HTTP + "intervall_seconds = 30", 'monitor[0].intervall_seconds: unknown key (did you mean "interval_seconds"?)'),  # noqa: E501
        ('[[monitor]]\nname = "m"\nkind = "icmp"\nurl = "https://a/"', 'monitor[0].kind: expected "http" or "tcp", got "icmp"'),  # noqa: E501
        ('[[monitor]]\nname = "m"\nurl = "https://a/"', 'monitor[0].kind: missing (expected "http" or "tcp")'),  # noqa: E501
        ('[[monitor]]\nkind = "tcp"\ntarget = "a:1"', "monitor[0].name: every monitor needs a name"),  # noqa: E501
        ('[[monitor]]\nname = "m"\nkind = "http"\nurl = "ftp://a.example/x"', 'monitor[0].url: expected an http:// or https:// URL, got "ftp://a.example/x"'),  # noqa: E501
        ('[[monitor]]\nname = "m"\nkind = "http"\nurl = "shop.example.com"', 'monitor[0].url: expected an http:// or https:// URL, got "shop.example.com"'),  # noqa: E501
        ('[[monitor]]\nname = "m"\nkind = "http"', 'monitor[0].url: missing (an http monitor needs a url such as "https://…")'),  # noqa: E501
        ('[[monitor]]\nname = "t"\nkind = "tcp"', 'monitor[0].target: missing (a tcp monitor needs host:port, e.g. "db:5432")'),  # noqa: E501
        ('[[monitor]]\nname = "t"\nkind = "tcp"\ntarget = "db"', 'monitor[0].target: expected host:port with a port from 1 to 65535, got "db"'),  # noqa: E501
        ('[[monitor]]\nname = "t"\nkind = "tcp"\ntarget = "db:70000"', 'monitor[0].target: expected host:port with a port from 1 to 65535, got "db:70000"'),  # noqa: E501
        ('[[monitor]]\nname = "t"\nkind = "tcp"\ntarget = "db:0"', 'monitor[0].target: expected host:port with a port from 1 to 65535, got "db:0"'),  # noqa: E501
        (TCP + 'url = "https://a/"', 'monitor[0].url: only used with kind = "http"'),
        (TCP + 'keyword = "ok"', 'monitor[0].keyword: only used with kind = "http"'),
        (HTTP + 'target = "a:1"', 'monitor[0].target: only used with kind = "tcp" (an http monitor has a url)'),  # noqa: E501
        (HTTP + 'method = "DELETE"', 'monitor[0].method: expected GET, HEAD or POST, got "DELETE"'),
        (HTTP + "interval_seconds = 5", "monitor[0].interval_seconds: expected a whole number of seconds from 10 to 86400, got 5"),  # noqa: E501
        (HTTP + "interval_seconds = 86401", "monitor[0].interval_seconds: expected a whole number of seconds from 10 to 86400, got 86401"),  # noqa: E501
        (HTTP + "interval_seconds = 30\ntimeout_seconds = 30", "monitor[0].timeout_seconds: expected a whole number of seconds, at least 1 and less than the interval (30), got 30"),  # noqa: E501
        (HTTP + "timeout_seconds = 0", "monitor[0].timeout_seconds: expected a whole number of seconds, at least 1 and less than the interval (60), got 0"),  # noqa: E501
        (HTTP + "expect_status = [200, 600]", "monitor[0].expect_status: expected a list of status codes from 100 to 599 such as [200, 204]"),  # noqa: E501
        (HTTP + "expect_status = []", "monitor[0].expect_status: expected a list of status codes from 100 to 599 such as [200, 204]"),  # noqa: E501
        (HTTP + 'expect_status = ["200"]', "monitor[0].expect_status: expected a list of status codes from 100 to 599 such as [200, 204]"),  # noqa: E501
        (HTTP + "down_after = 0", "monitor[0].down_after: expected a whole number from 1 to 100, got 0"),  # noqa: E501
        (HTTP + "up_after = 101", "monitor[0].up_after: expected a whole number from 1 to 100, got 101"),  # noqa: E501
        (HTTP + "down_after = true", "monitor[0].down_after: expected a whole number from 1 to 100, got true"),  # noqa: E501
        (HTTP + 'keyword = ""', 'monitor[0].keyword: expected some text, got ""'),
        (HTTP + "max_response_ms = 0", "monitor[0].max_response_ms: expected a whole number of milliseconds from 1 to 600,000, got 0"),  # noqa: E501
        ('[[monitor]]\nname = "m"\nkind = "http"\nurl = "http://a/"\ntls_expiry_warn_days = 14', "monitor[0].tls_expiry_warn_days: only used with an https:// url"),  # noqa: E501
        (HTTP + 'component = "Checkout"', 'monitor[0].component: unknown component "Checkout" (known: none are defined)'),  # noqa: E501
        (COMPONENT + HTTP + 'component = "API"', 'monitor[0].component: unknown component "API" (known: Checkout)'),  # noqa: E501
        (HTTP + 'component_status = "operational"', 'monitor[0].component_status: expected degraded_performance, partial_outage, major_outage, under_maintenance, got "operational"'),  # noqa: E501
        (HTTP + 'headers = { "Bad Header" = "x" }', "monitor[0].headers.Bad Header: not a valid HTTP header name"),  # noqa: E501
        (HTTP + 'headers = { "X-A" = 1 }', "monitor[0].headers.X-A: expected one line of text"),
        (HTTP + 'headers = { "X-A" = "a\\nb" }', "monitor[0].headers.X-A: expected one line of text"),  # noqa: E501
        (HTTP + HTTP, 'monitor[1].name: duplicate monitor name "m"'),
        ('[[monitor]]\nname = "shop/api"\nkind = "tcp"\ntarget = "a:1"', 'monitor[0].name: must not contain "/" or control characters'),  # noqa: E501
        ('[[monitor]]\nname = "a\\tb"\nkind = "tcp"\ntarget = "a:1"', 'monitor[0].name: must not contain "/" or control characters'),  # noqa: E501
        ('[[monitor]]\nname = " m"\nkind = "tcp"\ntarget = "a:1"', "monitor[0].name: must not start or end with spaces"),  # noqa: E501
        (f'[[monitor]]\nname = "{"m" * 101}"\nkind = "tcp"\ntarget = "a:1"', "monitor[0].name: at most 100 characters"),  # noqa: E501
        ('[monitor]\nname = "m"', "monitor: expected [[monitor]] entries (an array of tables), got a table"),  # noqa: E501
    ],
)  # fmt: skip
def test_each_bad_monitor_value_is_one_problem(text: str, problem: str) -> None:
    """The bad key is reported on its own line, with the policy's key path and what is wanted."""
    assert problems(text) == [f"policy.toml: {problem}"]


def test_every_problem_of_a_bad_monitor_is_reported_at_once() -> None:
    """A monitor with several mistakes gets one line for each, not just the first."""
    text = '[[monitor]]\nname = "m"\nkind = "http"\nurl = "gopher://x"\ndown_after = 0\nnope = 1'
    assert len(problems(text)) == 3
