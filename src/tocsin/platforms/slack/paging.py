"""The Slack sender's paging kinds (planned by :mod:`tocsin.domain.paging`, see docs/oncall.md):

``page_dm``   open a direct message with the paged person (``conversations.open``, scope
              ``im:write``) and post the page with an **Acknowledge** button, the announcement's
              own button (``tocsin:ack``), so the interaction handler acknowledges as that person.
              A person on another platform, or one Slack does not know: skipped (the escalation
              goes on). Remote ids: ``channel``, ``ts``.
``remind``    a reminder in the incident channel: to the commander with a **Post update** button
              (the announcement's, which opens the update form), or a request for someone to take
              command. No incident channel yet: skipped.

A page is posted without looking for an earlier attempt's message first (that would need
``im:history`` to read the DM): an answer lost on the way back may page the person twice, which
beats not paging them. Reminders use the sender's usual once-only post.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tocsin.chat import notices
from tocsin.chat.messages import Message
from tocsin.delivery.base import Delivery, RemoteRefs, Sent, Skip
from tocsin.platforms.slack.blocks import STYLE, message_blocks
from tocsin.platforms.slack.webapi import SlackApi, SlackRefused

# Errors that mean Slack cannot reach this person by DM (the page is skipped, not retried).
UNREACHABLE = frozenset(
    {"user_not_found", "users_not_found", "user_not_visible", "user_disabled", "cannot_dm_bot"}
)

PostOnce = Callable[[Delivery, str, Message], Awaitable[str]]


def slack_user(person: Any) -> str:
    """The Slack user id of a paging payload's ``person``; Skip when they are not on Slack."""
    if not isinstance(person, Mapping):
        raise Skip("the page names nobody to send it to")
    platform = str(person.get("platform") or "")
    name = str(person.get("display_name") or person.get("user_id") or "someone")
    if platform != "slack":
        raise Skip(f"{name} is a {platform or 'unknown'} user, not a Slack one: not paged on Slack")
    user_id = str(person.get("user_id") or "")
    if not user_id:
        raise Skip(f"{name} has no Slack user id: not paged on Slack")
    return user_id


class SlackPaging:
    """``page_dm`` and ``remind`` for :class:`~tocsin.platforms.slack.sender.SlackSender`;
    ``post_once`` is the sender's post that does not repeat itself after a retry."""

    def __init__(self, api: SlackApi, post_once: PostOnce) -> None:
        self.api = api
        self.post_once = post_once

    async def page_dm(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs  # a DM does not depend on the incident's channels
        payload = delivery.payload
        user = slack_user(payload.get("person"))
        message = notices.page_message(payload, STYLE)
        try:
            opened = await self.api.call("conversations.open", users=user)
            channel = str(opened["channel"]["id"])
            blocks = message_blocks(message, key=delivery.idempotency_key)
            posted = await self.api.call(
                "chat.postMessage", channel=channel, text=message.text, blocks=blocks
            )
        except SlackRefused as exc:
            if exc.code in UNREACHABLE:
                raise Skip(f"Slack cannot send a direct message to {user}: {exc.code}") from None
            raise
        return Sent(remote_ids={"channel": channel, "ts": str(posted["ts"])})

    async def remind(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        channel = refs.get("channel")
        if not channel:
            raise Skip("the incident has no Slack channel to remind in (it was never created)")
        message = notices.reminder_message(delivery.payload, STYLE)
        ts = await self.post_once(delivery, channel, message)
        return Sent(remote_ids={"channel": channel, "ts": ts})
