"""Evaluating one check: what counts as ok for http and tcp monitors, and the short reason a
failed check gets (the order in which the rules are applied decides which reason wins), and how
a failed check reads in an alert and on an incident's timeline (time, reason, response time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tocsin.domain.monitors import (
    ConnectError,
    Monitor,
    MonitorKind,
    Observation,
    evaluate,
    expected_status_text,
)
from tocsin.domain.monitors.checks import failed_check_text

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WEB = Monitor(
    "web", MonitorKind.HTTP, "https://shop.example.com/health", timeout_seconds=5,
    expect_status=(200,), keyword="ok", max_response_ms=2000, tls_expiry_warn_days=14,
)  # fmt: skip
PLAIN = Monitor("plain", MonitorKind.HTTP, "http://a.example/")
DB = Monitor("db", MonitorKind.TCP, target="db:5432", timeout_seconds=3, max_response_ms=500)
GOOD = Observation(T0, 120, 200, "status: ok", T0 + timedelta(days=60))


def seen(**changes: object) -> Observation:
    return replace(GOOD, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("monitor", "observation", "reason"),
    [
        (WEB, GOOD, ""),
        (WEB, seen(status_code=503), "status 503, expected 200"),
        (WEB, seen(body="status: degraded"), 'keyword "ok" missing'),
        (WEB, seen(latency_ms=2300), "took 2,300 ms > 2,000 ms"),
        (WEB, seen(latency_ms=2000), ""),
        (WEB, seen(cert_not_after=T0 + timedelta(days=5, hours=3)), "certificate expires in 5 days"),  # noqa: E501
        (WEB, seen(cert_not_after=T0 + timedelta(hours=20)), "certificate expires within a day"),
        (WEB, seen(cert_not_after=T0 + timedelta(days=1, hours=1)), "certificate expires in 1 day"),
        (WEB, seen(cert_not_after=T0 - timedelta(days=2)), "certificate expired 2 days ago"),
        (WEB, seen(cert_not_after=T0 + timedelta(days=14)), ""),
        (WEB, seen(error=ConnectError.TIMEOUT), "timeout after 5 s"),
        (WEB, seen(error=ConnectError.REFUSED), "connection refused"),
        (WEB, seen(error=ConnectError.DNS), "name not resolved"),
        (WEB, seen(error=ConnectError.TLS), "TLS handshake failed"),
        (WEB, seen(status_code=None), "no HTTP response"),
        # the first failing rule wins: status before keyword before latency before certificate
        (WEB, seen(status_code=500, body="", latency_ms=9000), "status 500, expected 200"),
        (WEB, seen(body="", latency_ms=9000), 'keyword "ok" missing'),
        (WEB, seen(latency_ms=9000, cert_not_after=T0), "took 9,000 ms > 2,000 ms"),
        (WEB, seen(error=ConnectError.TIMEOUT, status_code=500), "timeout after 5 s"),
        # no expect_status: any 2xx
        (PLAIN, seen(status_code=204), ""),
        (PLAIN, seen(status_code=299), ""),
        (PLAIN, seen(status_code=301), "status 301, expected 2xx"),
        (PLAIN, seen(status_code=199), "status 199, expected 2xx"),
        # no limits set: latency and certificates are not judged, the body is not read
        (PLAIN, seen(latency_ms=60_000, cert_not_after=T0, body=""), ""),
        (replace(PLAIN, expect_status=(200, 201, 204)), seen(status_code=202), "status 202, expected 200, 201 or 204"),  # noqa: E501
        (replace(PLAIN, expect_status=(503,)), seen(status_code=503), ""),
        (replace(PLAIN, absent_keyword="error"), seen(body="an error page"), 'keyword "error" present'),  # noqa: E501
        (replace(PLAIN, absent_keyword="error"), GOOD, ""),
        # tcp: only the connect and the time it took
        (DB, Observation(T0, 40), ""),
        (DB, Observation(T0, 900), "took 900 ms > 500 ms"),
        (DB, Observation(T0, error=ConnectError.REFUSED), "connection refused"),
        (DB, Observation(T0, error=ConnectError.TIMEOUT), "timeout after 3 s"),
        (DB, Observation(T0, 40, status_code=500, body=""), ""),
    ],
)  # fmt: skip
def test_a_check_is_ok_or_failed_with_a_short_reason(
    monitor: Monitor, observation: Observation, reason: str
) -> None:
    """The outcome is ok exactly when no rule fails, and the reason is the first failing rule's."""
    outcome = evaluate(monitor, observation)
    assert (outcome.ok, outcome.reason) == (not reason, reason)
    assert outcome.checked_at == observation.checked_at


def test_a_check_without_an_answer_has_no_latency() -> None:
    """A timeout or refused connection records no response time, whatever the checker measured;
    an answered check keeps its latency, failed or not."""
    assert evaluate(WEB, seen(error=ConnectError.TIMEOUT, latency_ms=5000)).latency_ms is None
    assert evaluate(WEB, seen(status_code=503, latency_ms=80)).latency_ms == 80


@pytest.mark.parametrize(
    ("codes", "text"),
    [
        ((), "2xx"),
        ((200,), "200"),
        ((200, 204), "200 or 204"),
        ((200, 201, 204), "200, 201 or 204"),
    ],
)
def test_expected_status_reads_as_a_list(codes: tuple[int, ...], text: str) -> None:
    """The expected codes in a reason read as English: "200, 201 or 204"."""
    assert expected_status_text(codes) == text


@pytest.mark.parametrize(
    ("observation", "text"),
    [
        (seen(status_code=503, latency_ms=134), "12:00:30 status 503, expected 200 (134 ms)"),
        (seen(body="down", latency_ms=1234), '12:00:30 keyword "ok" missing (1,234 ms)'),
        (seen(error=ConnectError.REFUSED, latency_ms=3), "12:00:30 connection refused"),
        (seen(error=ConnectError.TIMEOUT), "12:00:30 timeout after 5 s"),
        (seen(latency_ms=2300), "12:00:30 took 2,300 ms > 2,000 ms"),
    ],
)
def test_a_failed_check_reads_with_its_time_and_response_time(
    observation: Observation, text: str
) -> None:
    """A failed check reads as its UTC time (HH:MM:SS), its reason and, when the target
    answered, the response time; a check with no answer has no time, and the latency rule's
    own reason is not followed by the same figure again."""
    at = replace(observation, checked_at=T0 + timedelta(seconds=30))
    assert failed_check_text(evaluate(WEB, at)) == text


def test_a_failed_check_reads_in_utc_whatever_the_offset_of_its_time() -> None:
    """The time shown is UTC even when the check's time carries another offset."""
    berlin = timezone(timedelta(hours=2))
    at = seen(checked_at=datetime(2024, 5, 1, 14, 0, 30, tzinfo=berlin), status_code=500)
    assert failed_check_text(evaluate(WEB, at)) == "12:00:30 status 500, expected 200 (120 ms)"
