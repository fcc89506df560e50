"""Run an incident command for an API token or a dashboard user.

The scope is checked first (a refusal is audited like any denied command); then the command goes
through the same :func:`~tocsin.services.dispatch.execute` as chat and the CLI, where the policy
decides.
"""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Incident
from tocsin.domain.permissions import COMMANDS, decide
from tocsin.services.access.principal import (
    Principal,
    acting_context,
    has_scope,
    scope_needed,
)
from tocsin.services.context import Context, Outcome
from tocsin.services.declare import declare
from tocsin.services.dispatch import execute
from tocsin.services.pipeline import deny
from tocsin.services.postmortem import postmortem

_WHAT = {"token": "This token", "user": "Your account"}


def scope_refusal(principal: Principal, command: str) -> str:
    needed = scope_needed(command)
    who = _WHAT[principal.kind]
    return (
        f'{who} has the "{principal.scope}" scope, which cannot run "{command}"; '
        f'that needs the "{needed}" scope.'
    )


async def refuse(ctx: Context, principal: Principal, command: Command) -> PermissionDenied:
    """Audit a refused attempt and return the error to raise."""
    reason = scope_refusal(principal, command.name)
    async with ctx.uow() as uow:
        detail = command.text or (command.status or command.severity or "")
        return await deny(
            uow, principal.actor, command.name, command.incident, reason, ctx.clock(), detail
        )


async def run(
    ctx: Context, principal: Principal, command: Command, *, description: str = ""
) -> Outcome:
    """Run ``command`` as ``principal``; raises DomainError subclasses like every surface."""
    if not has_scope(principal, scope_needed(command.name)):
        raise await refuse(ctx, principal, command)
    acting = acting_context(ctx, principal)
    if command.name == "declare":
        return await declare(acting, principal.actor, command, description=description)
    return await execute(acting, principal.actor, command)


async def read_postmortem(ctx: Context, principal: Principal, number: int) -> Outcome:
    """The Markdown post-mortem, without recording that it was posted (reading changes nothing)."""
    return await postmortem(acting_context(ctx, principal), principal.actor, number, record=False)


def allowed_commands(ctx: Context, principal: Principal, incident: Incident) -> frozenset[str]:
    """The subcommands ``principal`` may run on ``incident`` now: scope, then the policy."""
    acting = acting_context(ctx, principal)
    return frozenset(
        name
        for name in COMMANDS
        if has_scope(principal, scope_needed(name))
        and decide(acting.policy, name, principal.actor, incident).allowed
    )
