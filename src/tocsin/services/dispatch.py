"""Run a parsed command as an actor: the single entry point for chat, the CLI and the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tocsin.domain.command_forms import POLICY, PRIVATE, PUBLIC
from tocsin.domain.commands import SUBCOMMANDS, Command, help_text
from tocsin.domain.errors import ParseError, PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.oncall import local
from tocsin.domain.permissions import OVERRIDE, decide
from tocsin.services.context import Context, Outcome
from tocsin.services.declare import declare
from tocsin.services.incident_commands import (
    ack,
    action,
    join,
    note,
    reopen,
    resolve,
    roles,
    severity,
    status,
    update,
)
from tocsin.services.maintenance_commands import maintenance
from tocsin.services.oncall import OVERRIDE_COMMAND, add_override, find_schedule, oncall_outcome
from tocsin.services.people import person_from
from tocsin.services.pipeline import deny
from tocsin.services.postmortem import postmortem
from tocsin.services.public_summary import summary
from tocsin.services.queries import firing_alert_groups, list_incidents, show
from tocsin.services.visibility import set_components, set_visibility

Handler = Callable[[Context, Actor, int, Command], Awaitable[Outcome]]
_PUBLIC = {PUBLIC: True, PRIVATE: False, POLICY: None}  # None: follow the severity policy

# Subcommands that act on one incident, by name.
ON_INCIDENT: dict[str, Handler] = {
    "update": update,
    "note": note,
    "severity": severity,
    "status": status,
    "commander": roles,
    "role": roles,
    "join": join,
    "ack": ack,
    "action": action,
    "resolve": resolve,
    "reopen": reopen,
    "postmortem": lambda ctx, actor, number, _cmd: postmortem(ctx, actor, number),
    "show": lambda ctx, actor, number, _cmd: show(ctx, actor, number),
    "summary": summary,
    "visibility": lambda ctx, actor, number, cmd: _visibility(ctx, actor, number, cmd),
    "components": lambda ctx, actor, number, cmd: set_components(
        ctx, actor, number, cmd.components
    ),
}


async def execute(
    ctx: Context, actor: Actor, command: Command, *, channel_incident: int | None = None
) -> Outcome:
    """Run ``command``. Inside an incident's channel, ``channel_incident`` is the implied incident.

    Raises :class:`~tocsin.domain.errors.DomainError` subclasses with messages fit for the user.
    """
    if command.name == "help":
        return Outcome(help_text(command.topic))
    if command.name == "declare":
        return await declare(ctx, actor, command)
    if command.name == "list":
        return await list_incidents(ctx, actor, scope=command.scope)
    if command.name == "maintenance":
        return await maintenance(ctx, actor, command)
    if command.name == "oncall" and command.person is not None:
        return await _override(ctx, actor, command)
    if command.name in ("oncall", "alerts"):  # reads: nothing to audit, a policy may restrict
        decision = decide(ctx.policy, command.name, actor, None)
        if not decision.allowed:
            raise PermissionDenied(decision.reason)
        return await (oncall_outcome(ctx) if command.name == "oncall" else firing_alert_groups(ctx))
    handler = ON_INCIDENT.get(command.name)
    if handler is None:  # the parser only produces known names; this guards other callers
        raise ParseError(f"Unknown subcommand {command.name!r}. Try `help`.")
    number = command.incident or channel_incident
    if number is None:
        raise await _which_incident(ctx, command.name)
    return await handler(ctx, actor, number, command)


async def _visibility(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    if command.verb not in _PUBLIC:  # the parsers always give one of the three words
        raise ParseError("Say public, private or policy.", SUBCOMMANDS["visibility"].usage)
    return await set_visibility(ctx, actor, number, _PUBLIC[command.verb])


async def _override(ctx: Context, actor: Actor, command: Command) -> Outcome:
    """``oncall override @person <from> <to> [schedule]``: admins only (as the API needs a
    write-scope token); refusals and overrides are both audited."""
    decision = decide(ctx.policy, OVERRIDE, actor, None)
    if not decision.allowed:
        async with ctx.uow() as uow:
            raise await deny(uow, actor, OVERRIDE_COMMAND, None, decision.reason, ctx.clock())
    person = person_from(actor, command.person)
    if person is None:  # the parser always gives the override form a person
        raise ParseError("Name the person to put on call.", SUBCOMMANDS["oncall"].usage)
    try:
        made = await add_override(
            ctx, actor, person.key, command.starts, command.ends, schedule=command.text or None
        )
    except ParseError as exc:  # the service's usage line is the CLI's; show the chat one
        raise ParseError(exc.message, SUBCOMMANDS["oncall"].usage) from None
    zone = find_schedule(ctx, made.schedule).timezone
    begins, ends = (local(at, zone).strftime("%a %d %b %H:%M %Z") for at in (made.start, made.end))
    who = person.name if person.display_name else person.key
    return Outcome(f"{who} covers {made.schedule} from {begins} to {ends} (override #{made.id}).")


async def _which_incident(ctx: Context, name: str) -> ParseError:
    async with ctx.uow(read_only=True) as uow:
        open_now = await uow.incidents.list(open_only=True, limit=5)
    hint = ""
    if open_now:
        hint = " Open now: " + ", ".join(i.ref for i in open_now) + "."
    return ParseError(
        f"Which incident? Name it, e.g. `{name} INC-12 ...`, or run this in the incident's "
        f"channel.{hint}"
    )
