"""The Discord surface: one interaction in, one interaction response out.

:meth:`DiscordApp.handle` takes a verified interaction (the route checked the signature) and
returns the body to answer with. PING gets PONG. Slash commands, buttons and form submissions go
through the neutral chat layer (:mod:`tocsin.chat.commands`), which runs the services; this module
only translates. Every answer is due within Discord's 3 seconds: work that has not finished
within ``budget`` seconds is answered with a deferred response (type 5, ephemeral) and its result
is queued through the outbox as an edit of ``@original`` (the interaction token lasts 15
minutes), so nothing slow happens inside the request and nothing acknowledged is forgotten.
Anything unexpected is logged and answered politely; only a malformed interaction raises
:class:`~tocsin.chat.payloads.Malformed` (HTTP 400; a late one is logged as a warning).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from typing import Any

import structlog

from tocsin.chat import texts
from tocsin.chat.commands import first_time, notify, perform
from tocsin.chat.messages import Reply
from tocsin.chat.payloads import Malformed
from tocsin.domain.effects import Effect
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor
from tocsin.observability.metrics import Metrics
from tocsin.platforms.discord.commands import COMMAND_NAMES, MESSAGE_COMMAND, command_from
from tocsin.platforms.discord.components import Components
from tocsin.platforms.discord.render import (
    AUTOCOMPLETE_RESULT,
    DEFERRED_MESSAGE,
    EPHEMERAL,
    MODAL,
    PONG,
    STYLE,
    private,
    private_data,
    reply_response,
)
from tocsin.services.context import Context

log = structlog.get_logger("tocsin.discord")

PLATFORM = "discord"
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
DEFAULT_BUDGET = 2.0  # seconds of Discord's 3 spent working before deferring
TOKEN_LIFETIME = timedelta(minutes=15)
READ_ONLY = frozenset({"list", "show", "alerts", "help"})

Response = dict[str, Any]


class BadRequest(Malformed):
    """What Discord sent cannot be understood (HTTP 400)."""


def actor_of(interaction: Mapping[str, Any]) -> Actor:
    """The person behind an interaction: ``member.user`` in a server, ``user`` in a DM."""
    member = interaction.get("member") or {}
    user = (member.get("user") if isinstance(member, Mapping) else None) or interaction.get("user")
    if not isinstance(user, Mapping) or not user.get("id"):
        raise BadRequest("no user in the interaction")
    name = member.get("nick") if isinstance(member, Mapping) else None
    name = name or user.get("global_name") or user.get("username") or ""
    return Actor(PLATFORM, str(user["id"]), str(name))


class DiscordApp:
    """Interactions, translated to and from the chat layer."""

    def __init__(
        self,
        ctx: Context,
        *,
        application_id: str = "",
        metrics: Metrics | None = None,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        self.ctx = ctx
        self.application_id = application_id
        self.metrics = metrics
        self.budget = budget
        self.components = Components(self)
        self._pending: set[asyncio.Task[None]] = set()

    async def handle(self, interaction: Mapping[str, Any]) -> Response:
        if not isinstance(interaction, Mapping):
            raise BadRequest("an interaction is a JSON object")
        kind = interaction.get("type")
        if kind == PING:
            return {"type": PONG}
        if kind == AUTOCOMPLETE:
            return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": []}}
        if kind not in (APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT):
            raise BadRequest(f"unknown interaction type {str(kind)[:40]!r}")
        if not interaction.get("id") or not isinstance(interaction.get("data"), Mapping):
            raise BadRequest("an interaction needs an id and data")
        actor = actor_of(interaction)
        if kind == APPLICATION_COMMAND:
            work = self._command(interaction, actor)
        elif kind == MESSAGE_COMPONENT:
            work = self.components.click(interaction, actor)
        else:
            work = self.components.submit(interaction, actor)
        return await self._within(self._safely(work, interaction), interaction)

    # --- the 3-second rule ---------------------------------------------------------------------
    async def _safely(self, work: Coroutine[Any, Any, Response], interaction: Any) -> Response:
        try:
            return await work
        except Malformed:
            raise  # the route answers 400
        except Exception:  # logged; Discord gets a polite answer, never a 500
            log.exception("interaction failed", kind=interaction.get("type"))
            return private(texts.failure(STYLE).text)

    async def _within(self, work: Coroutine[Any, Any, Response], interaction: Any) -> Response:
        task = asyncio.create_task(work)
        # A budget of 0 always defers (work that never waits for I/O could otherwise finish
        # within the same turn of the loop that asyncio.wait's timeout fires in).
        done = set() if self.budget <= 0 else (await asyncio.wait({task}, timeout=self.budget))[0]
        if task in done:
            return task.result()
        follow = asyncio.create_task(self._follow_up(task, interaction))
        self._pending.add(follow)
        follow.add_done_callback(self._pending.discard)
        log.info("interaction deferred", interaction=interaction.get("id"))
        return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}

    async def _follow_up(self, task: asyncio.Task[Response], interaction: Any) -> None:
        """Queue the late answer as an edit of the deferred message, through the outbox."""
        try:
            response = await task
        except Malformed as exc:  # too late for a 400: the deferred message stays as it is
            log.warning("malformed interaction", interaction=interaction["id"], error=str(exc))
            return
        data = dict(response.get("data") or {})
        if response.get("type") == MODAL:  # a form cannot open after a deferral
            data = private_data(texts.FORM_TOO_LATE)
        data.pop("flags", None)
        key = f"discord:interaction:{interaction['id']}"
        payload = {
            "application_id": str(interaction.get("application_id") or self.application_id),
            "token": str(interaction.get("token") or ""),
            "body": data,
            "expires_at": (self.ctx.clock() + TOKEN_LIFETIME).isoformat(),
        }
        effect = Effect(PLATFORM, "interaction_reply", payload, f"{key}:reply", ordering_key=key)
        try:
            await notify(self.ctx, [effect])
        except Exception:  # the database is away: the deferred message stays as it is
            log.exception("could not queue a deferred answer", interaction=interaction["id"])

    async def drain(self, within: float = 10.0) -> None:
        """Wait for deferred answers still being worked out (at shutdown, and in tests)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=within)

    # --- slash commands ------------------------------------------------------------------------
    async def first_time(self, interaction: Mapping[str, Any]) -> bool:
        """Record the interaction; False when it was handled before (a replay)."""
        return await first_time(self.ctx, f"discord:interaction:{interaction['id']}")

    async def _command(self, interaction: Mapping[str, Any], actor: Actor) -> Response:
        data = interaction["data"]
        if data.get("type") == MESSAGE_COMMAND:
            return await self.components.message_command(interaction, actor)
        name = str(data.get("name") or "")
        if name not in COMMAND_NAMES:
            return private(texts.unknown_command(name))
        started, prefix = time.perf_counter(), f"/{name} "
        try:
            command = command_from(data)
        except ParseError as exc:
            reply = Reply(texts.problem(exc, STYLE, prefix=prefix), outcome="error")
        else:
            if command.name == "help":
                reply = Reply(
                    texts.help_message(STYLE, prefix=prefix, topic=command.topic), command="help"
                )
            elif command.name not in READ_ONLY and not await self.first_time(interaction):
                return private(texts.REQUEST_ALREADY_HANDLED)
            else:
                channel = str(interaction.get("channel_id") or "")
                reply = await perform(
                    self.ctx, actor, command, STYLE, channel_id=channel, prefix=prefix
                )
        self.count(reply, started)
        return reply_response(reply)

    def count(self, reply: Reply, started: float) -> None:
        if self.metrics is not None:
            elapsed = time.perf_counter() - started
            self.metrics.command_done(PLATFORM, reply.command or "unknown", reply.outcome, elapsed)
