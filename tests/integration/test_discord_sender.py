"""The Discord sender through tocsin's httpx client against the fake Discord REST API on
loopback: incident channels and threads, announcements kept current, closing after a resolve,
nothing done twice after a retry, rate limits (X-RateLimit-* buckets and the documented 429
bodies), and a stop on repeated 401/403. The fake checks every route and body against Discord's
OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fakes.clocks import VirtualTime
from fakes.discord_api import ANNOUNCE, BOT_TOKEN, BOT_USER_ID, GUILD_ID, FakeDiscord
from tocsin.delivery.base import Delivery, PermanentError, RetryableError, Sent, Skip
from tocsin.domain.policy import default_policy
from tocsin.platforms.discord.ratelimit import DiscordRefused, DiscordStopped, RateLimiter
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.discord.sender import LOCKED, DiscordSender

ALICE = {"platform": "discord", "user_id": "700000000000000005", "display_name": "alice"}
BOB = {"platform": "discord", "user_id": "700000000000000006", "display_name": "bob"}
MESSAGES = "/channels/{channel_id}/messages"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Refs(dict[str, str]):
    """What the worker keeps in remote_refs between deliveries of one incident."""

    def get(self, name: str, default: Any = None) -> Any:  # the RemoteRefs protocol
        return super().get(name, default)

    def keep(self, sent: Sent) -> Sent:
        self.update(sent.refs)
        return sent


def snap(**changes: Any) -> dict[str, Any]:
    base = {
        "number": 1,
        "ref": "INC-1",
        "title": "Checkout is down",
        "severity": "P1",
        "status": "investigating",
        "commander": ALICE,
        "roles": {"commander": ALICE},
        "declared_at": "2026-03-01T09:00:00+00:00",
        "url": "https://tocsin.example.com/incidents/1",
    }
    return {**base, **changes}


def delivery(
    kind: str,
    event: str = "declared",
    *,
    attempts: int = 0,
    version: int = 1,
    text: str = "",
    actor: dict[str, str] | None = None,
    data: dict[str, Any] | None = None,
    incident: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> Delivery:
    body = payload or {
        "event": event,
        "text": text,
        "actor": actor or BOB,
        "at": "2026-03-01T09:00:00+00:00",
        "data": data or {},
        "incident": incident or snap(),
    }
    key = f"discord:INC-1:v{version}:0:{kind}"
    return Delivery(version, 1, "discord", kind, body, key, attempts)


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        yield fake
        assert fake.violations == []  # every call matched Discord's OpenAPI description


def make_sender(discord: FakeDiscord, **kw: Any) -> DiscordSender:
    rest = kw.pop("rest", None) or DiscordRest(BOT_TOKEN, discord.api_url, timeout=5.0)
    kw.setdefault("guild_id", GUILD_ID)
    kw.setdefault("announce_channel", ANNOUNCE)
    return DiscordSender(rest, policy=default_policy(), clock=lambda: NOW, **kw)


@pytest.fixture
async def sender(discord: FakeDiscord) -> AsyncIterator[DiscordSender]:
    built = make_sender(discord)
    yield built
    await built.aclose()


# --- the incident's space -------------------------------------------------------------------
async def test_open_channel_makes_a_text_channel_with_a_pinned_summary(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """open_channel creates inc-1-checkout-is-down (type 0, topic with severity and commander),
    posts the summary as an embed, pins it, and reports channel, summary and space refs."""
    sent = await sender.send(delivery("open_channel"), Refs())
    channel = discord.channel_named("inc-1-checkout-is-down")
    assert channel is not None
    assert channel["type"] == 0
    assert "P1" in channel["topic"]
    assert "<@700000000000000005>" in channel["topic"]
    [summary] = discord.messages_in(channel["id"])
    assert summary["embeds"][0]["title"].endswith("INC-1: Checkout is down")
    assert discord.pins[channel["id"]] == [summary["id"]]
    assert sent.refs == {"channel": channel["id"], "summary_id": summary["id"], "space": "channel"}


async def test_open_channel_under_a_category(discord: FakeDiscord) -> None:
    """With a category set, the channel is created under it."""
    sender = make_sender(discord, category_id="700000000000000999")
    await sender.send(delivery("open_channel"), Refs())
    await sender.aclose()
    [call] = discord.calls_to("POST", "/guilds/{guild_id}/channels")
    assert call.body["parent_id"] == "700000000000000999"


async def test_open_channel_as_a_public_thread(discord: FakeDiscord) -> None:
    """In thread mode the incident gets a public thread (type 11, never the private default) in
    the announce channel; the commander and the declarer are added to it."""
    sender = make_sender(discord, space="thread")
    sent = await sender.send(delivery("open_channel"), Refs())
    await sender.aclose()
    thread = discord.channel_named("inc-1-checkout-is-down")
    assert thread is not None
    assert (thread["type"], thread["parent_id"]) == (11, ANNOUNCE)
    [call] = discord.calls_to("POST", "/channels/{channel_id}/threads")
    assert call.body["type"] == 11
    assert discord.thread_members[thread["id"]] == [ALICE["user_id"], BOB["user_id"]]
    assert sent.refs["space"] == "thread"
    assert discord.pins[thread["id"]]


async def test_a_retried_open_channel_reuses_what_the_first_attempt_made(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """A retry (attempts > 0) finds the channel by name instead of making a second one, and the
    summary's nonce makes Discord return the first message instead of posting again."""
    first = await sender.send(delivery("open_channel"), Refs())
    again = await sender.send(delivery("open_channel", attempts=1), Refs())
    assert len(discord.calls_to("POST", "/guilds/{guild_id}/channels")) == 1
    assert again.refs == first.refs
    assert len(discord.messages_in(first.refs["channel"])) == 1


# --- announcements --------------------------------------------------------------------------
async def test_announce_posts_buttons_and_refresh_edits_in_place(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """The announcement carries Join, Acknowledge, Post update and Resolve (Resolve asks
    first); refresh_announcement edits the same message with the latest update."""
    refs = Refs(channel="700000000000000401")
    sent = refs.keep(await sender.send(delivery("announce"), refs))
    [message] = discord.messages_in(ANNOUNCE)
    ids = [b["custom_id"] for row in message["components"] for b in row["components"]]
    assert ids == ["tocsin:join:1", "tocsin:ack:1", "tocsin:update:1", "tocsin:resolve:1:ask"]
    assert sent.refs == {"announcement_id": message["id"], "announce_channel": ANNOUNCE}
    update = delivery("refresh_announcement", "update", text="Payments are back", version=2)
    await sender.send(update, refs)
    [edited] = discord.messages_in(ANNOUNCE)
    assert "Payments are back" in edited["embeds"][0]["description"]
    assert len(discord.calls_to("PATCH", "/channels/{channel_id}/messages/{message_id}")) == 1


async def test_announce_without_a_channel_is_skipped(discord: FakeDiscord) -> None:
    """No announce channel anywhere: the row is skipped, nothing is sent."""
    sender = make_sender(discord, announce_channel=None)
    with pytest.raises(Skip):
        await sender.send(delivery("announce"), Refs())
    with pytest.raises(Skip):
        await sender.send(delivery("refresh_announcement", "update"), Refs())
    await sender.aclose()
    assert discord.calls == []


# --- timeline lines, closing and reopening ---------------------------------------------------
async def test_resolve_queues_a_close_and_the_close_locks_the_channel(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """A resolve line queues close_space a day later; it lets only tocsin post (bot member
    allowed, @everyone denied); a reopen line lifts the lock again."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    channel = refs["channel"]
    sent = refs.keep(await sender.send(delivery("post", "resolved", text="resolved"), refs))
    [close] = sent.follow_ups
    assert (close.kind, close.delay_seconds) == ("close_space", 24 * 3600.0)
    refs.keep(await sender.send(delivery("close_space", payload=close.payload), refs))
    assert discord.overwrites[channel][BOT_USER_ID] == {"type": 1, "allow": LOCKED, "deny": 0}
    assert discord.overwrites[channel][GUILD_ID] == {"type": 0, "allow": 0, "deny": LOCKED}
    refs.keep(await sender.send(delivery("post", "reopened", text="reopened", version=3), refs))
    assert GUILD_ID not in discord.overwrites[channel]
    assert refs["closed"] == "no"


async def test_close_is_skipped_after_a_reopen(discord: FakeDiscord, sender: DiscordSender) -> None:
    """When the incident was reopened after the resolve, the delayed close does nothing."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    sent = refs.keep(await sender.send(delivery("post", "resolved"), refs))
    refs.keep(await sender.send(delivery("post", "reopened", version=3), refs))
    with pytest.raises(Skip):
        await sender.send(delivery("close_space", payload=sent.follow_ups[0].payload), refs)
    assert discord.overwrites == {}


async def test_threads_are_archived_and_locked_then_reopened(discord: FakeDiscord) -> None:
    """In thread mode the close archives and locks the thread; a reopen unarchives it; a role
    line adds the person to the thread."""
    sender = make_sender(discord, space="thread")
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    thread = discord.channels[refs["channel"]]
    carol = {"platform": "discord", "user_id": "700000000000000007"}
    await sender.send(delivery("post", "role", data={"person": carol}, version=2), refs)
    assert carol["user_id"] in discord.thread_members[thread["id"]]
    sent = refs.keep(await sender.send(delivery("post", "resolved", version=3), refs))
    refs.keep(await sender.send(delivery("close_space", payload=sent.follow_ups[0].payload), refs))
    assert (thread["thread_metadata"]["archived"], thread["thread_metadata"]["locked"]) == (
        True,
        True,
    )
    refs.keep(await sender.send(delivery("post", "reopened", version=4), refs))
    assert thread["thread_metadata"]["archived"] is False
    await sender.aclose()


async def test_post_updates_keep_the_latest_text(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """An update line lands in the incident channel and is remembered for the announcement."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    sent = await sender.send(delivery("post", "update", text="Rolled back", version=2), refs)
    assert sent.refs == {"last_update": "Rolled back"}
    last = discord.messages_in(refs["channel"])[-1]
    assert "Rolled back" in last["content"]
    sent_body = discord.calls_to("POST", MESSAGES)[-1].body
    assert sent_body["allowed_mentions"] == {"parse": [], "users": ["700000000000000006"]}


async def test_post_without_a_channel_is_permanent(sender: DiscordSender) -> None:
    """A line for an incident whose channel never got made cannot be delivered."""
    with pytest.raises(PermanentError, match="no Discord channel"):
        await sender.send(delivery("post", "note"), Refs())


# --- interaction answers --------------------------------------------------------------------
def reply_payload(token: str, expires: datetime) -> dict[str, Any]:
    return {
        "application_id": "700000000000000100",
        "token": token,
        "body": {"content": "INC-1 declared", "allowed_mentions": {"parse": []}},
        "expires_at": expires.isoformat(),
    }


async def test_interaction_reply_edits_original(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """A deferred interaction's answer edits @original through the webhook, without the bot
    token; an expired token or an interaction Discord forgot is skipped, not retried."""
    later = NOW + timedelta(minutes=10)
    await sender.send(delivery("interaction_reply", payload=reply_payload("tok-1", later)), Refs())
    assert discord.originals["tok-1"]["content"] == "INC-1 declared"
    [call] = discord.calls_to("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
    assert "authorization" not in call.headers
    gone = reply_payload("tok-2", NOW - timedelta(seconds=1))
    with pytest.raises(Skip, match="expired"):
        await sender.send(delivery("interaction_reply", payload=gone), Refs())
    discord.expired_tokens.add("tok-3")
    with pytest.raises(Skip, match="gone"):
        await sender.send(
            delivery("interaction_reply", payload=reply_payload("tok-3", later)), Refs()
        )


# --- rate limits and refusals ---------------------------------------------------------------
@pytest.mark.parametrize("example", ["user", "shared", "global"])
async def test_documented_429s_become_retry_after(
    discord: FakeDiscord, sender: DiscordSender, example: str
) -> None:
    """Each documented 429 body becomes RetryableError with its float retry_after; the route
    (or, for the global one, everything) then waits without sending another request."""
    sent_body = discord.rate_limit("POST", MESSAGES, example=example)
    refs = Refs(channel="700000000000000401")
    discord.add_channel("incident", channel_id="700000000000000401")
    with pytest.raises(RetryableError) as caught:
        await sender.send(delivery("post", "note"), refs)
    assert caught.value.retry_after == sent_body["retry_after"]
    before = len(discord.calls)
    with pytest.raises(RetryableError):
        await sender.send(delivery("post", "note", version=2), refs)
    assert len(discord.calls) == before  # nothing sent while the wait is on


@pytest.fixture
async def timed(discord: FakeDiscord) -> AsyncIterator[tuple[DiscordSender, VirtualTime]]:
    """A sender whose rate limiter runs on the same hand-moved clock as the fake's buckets."""
    clock = VirtualTime()
    discord.clock = clock
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    rest = DiscordRest(BOT_TOKEN, discord.api_url, timeout=5.0, limiter=limiter)
    built = make_sender(discord, rest=rest)
    yield built, clock
    await built.aclose()


async def test_short_429_is_waited_out_next_time(
    discord: FakeDiscord, timed: tuple[DiscordSender, VirtualTime]
) -> None:
    """A 429 with a short retry_after fails the attempt; the next attempt first waits that long
    (0.2 s) and succeeds."""
    sender, clock = timed
    discord.add_channel("incident", channel_id="700000000000000401")
    discord.rate_limit("POST", MESSAGES, retry_after=0.2)
    refs = Refs(channel="700000000000000401")
    with pytest.raises(RetryableError) as caught:
        await sender.send(delivery("post", "note"), refs)
    assert caught.value.retry_after == pytest.approx(0.2)
    assert clock.waits == []
    await sender.send(delivery("post", "note"), refs)
    assert clock.waits == [pytest.approx(0.2)]
    assert len(discord.messages_in("700000000000000401")) == 1


async def test_bucket_headers_keep_requests_under_the_limit(
    discord: FakeDiscord, timed: tuple[DiscordSender, VirtualTime]
) -> None:
    """With a route allowing 2 requests per 0.5 s, five posts wait for the bucket to refill
    (read from X-RateLimit-Remaining / -Reset-After) before the third and the fifth, and never
    collect a 429."""
    sender, clock = timed
    discord.add_channel("incident", channel_id="700000000000000401")
    discord.limit("POST", MESSAGES, 2, per=0.5)  # 0.5 s: exact in binary, as are the sums
    refs = Refs(channel="700000000000000401")
    for n in range(5):
        await sender.send(delivery("post", "note", version=n + 2), refs)
    assert discord.rate_limited == []
    assert clock.waits == [0.5, 0.5]
    assert len(discord.messages_in("700000000000000401")) == 5


async def test_a_refused_token_stops_all_sending(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """A 401 stops the sender: that row and every later one fail with DiscordStopped (a
    PermanentError the worker can see), and no further request reaches Discord."""
    discord.revoke_token()
    with pytest.raises(DiscordStopped, match="TOCSIN_DISCORD_BOT_TOKEN"):
        await sender.send(delivery("open_channel"), Refs())
    before = len(discord.calls)
    for version in range(2, 6):
        with pytest.raises(DiscordStopped):
            await sender.send(delivery("announce", version=version), Refs())
    assert len(discord.calls) == before
    assert DiscordStopped.stop_destination is True


async def test_repeated_403s_stop_before_the_ban(
    discord: FakeDiscord, sender: DiscordSender
) -> None:
    """One 403 fails one row; three in a row stop sending (paused, nothing more is sent), so an
    unpermitted bot never piles up invalid requests."""
    discord.fail("POST", "/guilds/{guild_id}/channels", 403, 50013, "Missing Permissions", times=3)
    for attempt in range(2):
        with pytest.raises(DiscordRefused) as caught:
            await sender.send(delivery("open_channel", version=attempt + 1), Refs())
        assert not isinstance(caught.value, DiscordStopped)
        assert caught.value.code == 50013
    with pytest.raises(DiscordStopped, match="403"):
        await sender.send(delivery("open_channel", version=3), Refs())
    before = len(discord.calls)
    with pytest.raises(DiscordStopped):
        await sender.send(delivery("open_channel", version=4), Refs())
    assert len(discord.calls) == before


async def test_server_errors_are_retryable(discord: FakeDiscord, sender: DiscordSender) -> None:
    """A 502 while posting is retried later (and may have been carried out)."""
    discord.fail("POST", "/guilds/{guild_id}/channels", 502, 0, "Bad Gateway")
    with pytest.raises(RetryableError) as caught:
        await sender.send(delivery("open_channel"), Refs())
    assert caught.value.maybe_sent


async def test_unknown_kind_is_permanent(sender: DiscordSender) -> None:
    """A kind the sender does not know is dead at once, with its name in the reason."""
    with pytest.raises(PermanentError, match="archive_channel"):
        await sender.send(delivery("archive_channel"), Refs())


async def test_built_from_the_settings(discord: FakeDiscord) -> None:
    """No bot token, no sender; with one, the sender uses TOCSIN_DISCORD_* (announce channel,
    guild, API URL) and the registry finds it like every other destination's."""
    from tocsin.config import load_settings
    from tocsin.platforms.registry import find_factory

    factory = find_factory("discord")
    assert factory is not None
    assert factory(load_settings({}, env_file=None), default_policy()) is None
    env = {
        "TOCSIN_DISCORD_BOT_TOKEN": BOT_TOKEN,
        "TOCSIN_DISCORD_GUILD_ID": GUILD_ID,
        "TOCSIN_DISCORD_ANNOUNCE_CHANNEL": ANNOUNCE,
        "TOCSIN_DISCORD_API_URL": discord.api_url,
    }
    sender = factory(load_settings(env, env_file=None), default_policy())
    assert isinstance(sender, DiscordSender)
    assert (sender.guild_id, sender.announce_channel, sender.space) == (
        GUILD_ID,
        ANNOUNCE,
        "channel",
    )
    await sender.send(delivery("announce"), Refs())
    await sender.aclose()
    assert len(discord.messages_in(ANNOUNCE)) == 1
