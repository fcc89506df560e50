"""The delivery policies without I/O: backoff and giving up, error classification, the circuit
breaker's states and token-bucket pacing. (Pure; kept beside the outbox tests they serve.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tocsin.delivery.base import Delivery, PermanentError, RetryableError
from tocsin.delivery.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tocsin.delivery.errors import classify, error_for_status, parse_retry_after
from tocsin.delivery.pacing import Pacer, TokenBucket
from tocsin.delivery.retry import RetryPolicy
from tocsin.platforms.webhook.sender import signature, verify

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def delivery(destination: str = "slack", kind: str = "post", incident: int = 1) -> Delivery:
    return Delivery(1, incident, destination, kind, {}, "k", 0)


def test_backoff_is_full_jitter_under_a_growing_cap() -> None:
    """The n-th retry waits rng * min(cap, base * 2**(n-1)): 1, 2, 4 ... up to the cap."""
    top = RetryPolicy(base=1.0, cap=30.0, rng=lambda: 1.0)
    assert [top.backoff(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [1, 2, 4, 8, 16, 30, 30]
    assert RetryPolicy(rng=lambda: 0.0).backoff(7) == 0.0


def test_retry_after_is_a_floor_and_limits_end_in_dead() -> None:
    """Retry-After wins over backoff; max attempts and max age turn a retry into dead."""
    policy = RetryPolicy(base=1.0, cap=10.0, max_attempts=3, max_age=3600, rng=lambda: 0.5)
    limited = policy.decide(RetryableError("HTTP 429", retry_after=20.0), 0, T0, T0)
    assert limited.retry
    assert limited.at == T0 + timedelta(seconds=21)
    assert policy.decide(RetryableError("HTTP 503"), 0, T0, T0).at == T0 + timedelta(seconds=0.5)
    last = policy.decide(RetryableError("HTTP 503"), 2, T0, T0)
    assert (last.retry, last.reason) == (False, "gave up after 3 attempts; last error: HTTP 503")
    old = policy.decide(RetryableError("HTTP 503"), 0, T0 - timedelta(hours=2), T0)
    assert not old.retry
    assert old.reason.startswith("expired: not delivered within 1 hour")
    assert policy.decide(PermanentError("HTTP 404"), 0, T0, T0).reason == "HTTP 404"


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "retry_after", "reason"),
    [
        (200, {}, b"", None, None, None),
        (503, {}, b"upstream down", RetryableError, None, "HTTP 503: upstream down"),
        (429, {"retry-after": "7"}, b'{"ok":false,"error":"ratelimited"}', RetryableError, 7.0,
         "HTTP 429: ratelimited"),
        (429, {}, b'{"message":"You are being rate limited.","retry_after":64.57,"global":false}',
         RetryableError, 64.57, "HTTP 429: You are being rate limited."),
        (420, {}, b"", RetryableError, None, "HTTP 420"),
        (408, {}, b"", RetryableError, None, "HTTP 408"),
        (404, {}, b'{"ok":false,"error":"channel_not_found"}', PermanentError, None,
         "HTTP 404: channel_not_found"),
        (401, {}, b'{"error":"invalid_auth"}', PermanentError, None, "HTTP 401: invalid_auth"),
    ],
)  # fmt: skip
def test_http_answers_are_classified(
    status: int,
    headers: dict[str, str],
    body: bytes,
    kind: type | None,
    retry_after: float | None,
    reason: str | None,
) -> None:
    """2xx is success; 408/420/429/5xx retry (with Retry-After or Discord's retry_after);
    other 4xx are permanent, with the body's error in the reason."""
    error = error_for_status(status, headers, body)
    if kind is None:
        assert error is None
        return
    assert isinstance(error, kind)
    assert str(error) == reason
    if isinstance(error, RetryableError):
        assert error.retry_after == retry_after


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    """Retry-After is seconds or an HTTP date; junk is ignored."""
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Sun, 01 Mar 2026 09:00:30 GMT", now=T0) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_exceptions_are_classified() -> None:
    """Timeouts and connection errors retry (a read timeout may have been sent); a sender's bug
    is dead with a plain reason."""
    request = httpx.Request("POST", "http://x")
    read = classify(httpx.ReadTimeout("timed out", request=request))
    assert isinstance(read, RetryableError)
    assert read.maybe_sent
    connect = classify(httpx.ConnectError("refused", request=request))
    assert isinstance(connect, RetryableError)
    assert not connect.maybe_sent
    assert str(connect) == "connection error: ConnectError: refused"
    response = httpx.Response(500, request=request)
    assert isinstance(classify(httpx.HTTPStatusError("x", request=request, response=response)),
                      RetryableError)  # fmt: skip
    bug = classify(KeyError("channel"), "slack")
    assert isinstance(bug, PermanentError)
    assert str(bug) == "internal error in the slack sender: KeyError: 'channel'"


def test_breaker_opens_probes_half_open_and_closes() -> None:
    """closed → open after the threshold; after open_seconds one probe; success closes,
    failure reopens. Each change is reported."""
    ticks, changes = Ticks(), []
    breaker = CircuitBreaker(
        "slack", threshold=3, open_seconds=30, max_open_seconds=300, clock=ticks,
        on_change=lambda d, s: changes.append(s),
    )  # fmt: skip
    for _ in range(3):
        assert breaker.permits() is None
        breaker.record_failure("HTTP 503")
    assert breaker.state == OPEN
    assert breaker.permits() == 0
    assert breaker.problem() == (
        "circuit open after 3 failures in a row (last error: HTTP 503); next probe in 30s"
    )
    ticks.now += 30
    assert breaker.permits() == 1
    assert breaker.state == HALF_OPEN
    breaker.started()
    assert breaker.permits() == 0  # one probe at a time
    breaker.record_failure("timeout")
    assert breaker.state == OPEN
    ticks.now += 30
    assert breaker.permits() == 0  # a failed probe doubles the open time
    ticks.now += 30
    assert breaker.permits() == 1
    breaker.started()
    breaker.record_success()
    assert breaker.state == CLOSED
    assert breaker.problem() is None
    assert breaker.open_seconds == 30  # back to the start after a success
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_token_bucket_paces_and_pauses() -> None:
    """1/s with burst 2: two go at once, the third waits 1 s; a pause blocks everything and
    leaves no burst behind."""
    ticks = Ticks()
    bucket = TokenBucket(1.0, 2, ticks)
    assert [bucket.reserve(), bucket.reserve(), bucket.reserve()] == [0.0, 0.0, 1.0]
    ticks.now += 10
    bucket.pause(5)
    assert bucket.reserve() == 5.0
    ticks.now += 5
    assert bucket.reserve() == pytest.approx(1.0)


async def test_pacer_keeps_statuspage_at_one_request_per_second() -> None:
    """Statuspage allows 1 request/s: the pacer spaces three deliveries a second apart, while a
    destination without published limits is not held back."""
    ticks = Ticks()
    pacer = Pacer(clock=ticks)
    waits = [pacer._buckets(delivery("statuspage"))[0].reserve() for _ in range(3)]
    assert waits == [0.0, 1.0, 2.0]
    assert await asyncio.wait_for(pacer.acquire(delivery("webhook")), 1) == 0.0
    slack_posts = {b for i in (1, 2) for b in map(id, pacer._buckets(delivery("slack", "post", i)))}
    assert len(slack_posts) == 2  # one bucket per incident channel


def test_webhook_signature_round_trips() -> None:
    """X-Tocsin-Signature is HMAC-SHA256 over "<timestamp>.<body>" and verifies in constant time."""
    header = signature("k", "1700000000", b'{"a":1}')
    assert header.startswith("sha256=")
    assert verify("k", "1700000000", b'{"a":1}', header)
    assert not verify("k", "1700000001", b'{"a":1}', header)
