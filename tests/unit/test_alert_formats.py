"""Alert body formats: real Alertmanager captures, Grafana's documented example and the generic
webhook parse into the neutral batch; malformed bodies raise AlertPayloadError naming the field,
and nothing else, whatever JSON they are."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FIXTURES
from tocsin.domain.alerts import (
    PARSERS,
    AlertStatus,
    IntegrationKind,
    heartbeat_missed,
    heartbeat_ok,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
)
from tocsin.domain.alerts.formats import label_fingerprint
from tocsin.domain.alerts.reading import parse_time
from tocsin.domain.errors import AlertPayloadError

AM = FIXTURES / "alertmanager"
GRAFANA = FIXTURES / "grafana" / "docs_example_firing.json"


def _load(name: str) -> Any:
    return json.loads((AM / f"{name}.json").read_text(encoding="utf-8"))


def _grafana() -> Any:
    return json.loads(GRAFANA.read_text(encoding="utf-8"))


# --- Alertmanager, from real captures ----------------------------------------------------------
def test_a_captured_firing_body_parses_into_one_firing_alert() -> None:
    """Alertmanager 0.25's real firing body: group key, labels, annotations, the generator link,
    startsAt as aware UTC and the zero endsAt as none."""
    raw = _load("firing")
    batch = parse_alertmanager(raw)
    assert batch.kind is IntegrationKind.ALERTMANAGER
    assert batch.group_key == raw["groupKey"] == '{}:{alertname="CheckoutErrorRate"}'
    assert batch.status is AlertStatus.FIRING
    assert batch.receiver == "tocsin"
    assert batch.truncated == 0
    assert batch.title == raw["commonAnnotations"]["summary"]
    assert batch.external_url == raw["externalURL"]
    [alert] = batch.alerts
    assert alert.fingerprint == raw["alerts"][0]["fingerprint"]
    assert dict(alert.labels) == raw["alerts"][0]["labels"]
    assert dict(alert.annotations) == raw["alerts"][0]["annotations"]
    assert alert.links == {"generator": raw["alerts"][0]["generatorURL"]}
    assert raw["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert.ends_at is None
    assert alert.starts_at is not None
    assert alert.starts_at.tzinfo is UTC
    assert alert.starts_at.isoformat().replace("+00:00", "Z") == raw["alerts"][0]["startsAt"]


def test_a_captured_resolved_body_carries_the_end_time() -> None:
    """The resolve of the same alert: same fingerprint and group key, status resolved, and an
    endsAt after its startsAt."""
    firing, resolved = parse_alertmanager(_load("firing")), parse_alertmanager(_load("resolved"))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.group_key == firing.group_key
    [alert] = resolved.alerts
    assert alert.fingerprint == firing.alerts[0].fingerprint
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at is not None
    assert alert.starts_at is not None
    assert alert.ends_at > alert.starts_at


def test_a_captured_group_keeps_each_alert_by_fingerprint() -> None:
    """Three alerts in one group: three distinct fingerprints under one group key; in the later
    body one of them is resolved while the group as a whole is still firing."""
    group = parse_alertmanager(_load("group_firing"))
    partly = parse_alertmanager(_load("group_partly_resolved"))
    assert len({a.fingerprint for a in group.alerts}) == 3
    assert partly.group_key == group.group_key
    assert partly.status is AlertStatus.FIRING
    statuses = sorted(a.status.value for a in partly.alerts)
    assert statuses == ["firing", "firing", "resolved"]
    assert {a.fingerprint for a in partly.alerts} == {a.fingerprint for a in group.alerts}


def test_the_alertmanager_parser_refuses_grafana_and_the_other_way_round() -> None:
    """The version field says which sender wrote the body: "4" Alertmanager, "1" Grafana."""
    with pytest.raises(AlertPayloadError, match=r'^version: expected "4", got "1"$'):
        parse_alertmanager(_grafana())
    with pytest.raises(AlertPayloadError, match=r'^version: expected "1", got "4"$'):
        parse_grafana(_load("firing"))


def _broken(path: list[Any], value: object) -> Any:
    body = copy.deepcopy(_load("group_firing"))
    target = body
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["alerts", 2, "labels"], {"team": 3}, "alerts[2].labels: expected an object of strings"),
        (["alerts", 1, "labels"], _DELETE, "alerts[1].labels: missing"),
        (["alerts", 0, "startsAt"], "yesterday", "alerts[0].startsAt: expected an RFC 3339 time"),
        (["alerts", 0, "startsAt"], "2024-02-30T00:00:00Z", "alerts[0].startsAt: not a valid time"),
        (["alerts", 0, "status"], "pending", 'alerts[0].status: expected "firing" or "resolved"'),
        (["alerts", 1], "an alert", "alerts[1]: expected an object, got text"),
        (["alerts"], [], "alerts: expected at least one alert"),
        (["alerts"], {"a": 1}, "alerts: expected a list, got an object"),
        (["groupKey"], 12, "groupKey: expected text, got a number"),
        (["truncatedAlerts"], -1, "truncatedAlerts: expected a whole number"),
        (["commonAnnotations"], ["x"], "commonAnnotations: expected an object of strings"),
        (["status"], None, "status: missing"),
    ],
)
def test_a_malformed_alertmanager_body_names_the_bad_field(
    path: list[Any], value: object, message: str
) -> None:
    """Each shape problem is one AlertPayloadError whose message starts with the field path."""
    with pytest.raises(AlertPayloadError) as caught:
        parse_alertmanager(_broken(path, value))
    assert str(caught.value).startswith(message)
    assert caught.value.field == message.split(":")[0]


def test_a_missing_fingerprint_is_derived_from_the_labels() -> None:
    """Without a fingerprint the alert is identified by its label set (stable, order-free)."""
    body = _broken(["alerts", 0, "fingerprint"], _DELETE)
    alert = parse_alertmanager(body).alerts[0]
    assert alert.fingerprint == label_fingerprint(dict(reversed(list(alert.labels.items()))))
    assert len(alert.fingerprint) == 16


def test_a_non_web_generator_url_is_not_kept_as_a_link() -> None:
    """Only http(s) URLs become links, so a javascript: or empty URL is never shown."""
    body = _broken(["alerts", 0, "generatorURL"], "javascript:alert(1)")
    assert parse_alertmanager(body).alerts[0].links == {}


# --- Grafana, from the documented example -------------------------------------------------------
def test_grafanas_documented_example_parses_with_its_extras() -> None:
    """Grafana's body is Alertmanager's shape plus its own fields: silence link, values, and the
    +02:00 startsAt converted to UTC."""
    raw = _grafana()
    batch = parse_grafana(raw)
    assert batch.kind is IntegrationKind.GRAFANA
    assert batch.group_key == "{}:{}"
    assert [a.fingerprint for a in batch.alerts] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    first = batch.alerts[0]
    assert first.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert first.ends_at is None
    assert first.links["silence"] == raw["alerts"][0]["silenceURL"]
    assert "dashboard" not in first.links  # the documented dashboardURL is ""
    assert first.values == {"B": 44.23943737541908, "C": 1.0}
    assert batch.title == "High memory usage"  # no common summary or alertname: the first alert


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["alerts", 1, "values"], {"B": "high"}, "alerts[1].values: expected an object of numbers"),
        (
            ["alerts", 1, "values"],
            {"B": 10**400},
            "alerts[1].values: expected an object of numbers",
        ),
        (["alerts", 1, "values"], {"B": True}, "alerts[1].values: expected an object of numbers"),
        (["alerts", 0, "silenceURL"], 5, "alerts[0].silenceURL: expected text"),
        (["orgId"], "one", "orgId: expected a whole number"),
        (["message"], ["x"], "message: expected text"),
    ],
)
def test_a_malformed_grafana_body_names_the_bad_field(
    path: list[Any], value: object, message: str
) -> None:
    """Grafana's own fields are checked too, and named in the error."""
    body = _grafana()
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(
        AlertPayloadError, match="^" + message.replace("[", r"\[").replace("]", r"\]")
    ):
        parse_grafana(body)


# --- the generic webhook -----------------------------------------------------------------------
def test_the_generic_format_makes_one_alert_keyed_by_key() -> None:
    """key groups and deduplicates; severity becomes a label; title and description become the
    summary and description; link is the source link."""
    batch = parse_generic(
        {
            "key": "kuma:checkout",
            "status": "firing",
            "title": "Checkout is down",
            "severity": "critical",
            "description": "HTTP 503 for 2 minutes",
            "labels": {"team": "payments"},
            "link": "https://kuma.example.com/dashboard/4",
        }
    )
    assert batch.kind is IntegrationKind.WEBHOOK
    assert batch.group_key == "kuma:checkout"
    assert batch.title == "Checkout is down"
    [alert] = batch.alerts
    assert alert.fingerprint == "kuma:checkout"
    assert alert.labels == {"severity": "critical", "team": "payments"}
    assert alert.annotations == {
        "summary": "Checkout is down",
        "description": "HTTP 503 for 2 minutes",
    }
    assert alert.links == {"source": "https://kuma.example.com/dashboard/4"}
    assert alert.starts_at is None  # the arrival time stands in (see the group rules)


def test_a_generic_resolve_needs_only_key_and_status() -> None:
    """Resolving takes just the key; the title defaults to the key."""
    batch = parse_generic({"key": "ci:nightly", "status": "resolved"})
    assert batch.status is AlertStatus.RESOLVED
    assert batch.title == "ci:nightly"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "firing", "title": "x"}, "key: missing"),
        ({"key": " ", "status": "firing", "title": "x"}, "key: must not be empty"),
        ({"key": "k" * 201, "status": "firing", "title": "x"}, "key: longer than 200"),
        ({"key": "k", "status": "firing"}, "title: missing"),
        ({"key": "k", "status": "down", "title": "x"}, 'status: expected "firing" or "resolved"'),
        ({"key": "k", "status": "firing", "title": "x", "labels": {"a": 1}}, "labels: expected"),
        ({"key": "k", "status": "firing", "title": "x", "link": "ftp://x"}, "link: expected an"),
        ({"key": "k", "status": "firing", "title": "x", "sevrity": "high"}, "sevrity: unknown"),
        ([{"key": "k"}], "expected an object, got a list"),
    ],
)
def test_a_malformed_generic_body_names_the_bad_field(body: object, message: str) -> None:
    """The generic format is strict, so a typo is an error naming the field, not a default."""
    with pytest.raises(AlertPayloadError) as caught:
        parse_generic(body)
    assert str(caught.value).startswith(message)


# --- heartbeats --------------------------------------------------------------------------------
def test_a_missed_heartbeat_fires_and_a_call_resolves_the_same_alert() -> None:
    """A heartbeat has no body: the miss is a firing alert starting when the call was due, the
    call a resolve ending when it came, both under the heartbeat's name."""
    due = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    missed, ok = heartbeat_missed("backup", due), heartbeat_ok("backup", due + timedelta(minutes=3))
    assert missed.kind is ok.kind is IntegrationKind.HEARTBEAT
    assert missed.group_key == ok.group_key == "backup"
    assert missed.alerts[0].fingerprint == ok.alerts[0].fingerprint
    assert missed.alerts[0].status is AlertStatus.FIRING
    assert missed.alerts[0].starts_at == due
    assert ok.alerts[0].status is AlertStatus.RESOLVED
    assert ok.alerts[0].ends_at == due + timedelta(minutes=3)
    assert missed.alerts[0].labels["heartbeat"] == "backup"


# --- timestamps ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123456789Z", datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T14:30:00+02:30", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T00:00:00-05:00", datetime(2024, 5, 1, 5, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00+02:00", None),
    ],
)
def test_times_are_aware_utc_and_the_zero_time_is_none(
    text: str, expected: datetime | None
) -> None:
    """RFC 3339 with Go's nanoseconds and any offset, converted to UTC; year 1 means unset."""
    parsed = parse_time(text, "t")
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2024-05-01T12:00:00", "2024-05-01", "9999-12-31T23:59:59-23:59"])
def test_a_time_without_zone_or_out_of_range_is_an_error(text: str) -> None:
    """A time with no offset is ambiguous, and one beyond year 9999 in UTC cannot be held:
    both are AlertPayloadError, never ValueError or OverflowError."""
    with pytest.raises(AlertPayloadError, match=r"^t: "):
        parse_time(text, "t")


# --- any JSON value ----------------------------------------------------------------------------
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
_KEYS = ["version", "groupKey", "status", "alerts", "labels", "startsAt", "endsAt", "values",
         "key", "title", "fingerprint", "truncatedAlerts", "orgId", "link"]  # fmt: skip


def _near_miss(body: Any, data: st.DataObject) -> Any:
    """A real body with one field somewhere replaced by an arbitrary JSON value."""
    if isinstance(body, dict) and body:
        key = data.draw(st.sampled_from(sorted(body) + _KEYS))
        if data.draw(st.booleans()) or key not in body:
            return {**body, key: data.draw(_JSON)}
        return {**body, key: _near_miss(body[key], data)}
    if isinstance(body, list) and body:
        index = data.draw(st.integers(0, len(body) - 1))
        return [*body[:index], _near_miss(body[index], data), *body[index + 1 :]]
    return data.draw(_JSON)


_GENERIC = {"key": "k", "status": "firing", "title": "t", "labels": {"a": "b"}, "link": "https://x"}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_json_value_makes_a_parser_raise_anything_else(data: st.DataObject) -> None:
    """Arbitrary JSON, and real bodies with one field replaced by arbitrary JSON, either parse
    or raise AlertPayloadError: never a TypeError, KeyError, ValueError or OverflowError."""
    kind = data.draw(st.sampled_from(sorted(PARSERS)))
    bases = {
        IntegrationKind.ALERTMANAGER: _load("group_partly_resolved"),
        IntegrationKind.GRAFANA: _grafana(),
        IntegrationKind.WEBHOOK: _GENERIC,
    }
    base = bases[kind]
    body = _near_miss(base, data) if data.draw(st.booleans()) else data.draw(_JSON)
    try:
        batch = PARSERS[kind](body)
    except AlertPayloadError:
        return
    assert batch.alerts
    for alert in batch.alerts:
        assert isinstance(alert.fingerprint, str)
        assert all(isinstance(v, float) for v in alert.values.values())
        assert alert.starts_at is None or alert.starts_at.tzinfo is UTC
