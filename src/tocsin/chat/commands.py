"""Incoming chat commands, the same for every platform.

An adapter verifies and translates a request into an :class:`Incoming` and renders the
:class:`~tocsin.chat.messages.Reply` it gets back. In between, this module parses the text with
the one command language, finds the incident implied by the channel, runs the command through
:func:`tocsin.services.dispatch.execute` and turns every outcome and every domain error into a
reply. Nothing here knows Slack or Discord.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tocsin.chat import texts
from tocsin.chat.messages import DeclareForm, Message, Reply, Style
from tocsin.domain.commands import Command, parse
from tocsin.domain.effects import Effect
from tocsin.domain.errors import DomainError, ParseError, PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.permissions import GLOBAL_COMMANDS, Decision, decide
from tocsin.observability.metrics import Metrics
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.pipeline import load
from tocsin.storage.incidents import ConcurrentUpdate

_PROBE = "tocsinformprobe"  # a title word that is neither a severity nor a mention


@dataclass(frozen=True, slots=True)
class Incoming:
    """A command typed in chat. ``prefix`` is how the platform writes the command (for usage
    lines); ``can_open_form`` says whether the platform can open a declare form right now."""

    platform: str
    actor: Actor
    text: str
    channel_id: str = ""
    prefix: str = "/incident "
    can_open_form: bool = False


def declare_form(text: str) -> DeclareForm | None:
    """``declare`` with no title (maybe a severity and a commander): the form, prefilled."""
    words = text.split(maxsplit=1)
    if not words or words[0].lower() != "declare":
        return None
    rest = words[1] if len(words) > 1 else ""
    try:
        probe = parse(f"declare {_PROBE} {rest}")
    except ParseError:
        return None
    if probe.text != _PROBE:
        return None
    return DeclareForm(severity=probe.severity, commander=probe.person)


async def run_command(
    ctx: Context, incoming: Incoming, style: Style, metrics: Metrics | None = None
) -> Reply:
    """Parse and run ``incoming``; every domain error becomes a reply, never an exception."""
    started = time.perf_counter()
    reply = await _run(ctx, incoming, style)
    if metrics is not None:
        name = reply.command or "unknown"
        elapsed = time.perf_counter() - started
        metrics.command_done(incoming.platform, name, reply.outcome, elapsed)
    return reply


async def _run(ctx: Context, incoming: Incoming, style: Style) -> Reply:
    try:
        command = parse(incoming.text)
    except ParseError as exc:
        form = declare_form(incoming.text)
        if form is not None and incoming.can_open_form:
            return Reply(Message(texts.OPENING_DECLARE_FORM), form=form, command="declare")
        return Reply(texts.problem(exc, style, prefix=incoming.prefix), outcome="error")
    if command.name == "help":
        message = texts.help_message(style, prefix=incoming.prefix, topic=command.topic)
        return Reply(message, command="help")
    return await perform(
        ctx, incoming.actor, command, style, channel_id=incoming.channel_id, prefix=incoming.prefix
    )


async def perform(
    ctx: Context,
    actor: Actor,
    command: Command,
    style: Style,
    *,
    channel_id: str = "",
    prefix: str = "/incident ",
) -> Reply:
    """Run a parsed command (typed, or from a button or a form) and phrase the result."""
    implied = None
    if command.incident is None and command.name not in GLOBAL_COMMANDS and channel_id:
        implied = await channel_incident(ctx, actor.platform, channel_id)
    try:
        outcome = await execute(ctx, actor, command, channel_incident=implied)
    except PermissionDenied as exc:
        return Reply(texts.denied(exc.message, style), command=command.name, outcome="denied")
    except DomainError as exc:
        message = texts.problem(exc, style, prefix=prefix)
        return Reply(message, command=command.name, outcome="error")
    except ConcurrentUpdate:
        return Reply(texts.busy(), command=command.name, outcome="error")
    return Reply(
        texts.answer(outcome.message, style),
        public=outcome.public,
        document=outcome.document,
        command=command.name,
    )


async def channel_incident(ctx: Context, platform: str, channel_id: str) -> int | None:
    """The incident whose channel on ``platform`` is ``channel_id``, if any."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.refs.incident_for_channel(platform, channel_id)


async def preview(ctx: Context, actor: Actor, command: str, number: int) -> Decision:
    """Would ``actor`` be allowed ``command`` on ``number``? (Before opening a form for it;
    the command itself decides again, and audits, when it runs.)"""
    async with ctx.uow(read_only=True) as uow:
        incident = await load(uow, number)
    return decide(ctx.policy, command, actor, incident)


async def first_time(ctx: Context, key: str) -> bool:
    """Record ``key`` (an event id, a form submission); True only the first time it is seen."""
    async with ctx.uow() as uow:
        fresh = await uow.dedup.first_time(key[:200], ctx.clock())
        await uow.commit()
    return fresh


async def notify(ctx: Context, effects: list[Effect]) -> None:
    """Queue messages for one person (a button's answer) through the outbox."""
    async with ctx.uow() as uow:
        await uow.outbox.add(effects, ctx.clock())
        await uow.commit()
    ctx.committed()
