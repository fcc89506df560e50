"""Slack markup and Block Kit: render neutral chat messages and replies, never decide anything.

:class:`SlackStyle` is Slack's :class:`~tocsin.chat.messages.Style` (mrkdwn). The first block of
every message tocsin posts carries ``block_id = "tocsin:<idempotency key>"``, so a delivery that
may already have been sent can be found again in ``conversations.history`` before it is re-sent.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from tocsin.chat import texts
from tocsin.chat.messages import Button, Message, Person, Reply

ACTION_PREFIX = "tocsin:"  # action_id of our buttons: "tocsin:join", "tocsin:resolve", ...
MARKER_PREFIX = "tocsin:"
MAX_SECTION = 3000
MAX_TEXT = 39000
_FIELD_MAX = 2000
_LINK_RE = re.compile(r"<(?:[@#!][^>|]*\|([^>]*)|([@#][^>|]*)|(https?://[^>|]*)(?:\|([^>]*))?)>")


class SlackStyle:
    """mrkdwn: ``<@U123>`` mentions, ``*bold*``, ``&lt;`` escapes."""

    platform = "slack"

    def mention(self, person: Person | None) -> str:
        if not person:
            return "nobody"
        if person.get("platform") == "slack" and person.get("user_id"):
            return f"<@{person['user_id']}>"
        return self.escape(str(person.get("display_name") or person.get("user_id") or "someone"))

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def bold(self, text: str) -> str:
        return f"*{text}*"

    def code(self, text: str) -> str:
        return f"`{text}`"

    def link(self, url: str, label: str) -> str:
        return f"<{url}|{self.escape(label)}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"


STYLE = SlackStyle()


def plain(mrkdwn: str) -> str:
    """Slack message text as plain text for the timeline: ``<@U1>`` -> ``@U1``, links unwrapped,
    entities decoded."""

    def swap(match: re.Match[str]) -> str:
        label, ref, url, url_label = match.groups()
        if label is not None:
            return label
        if ref is not None:
            return ref
        return f"{url_label} ({url})" if url_label else str(url)

    text = _LINK_RE.sub(swap, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def marker(key: str) -> str:
    """The block_id that tags a message with its delivery's idempotency key (at most 255)."""
    if len(key) > 200:
        key = hashlib.sha256(key.encode()).hexdigest()
    return MARKER_PREFIX + key


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, MAX_SECTION)}


def _button(msg_button: Button) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": ACTION_PREFIX + msg_button.action,
        "text": {"type": "plain_text", "text": msg_button.label},
        "value": msg_button.value,
    }
    if msg_button.style:
        button["style"] = msg_button.style
    if msg_button.confirm:
        button["confirm"] = {
            "title": {"type": "plain_text", "text": texts.ARE_YOU_SURE},
            "text": {"type": "plain_text", "text": msg_button.confirm},
            "confirm": {"type": "plain_text", "text": msg_button.label},
            "deny": {"type": "plain_text", "text": texts.CANCEL},
        }
    return button


def message_blocks(message: Message, *, key: str = "") -> list[dict[str, Any]]:
    """Block Kit for ``message``; the first block is tagged with ``key`` when one is given."""
    blocks: list[dict[str, Any]] = []
    head = f"*{message.title}*" if message.title else ""
    first = "\n\n".join(part for part in (head, message.body) if part) or message.text
    blocks.append({"type": "section", "text": _text(first)})
    if message.fields:
        fields = [_text(f"*{f.label}*\n{_cut(f.value, _FIELD_MAX)}") for f in message.fields[:10]]
        blocks.append({"type": "section", "fields": fields})
    if message.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "tocsin_actions",
                "elements": [_button(b) for b in message.buttons[:25]],
            }
        )
    if message.footer:
        blocks.append({"type": "context", "elements": [_text(message.footer)]})
    if key:
        blocks[0]["block_id"] = marker(key)
    return blocks


def has_marker(message: dict[str, Any], key: str) -> bool:
    """Does a message from ``conversations.history`` carry ``key``'s marker?"""
    wanted = marker(key)
    return any(block.get("block_id") == wanted for block in message.get("blocks") or [])


def reply_body(reply: Reply) -> dict[str, Any]:
    """The HTTP body answering a slash command: in the channel, or ephemeral."""
    text = reply.message.text
    if reply.document:
        room = MAX_TEXT - len(text) - 10
        text += "\n```\n" + _cut(STYLE.escape(reply.document), room) + "\n```"
    body: dict[str, Any] = {
        "response_type": "in_channel" if reply.public else "ephemeral",
        "text": _cut(text, MAX_TEXT),
    }
    if reply.message.buttons or reply.message.fields:
        body["blocks"] = message_blocks(reply.message)
    return body
