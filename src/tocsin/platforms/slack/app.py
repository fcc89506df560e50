"""The Slack surface, independent of transport: HTTP routes and Socket Mode both call it.

Each ``handle_*`` method takes what Slack sent (a slash command's form fields, an interaction
payload, an Events API envelope) and returns the body to answer with, or None for an empty 200.
They never raise except :class:`~tocsin.chat.payloads.Malformed` (HTTP 400, a malformed shape):
anything unexpected is logged and answered politely, so Slack never sees a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from tocsin.chat import texts
from tocsin.chat.commands import Incoming, run_command
from tocsin.chat.messages import DeclareForm
from tocsin.chat.payloads import Malformed
from tocsin.domain.model import Actor
from tocsin.observability.metrics import Metrics
from tocsin.platforms.slack.blocks import STYLE, reply_body
from tocsin.platforms.slack.common import PLATFORM, BadRequest
from tocsin.platforms.slack.events import Events
from tocsin.platforms.slack.interactions import Interactions
from tocsin.platforms.slack.modals import declare_view
from tocsin.platforms.slack.webapi import SlackWeb
from tocsin.services.context import Context

log = structlog.get_logger("tocsin.slack")
ONCALL_COMMAND = "/oncall"  # its own slash command: the same as /incident oncall


class SlackApp:
    """Slash commands, interactions and events, translated to and from the chat layer."""

    def __init__(
        self,
        ctx: Context,
        *,
        web: SlackWeb | None = None,
        metrics: Metrics | None = None,
        bot_user_id: str = "",
    ) -> None:
        self.ctx = ctx
        self.web = web
        self.metrics = metrics
        self.bot_user_id = bot_user_id
        self.interactions = Interactions(self)
        self.events = Events(self)

    # --- entry points --------------------------------------------------------------------------
    async def handle_command(self, form: Mapping[str, str]) -> dict[str, Any] | None:
        if not form.get("command") or not form.get("user_id"):
            raise BadRequest("a slash command needs command and user_id")
        try:
            return await self._command(form)
        except Exception:  # logged; Slack gets a polite answer, never a 500
            log.exception("slash command failed", text=form.get("text", "")[:200])
            return {"response_type": "ephemeral", "text": texts.failure(STYLE).text}

    async def handle_interaction(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        if not isinstance(payload, Mapping) or not payload.get("type"):
            raise BadRequest("an interaction payload needs a type")
        try:
            return await self.interactions.handle(payload)
        except Malformed:
            raise
        except Exception:  # logged; an empty 200 closes a modal quietly
            log.exception("interaction failed", kind=payload.get("type"))
            return None

    async def handle_event(
        self, envelope: Mapping[str, Any], *, retry_num: int | None = None
    ) -> dict[str, Any] | None:
        if not isinstance(envelope, Mapping) or not envelope.get("type"):
            raise BadRequest("an Events API body needs a type")
        try:
            return await self.events.handle(envelope, retry_num=retry_num)
        except Malformed:
            raise
        except Exception:  # logged; answering 200 stops Slack's redelivery
            log.exception("event failed", event_id=envelope.get("event_id"))
            return None

    # --- slash commands ------------------------------------------------------------------------
    async def _command(self, form: Mapping[str, str]) -> dict[str, Any] | None:
        actor = Actor(PLATFORM, form["user_id"], form.get("user_name", ""))
        text, prefix = form.get("text", ""), f"{form['command']} "
        if form["command"] == ONCALL_COMMAND:
            text, prefix = f"oncall {text}".strip(), "/incident "
        incoming = Incoming(
            PLATFORM,
            actor,
            text,
            channel_id=form.get("channel_id", ""),
            prefix=prefix,
            can_open_form=self.web is not None and bool(form.get("trigger_id")),
        )
        reply = await run_command(self.ctx, incoming, STYLE, self.metrics)
        if reply.form is not None:
            return await self.open_declare(
                form.get("trigger_id", ""), reply.form, form.get("channel_id", "")
            )
        return reply_body(reply)

    async def open_declare(
        self, trigger_id: str, form: DeclareForm, channel_id: str
    ) -> dict[str, Any] | None:
        """Open the declare modal inline (the trigger expires in 3 s); say so if it failed."""
        problem = texts.not_configured("Slack")
        if self.web is not None and trigger_id:
            view = declare_view(form, self.ctx.policy.default_severity, channel_id=channel_id)
            found = await self.web.open_view(trigger_id, view)
            if found is None:
                return None
            problem = found
        log.warning("declare form not opened", reason=problem)
        return {"response_type": "ephemeral", "text": texts.declare_form_failed(STYLE)}
