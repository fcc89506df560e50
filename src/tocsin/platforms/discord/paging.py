"""The Discord sender's paging kinds (planned by :mod:`tocsin.domain.paging`, see docs/oncall.md):

``page_dm``   open a direct message with the paged person (``POST /users/@me/channels``) and post
              the page with an **Acknowledge** button, the announcement's own button
              (``tocsin:ack:<n>``), so the component handler acknowledges as that person. A
              person on another platform, one Discord does not know (404, 10013 Unknown User) or
              one who does not take messages from the bot (50007 Cannot send messages to this
              user): skipped, and the escalation goes on. Remote ids: ``channel``, ``message``.
``remind``    a reminder in the incident's space: to the commander (mentioned, so pinged) with a
              **Post update** button (the announcement's, which opens the update form), or a
              request for someone to take command. No incident space yet: skipped.

Messages carry the sender's nonce with ``enforce_nonce``, DMs included, so a retry after a lost
answer does not post twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tocsin.chat import notices
from tocsin.chat.messages import Message
from tocsin.delivery.base import Delivery, RemoteRefs, Sent, Skip
from tocsin.platforms.discord.ratelimit import DiscordRefused
from tocsin.platforms.discord.render import STYLE
from tocsin.platforms.discord.rest import DiscordRest

# JSON error codes meaning Discord cannot reach this person by DM (skipped, not retried):
# Unknown User, Cannot send messages to this user, Invalid recipient(s).
UNREACHABLE = frozenset({10013, 50007, 50033})

SendMessage = Callable[[str, Message, str], Awaitable[str]]


def discord_user(person: Any) -> str:
    """The Discord user id of a paging payload's ``person``; Skip when they are not on Discord."""
    if not isinstance(person, Mapping):
        raise Skip("the page names nobody to send it to")
    platform = str(person.get("platform") or "")
    name = str(person.get("display_name") or person.get("user_id") or "someone")
    if platform != "discord":
        raise Skip(f"{name} is a {platform or 'unknown'} user, not a Discord one: not paged here")
    user_id = str(person.get("user_id") or "")
    if not user_id.isdigit():
        raise Skip(f"{name} has no Discord user id: not paged on Discord")
    return user_id


class DiscordPaging:
    """``page_dm`` and ``remind`` for :class:`~tocsin.platforms.discord.sender.DiscordSender`;
    ``send_message(channel, message, key)`` is the sender's nonce-guarded post."""

    def __init__(self, rest: DiscordRest, send_message: SendMessage) -> None:
        self.rest = rest
        self.send_message = send_message

    async def page_dm(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs  # a DM does not depend on the incident's channels
        payload = delivery.payload
        user = discord_user(payload.get("person"))
        message = notices.page_message(payload, STYLE)
        try:
            dm = await self.rest.request("POST", "/users/@me/channels", json={"recipient_id": user})
            channel = str(dm["id"])
            message_id = await self.send_message(channel, message, delivery.idempotency_key)
        except DiscordRefused as exc:
            if exc.status == 404 or exc.code in UNREACHABLE:
                raise Skip(f"Discord cannot send a direct message to {user}: {exc}") from None
            raise
        return Sent(remote_ids={"channel": channel, "message": message_id})

    async def remind(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        channel = refs.get("channel")
        if not channel:
            raise Skip("the incident has no Discord channel to remind in (it was never created)")
        message = notices.reminder_message(delivery.payload, STYLE)
        message_id = await self.send_message(channel, message, delivery.idempotency_key)
        return Sent(remote_ids={"channel": channel, "message": message_id})
