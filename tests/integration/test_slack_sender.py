"""The Slack sender through the real slack_sdk AsyncWebClient against the fake Slack Web API:
channel automation, announcements kept current, errors mapped for the outbox (429 with
Retry-After, invalid_auth, timeouts, 5xx), nothing done twice after a retry, and the archive
after a resolve. The fake checks every method and argument name against Slack's OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes.slack_api import BOT_TOKEN, FakeSlack
from tocsin.config import load_settings
from tocsin.delivery.base import Delivery, PermanentError, RetryableError, Sent, Skip
from tocsin.domain.policy import default_policy
from tocsin.domain.policy_file import parse_policy
from tocsin.platforms.slack.sender import SlackSender, build_slack_sender
from tocsin.platforms.slack.webapi import SlackApi

ALICE = {"platform": "slack", "user_id": "UALICE", "display_name": "alice"}
BOB = {"platform": "slack", "user_id": "UBOB", "display_name": "bob"}
OPS = {"platform": "cli", "user_id": "ops", "display_name": "ops"}


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
    key = f"slack:INC-1:v{version}:0:{kind}"
    return Delivery(version, 1, "slack", kind, body, key, attempts)


@pytest.fixture
async def sender(slack: FakeSlack) -> AsyncIterator[SlackSender]:
    announce = slack.add_channel("incidents")
    sender = SlackSender(
        SlackApi(BOT_TOKEN, slack.api_url, timeout=1.0),
        policy=default_policy(),
        announce_channel=announce,
        archive_after=3600,
    )
    yield sender
    await sender.aclose()


async def test_open_channel_creates_sets_topic_invites_pins_and_bookmarks(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """inc-1-checkout-is-down is created with the topic, the commander and declarer invited,
    the summary posted and pinned, the dashboard bookmarked; refs name the channel."""
    refs = Refs()
    sent = refs.keep(await sender.send(delivery("open_channel"), refs))
    channel = slack.channel_named("inc-1-checkout-is-down")
    assert channel is not None
    assert sent.refs["channel"] == channel["id"]
    assert "P1 critical" in channel["topic"]["value"]
    assert "<@UALICE>" in channel["topic"]["value"]
    assert {"UALICE", "UBOB"} <= set(channel["members"])
    assert slack.pins[channel["id"]] == [sent.refs["summary_ts"]]
    [bookmark] = slack.bookmarks[channel["id"]]
    assert bookmark["link"] == "https://tocsin.example.com/incidents/1"
    [summary] = slack.messages[channel["id"]]
    assert "Checkout is down" in summary["text"]


async def test_only_slack_people_are_invited(slack: FakeSlack, sender: SlackSender) -> None:
    """A declarer from the CLI is not a Slack user, so only the commander is invited."""
    await sender.send(delivery("open_channel", actor=OPS), Refs())
    assert slack.calls_to("conversations.invite") == [
        {"channel": slack.channel_named("inc-1-checkout-is-down")["id"], "users": "UALICE"}  # type: ignore[index]
    ]


async def test_name_taken_finds_and_reuses_the_channel(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """When the name is taken (an earlier attempt created it), the channel is found with
    conversations.list, joined if needed and reused instead of creating another."""
    existing = slack.add_channel("inc-1-checkout-is-down", member=False)
    sent = await sender.send(delivery("open_channel"), Refs())
    assert sent.refs["channel"] == existing
    assert len(slack.channels) == 2  # the announce channel and the reused one
    assert slack.calls_to("conversations.join") == [{"channel": existing}]


async def test_an_archived_namesake_gets_a_numbered_name(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """An archived channel with the name cannot be reused: inc-1-...-2 is created."""
    slack.add_channel("inc-1-checkout-is-down", archived=True)
    sent = await sender.send(delivery("open_channel"), Refs())
    assert slack.channels[sent.refs["channel"]]["name"] == "inc-1-checkout-is-down-2"


async def test_429_is_retryable_with_retry_after(slack: FakeSlack, sender: SlackSender) -> None:
    """HTTP 429 with Retry-After: 7 becomes RetryableError(retry_after=7)."""
    slack.rate_limit("conversations.create", retry_after=7)
    with pytest.raises(RetryableError) as raised:
        await sender.send(delivery("open_channel"), Refs())
    assert raised.value.retry_after == 7


async def test_invalid_auth_is_permanent(slack: FakeSlack, sender: SlackSender) -> None:
    """ok:false invalid_auth cannot be fixed by retrying: PermanentError naming it."""
    slack.fail("conversations.create", "invalid_auth")
    with pytest.raises(PermanentError, match="invalid_auth"):
        await sender.send(delivery("open_channel"), Refs())


async def test_a_timeout_is_retryable_and_may_have_been_sent(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """No answer within the client timeout: RetryableError flagged maybe_sent."""
    slack.slow("conversations.create", seconds=1.5)
    with pytest.raises(RetryableError) as raised:
        await sender.send(delivery("open_channel"), Refs())
    assert raised.value.maybe_sent is True


async def test_server_errors_are_retryable(slack: FakeSlack, sender: SlackSender) -> None:
    """HTTP 503 from Slack is retried later; so is ok:false internal_error."""
    slack.server_error("chat.postMessage", status=503)
    with pytest.raises(RetryableError):
        await sender.send(delivery("announce"), Refs())
    slack.fail("chat.postMessage", "internal_error")
    with pytest.raises(RetryableError):
        await sender.send(delivery("announce"), Refs())


async def test_a_retry_after_a_lost_answer_does_not_post_twice(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """The first attempt posted but timed out; the retry finds its message (tagged with the
    delivery key) in conversations.history and does not post it again."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    channel = refs["channel"]
    slack.slow("chat.postMessage", seconds=1.5)
    update = delivery("post", "update", version=2, text="Rolled back")
    with pytest.raises(RetryableError):
        await sender.send(update, refs)
    retry = delivery("post", "update", version=2, text="Rolled back", attempts=1)
    sent = await sender.send(retry, refs)
    posted = [m for m in slack.messages[channel] if "Rolled back" in (m["text"] or "")]
    assert len(posted) == 1
    assert sent.remote_ids["ts"] == posted[0]["ts"]


async def test_announce_then_keep_the_announcement_current(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """The announcement is posted with its buttons; later changes chat.update it in place
    (with the latest update text) and re-set the channel topic when it changed."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    sent = refs.keep(await sender.send(delivery("announce"), refs))
    announce, ts = sent.refs["announce_channel"], sent.refs["announcement_ts"]
    [message] = slack.messages[announce]
    assert any(b["type"] == "actions" for b in message["blocks"])
    refs.keep(await sender.send(delivery("post", "update", version=2, text="Rolled back"), refs))
    refs.keep(
        await sender.send(
            delivery(
                "refresh_announcement", "status", version=3, incident=snap(status="monitoring")
            ),
            refs,
        )
    )
    [update] = slack.calls_to("chat.update")
    assert update["ts"] == ts
    assert update["channel"] == announce
    assert "monitoring" in str(update["blocks"])
    assert "Rolled back" in str(update["blocks"])
    assert "monitoring" in slack.channels[refs["channel"]]["topic"]["value"]


async def test_announce_channel_comes_from_the_policy_per_severity(slack: FakeSlack) -> None:
    """The policy's slack_channel for the severity beats TOCSIN_SLACK_ANNOUNCE_CHANNEL;
    with neither set the announcement is skipped."""
    p1 = slack.add_channel("major-incidents")
    policy = parse_policy({"severity": {"P1": {"slack_channel": p1}}})
    sender = SlackSender(SlackApi(BOT_TOKEN, slack.api_url), policy=policy, announce_channel=None)
    try:
        sent = await sender.send(delivery("announce"), Refs())
        assert sent.refs["announce_channel"] == p1
        with pytest.raises(Skip):
            await sender.send(delivery("announce", incident=snap(severity="P2")), Refs())
    finally:
        await sender.aclose()


async def test_not_in_channel_joins_and_posts(slack: FakeSlack, sender: SlackSender) -> None:
    """Without chat:write.public, a post to a channel tocsin is not in joins it and retries."""
    slack.public_write = False
    outside = slack.add_channel("elsewhere", member=False)
    sent = await sender.send(delivery("post", "note", text="hi"), Refs(channel=outside))
    assert slack.calls_to("conversations.join") == [{"channel": outside}]
    assert sent.remote_ids["ts"]


async def test_joins_and_role_changes_invite_the_person(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """A `join` posts a line and invites the joiner; a new deputy is invited too."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    carol = {"platform": "slack", "user_id": "UCAROL", "display_name": "carol"}
    await sender.send(delivery("post", "joined", version=2, text="carol joined", actor=carol), refs)
    dave = {"platform": "slack", "user_id": "UDAVE", "display_name": "dave"}
    role = delivery("post", "role", version=3, text="made dave deputy", data={"person": dave})
    await sender.send(role, refs)
    assert {"UCAROL", "UDAVE"} <= set(slack.channels[refs["channel"]]["members"])


async def test_resolve_queues_the_archive_and_reopen_cancels_it(
    slack: FakeSlack, sender: SlackSender
) -> None:
    """A resolve's post returns an archive_channel follow-up, due archive_after seconds later;
    it archives the channel, unless the incident was reopened since (then it is skipped)."""
    refs = Refs()
    refs.keep(await sender.send(delivery("open_channel"), refs))
    resolved = refs.keep(await sender.send(delivery("post", "resolved", version=5), refs))
    [archive] = resolved.follow_ups
    assert archive.kind == "archive_channel"
    assert archive.delay_seconds == 3600
    assert archive.order != "slack:1"  # it must not hold up the incident's other deliveries
    later = Delivery(9, 1, "slack", "archive_channel", archive.payload, archive.key, 0)
    refs.keep(await sender.send(delivery("post", "reopened", version=6), refs))
    with pytest.raises(Skip):
        await sender.send(later, refs)
    assert not slack.channels[refs["channel"]]["is_archived"]
    again = refs.keep(await sender.send(delivery("post", "resolved", version=7), refs))
    [archive] = again.follow_ups
    await sender.send(
        Delivery(10, 1, "slack", "archive_channel", archive.payload, archive.key, 0), refs
    )
    assert slack.channels[refs["channel"]]["is_archived"]


async def test_ephemeral_answers_and_gone_channels(slack: FakeSlack, sender: SlackSender) -> None:
    """An ephemeral answer is shown with chat.postEphemeral; if its channel is gone, skipped."""
    channel = slack.add_channel("ops")
    payload = {"channel": channel, "user": "UBOB", "text": "Only the commander may resolve it."}
    await sender.send(delivery("ephemeral", payload=payload), Refs())
    assert slack.ephemeral[0]["user"] == "UBOB"
    with pytest.raises(Skip):
        await sender.send(delivery("ephemeral", payload={**payload, "channel": "CGONE"}), Refs())


async def test_a_post_without_a_channel_is_a_permanent_failure(sender: SlackSender) -> None:
    """If open_channel never succeeded there is nowhere to post: dead, with a reason."""
    with pytest.raises(PermanentError, match="no Slack channel"):
        await sender.send(delivery("post", "note", text="x"), Refs())


async def test_the_sender_is_built_from_the_settings() -> None:
    """No bot token, no sender; with one, the announce channel and archive delay are the
    settings' (TOCSIN_SLACK_ANNOUNCE_CHANNEL, TOCSIN_SLACK_ARCHIVE_AFTER_HOURS)."""
    assert build_slack_sender(load_settings({}, env_file=None), default_policy()) is None
    env = {
        "TOCSIN_SLACK_BOT_TOKEN": BOT_TOKEN,
        "TOCSIN_SLACK_ANNOUNCE_CHANNEL": "C0ANNOUNCE",
        "TOCSIN_SLACK_ARCHIVE_AFTER_HOURS": "2",
    }
    sender = build_slack_sender(load_settings(env, env_file=None), default_policy())
    assert sender is not None
    try:
        assert sender.announce_channel == "C0ANNOUNCE"
        assert sender.archive_after == 7200
    finally:
        await sender.aclose()
