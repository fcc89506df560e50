"""Slack interactivity: announcement buttons, modal submissions and shortcuts.

Buttons run the same commands as ``/incident join|ack|resolve INC-n``; the caller's answer
(including a polite refusal) goes back as an ephemeral message queued through the outbox.
"Post update" opens a modal. Submissions are validated here and answered inline with
``response_action: errors``; a double submission is recorded once and creates one incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tocsin.chat import texts
from tocsin.chat.alerts import ACTIONS as ALERT_ACTIONS
from tocsin.chat.alerts import alert_action
from tocsin.chat.commands import first_time, notify, perform, preview
from tocsin.chat.messages import ACK, JOIN, RESOLVE, DeclareForm
from tocsin.chat.payloads import identifier, items, obj, string
from tocsin.domain.commands import MAX_TEXT, Command
from tocsin.domain.effects import Effect
from tocsin.domain.errors import DomainError
from tocsin.domain.model import Actor, incident_ref
from tocsin.domain.references import parse_incident_ref
from tocsin.platforms.slack.blocks import ACTION_PREFIX, STYLE, plain
from tocsin.platforms.slack.common import PLATFORM, actor_of
from tocsin.platforms.slack.modals import (
    DECLARE,
    UPDATE,
    metadata,
    read_declare,
    read_update,
    submission_key,
    update_view,
)
from tocsin.services.declare import declare

if TYPE_CHECKING:
    from tocsin.platforms.slack.app import SlackApp

SHORTCUT_DECLARE = "tocsin_declare"  # global shortcut: open the declare form
SHORTCUT_NOTE = "tocsin_note"  # message shortcut: add the message to the incident's timeline
_BUTTON_COMMANDS = {JOIN: "join", ACK: "ack", RESOLVE: "resolve"}

Payload = Mapping[str, Any]


def _channel_of(payload: Payload) -> str:
    return string(obj(payload, "channel"), "id") or string(obj(payload, "container"), "channel_id")


def _errors(errors: dict[str, str]) -> dict[str, Any]:
    return {"response_action": "errors", "errors": errors}


class Interactions:
    def __init__(self, app: SlackApp) -> None:
        self.app = app
        self.ctx = app.ctx

    async def handle(self, payload: Payload) -> dict[str, Any] | None:
        kind = payload.get("type")
        if kind == "block_actions":
            await self._actions(payload)
        elif kind == "view_submission":
            return await self._submission(payload)
        elif kind == "shortcut" and payload.get("callback_id") == SHORTCUT_DECLARE:
            await self.app.open_declare(str(payload.get("trigger_id") or ""), DeclareForm(), "")
        elif kind == "message_action" and payload.get("callback_id") == SHORTCUT_NOTE:
            await self._note_from_message(payload)
        return None  # view_closed, other apps' callbacks: nothing to do

    async def tell(self, payload: Payload, actor: Actor, text: str, tag: str) -> None:
        """An ephemeral answer to the person who clicked, in the channel they clicked in."""
        stamp = str(payload.get("trigger_id") or payload.get("action_ts") or "")
        await self.tell_in(_channel_of(payload), actor, text, f"{tag}:{stamp}")

    async def tell_in(self, channel: str, actor: Actor, text: str, tag: str) -> None:
        """An ephemeral message for ``actor`` in ``channel``, queued through the outbox."""
        if not channel:
            return
        key = f"slack:ephemeral:{actor.user_id}:{tag}"[:200]
        effect = Effect(
            PLATFORM,
            "ephemeral",
            {"channel": channel, "user": actor.user_id, "text": text},
            key,
            ordering_key=f"slack:ephemeral:{actor.user_id}",
        )
        await notify(self.ctx, [effect])

    # --- buttons ---------------------------------------------------------------------------
    async def _actions(self, payload: Payload) -> None:
        actor = actor_of(payload.get("user"))
        _channel_of(payload)  # a malformed channel is refused before a button changes anything
        for action in items(payload, "actions"):
            action_id = str(action.get("action_id") or "")
            if not action_id.startswith(ACTION_PREFIX):
                continue  # not one of ours
            name = action_id.removeprefix(ACTION_PREFIX)
            if name in ALERT_ACTIONS:  # an alert group's buttons: a proposal's, a page's
                group = identifier(action.get("value"), "actions[].value")
                text = await alert_action(self.ctx, actor, name, group, STYLE)
                await self.tell(payload, actor, text, name)
                continue
            number = parse_incident_ref(str(action.get("value")))
            if number is None:
                continue
            if name == "update":
                await self._open_update(payload, actor, number)
            elif name in _BUTTON_COMMANDS:
                command = Command(_BUTTON_COMMANDS[name], incident=number)
                reply = await perform(self.ctx, actor, command, STYLE)
                await self.tell(payload, actor, reply.message.text, name)

    async def _open_update(self, payload: Payload, actor: Actor, number: int) -> None:
        try:
            decision = await preview(self.ctx, actor, "update", number)
        except DomainError as exc:
            await self.tell(payload, actor, texts.problem(exc, STYLE).text, "update")
            return
        if not decision.allowed:
            await self.tell(payload, actor, texts.denied(decision.reason, STYLE).text, "update")
            return
        problem = texts.not_configured("Slack")
        if self.app.web is not None:
            view = update_view(number, incident_ref(number))
            found = await self.app.web.open_view(str(payload.get("trigger_id") or ""), view)
            if found is None:
                return
            problem = found
        text = texts.update_form_failed(problem, incident_ref(number), STYLE)
        await self.tell(payload, actor, text, "update")

    # --- modals ----------------------------------------------------------------------------
    async def _submission(self, payload: Payload) -> dict[str, Any] | None:
        view = obj(payload, "view")
        callback = view.get("callback_id")
        if callback == DECLARE:
            return await self._declare(payload, view)
        if callback == UPDATE:
            return await self._update(payload, view)
        return None

    async def _declare(self, payload: Payload, view: Payload) -> dict[str, Any] | None:
        found = read_declare(view)
        if isinstance(found, dict):
            return _errors(found)
        actor = actor_of(payload.get("user"))
        channel = str(metadata(view).get("channel") or "")  # read (and checked) before any change
        if not await first_time(self.ctx, submission_key(view)):
            return None  # the same submission again: it was declared once already
        try:
            outcome = await declare(self.ctx, actor, found.command(), description=found.description)
        except DomainError as exc:
            return _errors({"title": exc.message})
        if channel:
            text = texts.answer(outcome.message, STYLE).text
            await self.tell_in(channel, actor, text, f"declared:{view.get('id')}")
        return None

    async def _update(self, payload: Payload, view: Payload) -> dict[str, Any] | None:
        found = read_update(view)
        if isinstance(found, dict):
            return _errors(found)
        number, text = found
        actor = actor_of(payload.get("user"))
        if not await first_time(self.ctx, submission_key(view)):
            return None
        reply = await perform(self.ctx, actor, Command("update", incident=number, text=text), STYLE)
        if reply.outcome != "allowed":
            return _errors({"text": plain(reply.message.text)})
        return None

    # --- shortcuts -------------------------------------------------------------------------
    async def _note_from_message(self, payload: Payload) -> None:
        actor = actor_of(payload.get("user"))
        message = obj(payload, "message")
        author = message.get("user")
        said = plain(str(message.get("text") or ""))
        note = texts.pinned_note(said, f"@{author}" if author else "")[:MAX_TEXT]
        reply = await perform(
            self.ctx, actor, Command("note", text=note), STYLE, channel_id=_channel_of(payload)
        )
        await self.tell(payload, actor, reply.message.text, "note")
