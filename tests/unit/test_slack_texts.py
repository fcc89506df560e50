"""The neutral chat texts and their Slack rendering: channel names and topics, the announcement
and its buttons, help in one message, escaping, Block Kit markers, slash command reply bodies."""

from __future__ import annotations

from typing import Any

from tocsin.chat import texts
from tocsin.chat.commands import declare_form
from tocsin.chat.messages import Message, Reply
from tocsin.domain.commands import SUBCOMMANDS
from tocsin.domain.model import Severity
from tocsin.platforms.slack.blocks import (
    STYLE,
    has_marker,
    marker,
    message_blocks,
    plain,
    reply_body,
)

ALICE = {"platform": "slack", "user_id": "UALICE", "display_name": "alice"}


def snap(**changes: Any) -> dict[str, Any]:
    base = {
        "number": 7,
        "ref": "INC-7",
        "title": "Checkout is down",
        "severity": "P1",
        "status": "investigating",
        "commander": ALICE,
        "roles": {},
        "declared_at": "2026-03-01T09:00:00+00:00",
        "url": "https://tocsin.example.com/incidents/7",
    }
    return {**base, **changes}


def test_channel_name_is_lowercase_slug_within_80_characters() -> None:
    """inc-<n>-<slug>: lowercase ASCII, dashes for anything else, accents folded, ≤ 80 long."""
    assert texts.channel_name(12, "Checkout is DOWN!! (EU)") == "inc-12-checkout-is-down-eu"
    assert texts.channel_name(3, "Café crème — paiements") == "inc-3-cafe-creme-paiements"
    long = texts.channel_name(123456, "word " * 40)
    assert len(long) <= 80
    assert not long.endswith("-")
    assert long.startswith("inc-123456-word")
    assert texts.channel_name(5, "🔥🔥🔥") == "inc-5"


def test_topic_names_severity_status_and_commander() -> None:
    """The channel topic is short and says severity, status and commander (as a mention)."""
    topic = texts.channel_topic(snap(status="monitoring"), STYLE)
    assert "P1 critical" in topic
    assert "monitoring" in topic
    assert "<@UALICE>" in topic
    assert len(topic) <= 250


def test_announcement_has_the_four_buttons_while_open_and_none_once_resolved() -> None:
    """Join, Acknowledge, Post update, Resolve (danger, with a confirmation); none when resolved."""
    message = texts.announcement(snap(), STYLE, latest_update="Rolled back", channel_id="C9")
    assert [b.action for b in message.buttons] == ["join", "ack", "update", "resolve"]
    resolve = message.buttons[-1]
    assert resolve.style == "danger"
    assert "Resolve INC-7" in resolve.confirm
    assert "<#C9>" in [f.value for f in message.fields]
    assert "Rolled back" in message.body
    assert texts.announcement(snap(status="resolved"), STYLE).buttons == ()


def test_user_text_is_escaped_so_it_cannot_ping_or_break_markup() -> None:
    """A title with <!channel> and & is escaped in every message built from it."""
    hostile = snap(title="<!channel> DB & cache down")
    for message in (
        texts.announcement(hostile, STYLE),
        texts.channel_summary(hostile, STYLE, declared_by=ALICE),
    ):
        rendered = str(message_blocks(message)) + message.text
        assert "<!channel>" not in rendered
        assert "&lt;!channel&gt; DB &amp; cache down" in rendered


def test_help_fits_one_message_and_names_every_subcommand() -> None:
    """help is one Slack section (≤ 3000 characters) naming every subcommand, escaped."""
    message = texts.help_message(STYLE, prefix="/incident ")
    assert len(message.text) <= 3000
    for name in SUBCOMMANDS:
        assert f"/incident {name}" in message.text
    assert "&lt;title&gt;" in message.text
    assert "<title>" not in message.text


def test_entry_lines_for_updates_and_notes() -> None:
    """Updates and notes say who; other entries show the domain's sentence."""
    update = {"event": "update", "text": "Rolled back", "actor": ALICE}
    assert texts.entry_message(update, STYLE).text == "📣 *Update* from <@UALICE>: Rolled back"
    note = {"event": "note", "text": "a<b", "actor": ALICE}
    assert texts.entry_message(note, STYLE).text == "📝 <@UALICE> noted: a&lt;b"
    status = {"event": "status", "text": "alice changed status", "actor": ALICE}
    assert texts.entry_message(status, STYLE).text == "🔁 alice changed status"


def test_mentions_of_people_from_other_platforms_use_their_names() -> None:
    """A Discord or CLI person cannot be @-mentioned in Slack: their name is shown instead."""
    assert STYLE.mention({"platform": "cli", "user_id": "ops", "display_name": "Ops"}) == "Ops"
    assert STYLE.mention(None) == "nobody"


def test_plain_turns_slack_markup_into_readable_text() -> None:
    """Mentions, channels and links are unwrapped and entities decoded for the timeline."""
    raw = "<@U1|alice> see <#C2|ops> and <https://x.io/a|the graph> &amp; <https://y.io>"
    assert plain(raw) == "alice see ops and the graph (https://x.io/a) & https://y.io"
    assert plain("<@U9> hi &lt;3") == "@U9 hi <3"


def test_blocks_carry_the_idempotency_marker_on_the_first_block() -> None:
    """The first block's block_id tags the message with its delivery key (≤ 255 characters)."""
    message = texts.announcement(snap(), STYLE)
    blocks = message_blocks(message, key="slack:INC-7:v1:0:announce")
    assert blocks[0]["block_id"] == "tocsin:slack:INC-7:v1:0:announce"
    assert has_marker({"blocks": blocks}, "slack:INC-7:v1:0:announce")
    assert not has_marker({"blocks": blocks}, "slack:INC-7:v2:0:announce")
    assert len(marker("k" * 500)) <= 255
    actions = next(b for b in blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "tocsin:join",
        "tocsin:ack",
        "tocsin:update",
        "tocsin:resolve",
    ]


def test_reply_bodies_are_ephemeral_unless_public() -> None:
    """Private answers are ephemeral; public ones in_channel; a document follows in a code block."""
    assert reply_body(Reply(Message("hi")))["response_type"] == "ephemeral"
    body = reply_body(Reply(Message("done"), public=True, document="# PM\n<x>" * 10000))
    assert body["response_type"] == "in_channel"
    assert body["text"].startswith("done\n```")
    assert len(body["text"]) <= 40000
    assert "&lt;x&gt;" in body["text"]


def test_declare_without_a_title_asks_for_the_form_prefilled() -> None:
    """`declare`, `declare P1 @bob` open the form (prefilled); a declare with a title does not."""
    assert declare_form("declare") is not None
    form = declare_form("declare P1 <@UBOB|bob>")
    assert form is not None
    assert form.severity is Severity.P1
    assert form.commander is not None
    assert form.commander.user_id == "UBOB"
    assert declare_form("declare Checkout is down") is None
    assert declare_form("update something") is None
