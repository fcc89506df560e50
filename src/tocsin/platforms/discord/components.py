"""Discord buttons, forms and message commands.

The announcement's buttons run the same commands as ``/incident join|ack|resolve INC-n`` and
answer the person who clicked only (ephemeral), refusals included. Resolve asks first (Discord
buttons have no confirmation dialog, so the question is an ephemeral message with its own
button); someone who may not resolve is refused at once, and the refusal is audited like any
other. "Post update" opens a form. The message commands "Declare incident" (a form prefilled from
the message) and "Add to timeline" (a note) work on any message. A repeated interaction (a
double submission, a replay) is recorded once and does nothing the second time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tocsin.chat import notices, texts
from tocsin.chat.alerts import ACTIONS as ALERT_ACTIONS
from tocsin.chat.alerts import alert_action
from tocsin.chat.commands import perform, preview
from tocsin.chat.messages import ACK, JOIN, RESOLVE, Reply
from tocsin.chat.payloads import identifier, obj
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Command
from tocsin.domain.errors import DomainError, PermissionDenied
from tocsin.domain.model import Actor, incident_ref
from tocsin.domain.references import parse_incident_ref
from tocsin.platforms.discord.commands import (
    DECLARE_FROM_MESSAGE,
    NOTE_FROM_MESSAGE,
    display_name,
)
from tocsin.platforms.discord.forms import (
    DECLARE,
    UPDATE,
    declare_modal,
    read_declare,
    read_update,
    update_modal,
)
from tocsin.platforms.discord.render import (
    ASK,
    EPHEMERAL,
    MESSAGE,
    STYLE,
    UPDATE_MESSAGE,
    YES,
    custom_id,
    message_body,
    parse_custom_id,
    private,
    reply_response,
)
from tocsin.services.declare import declare

if TYPE_CHECKING:
    from tocsin.platforms.discord.app import DiscordApp

BUTTON_COMMANDS = {JOIN: "join", ACK: "ack", RESOLVE: "resolve"}
CANCEL = "cancel"
ALREADY = texts.ALREADY_HANDLED
Response = dict[str, Any]


def _confirm(action: str, number: int, question: str, label: str) -> Response:
    """An ephemeral question with a button that does it and one that does not."""
    return {
        "type": MESSAGE,
        "data": {
            "content": question,
            "flags": EPHEMERAL,
            "allowed_mentions": {"parse": []},
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 2,
                            "style": 4,
                            "label": label,
                            "custom_id": custom_id(action, str(number), YES),
                        },
                        {
                            "type": 2,
                            "style": 2,
                            "label": texts.CANCEL,
                            "custom_id": custom_id(CANCEL, str(number)),
                        },
                    ],
                }
            ],
        },
    }


def _replace_message(reply: Reply) -> Response:
    """Turn the ephemeral question into the answer (and drop its buttons)."""
    data = message_body(reply.message)
    data["components"] = []
    return {"type": UPDATE_MESSAGE, "data": data}


class Components:
    def __init__(self, app: DiscordApp) -> None:
        self.app = app
        self.ctx = app.ctx

    # --- buttons -----------------------------------------------------------------------------
    async def click(self, interaction: Mapping[str, Any], actor: Actor) -> Response:
        parsed = parse_custom_id(str(interaction["data"].get("custom_id") or ""))
        if parsed is None:
            return private(texts.BUTTON_NOT_OURS)
        action, value, suffix = parsed
        if action in ALERT_ACTIONS:  # an alert group's buttons: a proposal's, a page's
            group = identifier(value, "data.custom_id")
            return await self._alert(interaction, actor, action, group, suffix)
        number = parse_incident_ref(value)
        if number is None:
            return private(texts.BUTTON_LOST_INCIDENT)
        if action == CANCEL:
            return {
                "type": UPDATE_MESSAGE,
                "data": {"content": texts.NOTHING_CHANGED, "components": []},
            }
        if action == UPDATE:
            return await self._open_update(actor, number)
        if action not in BUTTON_COMMANDS:
            return private(texts.BUTTON_TOO_OLD)
        command = Command(BUTTON_COMMANDS[action], incident=number)
        if suffix == ASK:
            return await self._ask(actor, command, action)
        if not await self.app.first_time(interaction):
            return private(ALREADY)
        started = time.perf_counter()
        reply = await perform(self.ctx, actor, command, STYLE)
        self.app.count(reply, started)
        if suffix == YES:
            return _replace_message(reply)
        return reply_response(replace(reply, public=False))

    async def _ask(self, actor: Actor, command: Command, action: str) -> Response:
        """Confirm first, unless the answer is no anyway: then refuse (and audit) at once."""
        assert command.incident is not None
        try:
            decision = await preview(self.ctx, actor, command.name, command.incident)
        except DomainError as exc:
            return private(texts.problem(exc, STYLE).text)
        if decision.allowed:
            ref, verb = incident_ref(command.incident), command.name.capitalize()
            question = texts.confirm_question(verb, ref)
            return _confirm(action, command.incident, question, f"{verb} {ref}")
        reply = await perform(self.ctx, actor, command, STYLE)
        return reply_response(replace(reply, public=False))

    async def _alert(
        self, interaction: Mapping[str, Any], actor: Actor, action: str, group: int, suffix: str
    ) -> Response:
        """A proposed alert group's button (docs/alerts.md): Declare asks first; each runs the
        same service call as Slack's and answers the person who pressed it only."""
        if suffix == ASK:
            return _confirm(
                action, group, notices.ALERT_DECLARE_QUESTION, notices.ALERT_DECLARE_LABEL
            )
        if not await self.app.first_time(interaction):
            return private(ALREADY)
        text = await alert_action(self.ctx, actor, action, group, STYLE)
        if suffix == YES:
            return {"type": UPDATE_MESSAGE, "data": {"content": text, "components": []}}
        return private(text)

    async def _open_update(self, actor: Actor, number: int) -> Response:
        try:
            decision = await preview(self.ctx, actor, "update", number)
        except DomainError as exc:
            return private(texts.problem(exc, STYLE).text)
        if not decision.allowed:
            return private(texts.denied(decision.reason, STYLE).text)
        return update_modal(number, incident_ref(number))

    # --- forms -------------------------------------------------------------------------------
    async def submit(self, interaction: Mapping[str, Any], actor: Actor) -> Response:
        data = interaction["data"]
        parsed = parse_custom_id(str(data.get("custom_id") or ""))
        if parsed is not None and parsed[0] == DECLARE:
            return await self._declare(interaction, actor, data)
        number = parse_incident_ref(parsed[1]) if parsed is not None else None
        if parsed is not None and parsed[0] == UPDATE and number is not None:
            text = read_update(data)
            if not text:
                return private(f"⚠️ {texts.WRITE_UPDATE_FIRST}")
            if not await self.app.first_time(interaction):
                return private(ALREADY)
            command = Command("update", incident=number, text=text[:MAX_TEXT])
            return reply_response(await perform(self.ctx, actor, command, STYLE))
        return private(texts.FORM_NOT_OURS)

    async def _declare(
        self, interaction: Mapping[str, Any], actor: Actor, data: Mapping[str, Any]
    ) -> Response:
        resolved = obj(data, "resolved")
        names = {str(uid): display_name(str(uid), resolved) for uid in obj(resolved, "users")}
        found = read_declare(data, names)
        if isinstance(found, list):
            return private(texts.declare_refused(found))
        if not await self.app.first_time(interaction):
            return private(ALREADY)
        try:
            outcome = await declare(self.ctx, actor, found.command(), description=found.description)
        except PermissionDenied as exc:
            return private(texts.denied(exc.message, STYLE).text)
        except DomainError as exc:
            return private(texts.problem(exc, STYLE).text)
        reply = Reply(texts.answer(outcome.message, STYLE), public=True, command="declare")
        return reply_response(reply)

    # --- message commands --------------------------------------------------------------------
    async def message_command(self, interaction: Mapping[str, Any], actor: Actor) -> Response:
        data = interaction["data"]
        name = str(data.get("name") or "")
        message = obj(obj(obj(data, "resolved"), "messages"), str(data.get("target_id") or ""))
        content = str(message.get("content") or "")
        if name == DECLARE_FROM_MESSAGE:
            first_line = content.strip().splitlines()[0] if content.strip() else ""
            return declare_modal(
                self.ctx.policy.default_severity,
                title=first_line[:MAX_TITLE],
                description=content[:MAX_TEXT],
            )
        if name != NOTE_FROM_MESSAGE:
            return private(texts.unknown_command(name))
        if not await self.app.first_time(interaction):
            return private(ALREADY)
        author = obj(message, "author").get("username")
        note = texts.pinned_note(content, f"@{author}" if author else "")[:MAX_TEXT]
        channel = str(interaction.get("channel_id") or "")
        reply = await perform(
            self.ctx, actor, Command("note", text=note), STYLE, channel_id=channel
        )
        return reply_response(replace(reply, public=False))
