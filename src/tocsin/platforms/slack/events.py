"""Slack Events API: pins and 📌 reactions become timeline notes; joining the channel makes a
participant.

Every event is deduplicated on its ``event_id`` before anything changes, so Slack's redeliveries
(``X-Slack-Retry-Num``) create nothing new; a message both pinned and given a 📌 becomes one note.
The bot's own events are ignored. A ``reaction_added`` event does not carry the message text:
it is read with one ``conversations.history`` call made inline with a 2-second timeout; if that
fails the note still records the reaction and the message's timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from tocsin.chat import texts
from tocsin.chat.commands import first_time, perform
from tocsin.chat.payloads import items, obj
from tocsin.domain.commands import MAX_TEXT, Command
from tocsin.domain.model import Actor
from tocsin.platforms.slack.blocks import STYLE, plain
from tocsin.platforms.slack.common import PLATFORM
from tocsin.services.queries import channel_incident

if TYPE_CHECKING:
    from tocsin.platforms.slack.app import SlackApp

log = structlog.get_logger("tocsin.slack")

PIN_REACTIONS = frozenset({"pushpin", "round_pushpin"})
EVENTS = ("pin_added", "reaction_added", "member_joined_channel")


class Events:
    def __init__(self, app: SlackApp) -> None:
        self.app = app
        self.ctx = app.ctx

    async def handle(
        self, envelope: Mapping[str, Any], *, retry_num: int | None = None
    ) -> dict[str, Any] | None:
        kind = envelope.get("type")
        if kind == "url_verification":
            return {"challenge": str(envelope.get("challenge") or "")}
        if kind != "event_callback":
            return None
        event = envelope.get("event") or {}
        if not isinstance(event, Mapping) or not self._wanted(event) or self._ours(envelope, event):
            return None
        channel, ts, message = _where(event)
        user = str(event.get("user") or "")
        if not channel or not user:
            return None
        number = await channel_incident(self.ctx, PLATFORM, channel)
        if number is None:
            return None  # not an incident channel: nothing to record
        event_id = str(envelope.get("event_id") or "")
        if event_id and not await first_time(self.ctx, f"slack:event:{event_id}"):
            log.info("duplicate Slack event ignored", event_id=event_id, retry=retry_num)
            return None
        if event["type"] == "member_joined_channel":
            await self._joined(number, user)
        else:
            await self._note(number, user, channel, ts, message)
        return None

    @staticmethod
    def _wanted(event: Mapping[str, Any]) -> bool:
        kind = event.get("type")
        if kind == "reaction_added":
            item = obj(event, "item")
            reaction = str(event.get("reaction") or "")
            return reaction in PIN_REACTIONS and item.get("type") == "message"
        return kind in ("pin_added", "member_joined_channel")

    def _ours(self, envelope: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
        """Made by tocsin's own bot user (it joins the channels it creates, pins its summary)."""
        if event.get("bot_id"):
            return True
        bots = {str(a.get("user_id")) for a in items(envelope, "authorizations") if a.get("is_bot")}
        if self.app.bot_user_id:
            bots.add(self.app.bot_user_id)
        return str(event.get("user") or "") in bots

    async def _joined(self, number: int, user: str) -> None:
        command = Command("join", incident=number)
        reply = await perform(self.ctx, Actor(PLATFORM, user), command, STYLE)
        log.info("Slack member joined", incident=number, user=user, outcome=reply.outcome)

    async def _note(
        self, number: int, user: str, channel: str, ts: str, message: Mapping[str, Any] | None
    ) -> None:
        if not ts or not await first_time(self.ctx, f"slack:pin:{channel}:{ts}"):
            return  # pinned and 📌-ed: one note
        if message is None and self.app.web is not None:
            message = await self.app.web.message(channel, ts)
        if message is None:
            text = f"(the message at {ts} could not be read)"
            author = ""
        else:
            text = plain(str(message.get("text") or ""))
            author = f"@{message['user']}" if message.get("user") else ""
        note = texts.pinned_note(text, author)[:MAX_TEXT]
        command = Command("note", incident=number, text=note)
        reply = await perform(self.ctx, Actor(PLATFORM, user), command, STYLE)
        log.info("Slack pin noted", incident=number, outcome=reply.outcome)


def _where(event: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any] | None]:
    """The channel, message ts and (when the event carries it) message an event is about."""
    found_item = event.get("item")
    item: Mapping[str, Any] = found_item if isinstance(found_item, Mapping) else {}
    if event.get("type") == "member_joined_channel":
        return str(event.get("channel") or ""), "", None
    if event.get("type") == "pin_added":
        found = item.get("message")
        message = found if isinstance(found, Mapping) else None
        ts = str((message or {}).get("ts") or item.get("ts") or "")
        return str(event.get("channel_id") or item.get("channel") or ""), ts, message
    return str(item.get("channel") or ""), str(item.get("ts") or ""), None
