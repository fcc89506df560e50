"""Rate limits and the invalid-request guard, on a hand-moved clock: buckets from headers, 429
pauses (per route and global), the 50/s global pace, and stops on 401 and repeated 403."""

from __future__ import annotations

import math

import pytest

from tocsin.delivery.base import PermanentError, RetryableError
from tocsin.platforms.discord.ratelimit import (
    DiscordStopped,
    InvalidRequestGuard,
    RateLimiter,
    route_key,
)


class Time:
    """A monotonic clock and a sleep that only moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def limiter(clock: Time, **kw: float) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, **kw)


def test_route_keys_keep_major_parameters_and_hide_tokens() -> None:
    """Channel, guild and webhook ids split buckets; other ids do not; interaction tokens never
    appear in the label (it is logged)."""
    assert route_key("patch", "/channels/1/messages/2") == (
        "PATCH /channels/{id}/messages/{id}",
        "1",
    )
    assert route_key("POST", "/guilds/9/channels") == ("POST /guilds/{id}/channels", "9")
    label, major = route_key("PATCH", "/webhooks/7/secret-token/messages/@original")
    assert label == "PATCH /webhooks/{id}/{token}/messages/@original"
    assert major == "7/secret-token"
    assert route_key("GET", "/users/@me") == ("GET /users/@me", "")


async def test_an_empty_bucket_waits_until_its_reset() -> None:
    """Remaining 0 with Reset-After 1.5: the next request on that route (same channel) waits
    1.5 s; another channel's does not."""
    clock = Time()
    rl = limiter(clock)
    headers = {
        "x-ratelimit-bucket": "b1",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": "1.5",
    }
    rl.update("POST /channels/{id}/messages", "1", headers)
    await rl.acquire("POST /channels/{id}/messages", "2")
    assert clock.slept == []
    await rl.acquire("POST /channels/{id}/messages", "1")
    assert clock.slept == [1.5]


async def test_remaining_is_reserved_between_answers() -> None:
    """With one request left, two concurrent callers do not both go: the second waits."""
    clock = Time()
    rl = limiter(clock)
    headers = {"x-ratelimit-remaining": "1", "x-ratelimit-reset-after": "2"}
    rl.update("POST /x", "", headers)
    await rl.acquire("POST /x", "")
    assert clock.slept == []
    await rl.acquire("POST /x", "")
    assert clock.slept == [2.0]


async def test_long_waits_go_back_to_the_outbox() -> None:
    """A wait longer than max_wait is not slept through: RetryableError with the wait."""
    clock = Time()
    rl = limiter(clock, max_wait=5.0)
    rl.limited("POST /x", "", 64.57, everything=False)
    with pytest.raises(RetryableError) as caught:
        await rl.acquire("POST /x", "")
    assert caught.value.retry_after == pytest.approx(64.57)
    await rl.acquire("GET /y", "")  # other routes are free
    rl.limited("POST /x", "", 64.57, everything=True)
    with pytest.raises(RetryableError):
        await rl.acquire("GET /y", "")


async def test_the_global_pace_is_50_per_second() -> None:
    """A burst of 50 goes at once; the next ones are spaced 20 ms apart."""
    clock = Time()
    rl = limiter(clock)
    for _ in range(52):
        await rl.acquire("GET /z", "")
    assert clock.slept == [0.02, 0.02]


def test_a_401_stops_everything_for_good() -> None:
    """One 401 on a bot request stops bot requests until restart; webhooks still go."""
    clock = Time()
    guard = InvalidRequestGuard(clock=clock)
    guard.record(401, auth=True)
    assert guard.until == math.inf
    with pytest.raises(DiscordStopped, match="TOCSIN_DISCORD_BOT_TOKEN"):
        guard.check()
    clock.now += 10**6
    with pytest.raises(DiscordStopped):
        guard.check()
    guard.check(auth=False)
    assert issubclass(DiscordStopped, PermanentError)


def test_403s_in_a_row_pause_then_let_one_through() -> None:
    """Two 403s do not stop; a success resets the count; three in a row pause bot requests for
    ten minutes, after which one may go to see."""
    clock = Time()
    guard = InvalidRequestGuard(clock=clock)
    guard.record(403, auth=True)
    guard.record(403, auth=True)
    guard.record(200, auth=True)
    guard.record(403, auth=True)
    guard.record(403, auth=True)
    guard.check()
    guard.record(403, auth=True)
    with pytest.raises(DiscordStopped, match="403"):
        guard.check()
    clock.now += 600
    guard.check()


def test_users_with_closed_dms_do_not_pause_discord() -> None:
    """403 with code 50007 (a paged person's DMs are closed) refuses that user, not the bot:
    any number of them in a row never pauses Discord, though they still count as invalid."""
    clock = Time()
    guard = InvalidRequestGuard(clock=clock)
    for _ in range(5):
        guard.record(403, auth=True, code=50007)
    guard.check()
    assert len(guard.invalid) == 5
    guard.record(403, auth=True)
    guard.record(403, auth=True)
    guard.check()


def test_the_invalid_budget_keeps_far_from_the_ban() -> None:
    """Past the budget of invalid answers in 10 minutes, requests wait (retryable) until old
    ones leave the window; shared-scope 429s and successes do not count."""
    clock = Time()
    guard = InvalidRequestGuard(budget=3, clock=clock)
    guard.record(429, auth=True, scope="shared")
    guard.record(404, auth=True)
    guard.record(401, auth=False)  # an expired interaction token: counted, but no stop
    guard.record(429, auth=True, scope="user")
    guard.check()
    clock.now += 100
    guard.record(403, auth=False)
    with pytest.raises(RetryableError) as caught:
        guard.check()
    assert caught.value.retry_after == pytest.approx(500)
    clock.now += 500
    guard.check()
