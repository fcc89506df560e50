"""Who is calling the web surfaces, what their scope lets them do, and how admins are expressed.

A :class:`Principal` is an API token (actor ``api:<token name>``) or a dashboard user (actor
``web:<username>``). Scopes are ordered: ``read`` < ``write`` < ``admin``. Dashboard users have
the ``write`` scope, or ``admin`` when created with ``--admin``.

Admin is expressed through the policy, not beside it: :func:`acting_context` hands the services a
policy whose ``[admins]`` also lists this principal's actor, so :func:`~tocsin.domain.permissions.
decide` stays the one place that decides, and the audit log records ``admin`` as the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from tocsin.domain.model import Actor
from tocsin.domain.policy import Policy
from tocsin.services.context import Context

READ = "read"
WRITE = "write"
ADMIN = "admin"
SCOPES: tuple[str, ...] = (READ, WRITE, ADMIN)
"""Every scope, weakest first."""

READ_COMMANDS = frozenset({"list", "show", "alerts", "help"})
"""Subcommands a read-scope principal may run; every other one needs ``write``."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the actor the services see, and its scope."""

    actor: Actor
    scope: str

    @property
    def kind(self) -> str:
        return "token" if self.actor.platform == "api" else "user"


def has_scope(principal: Principal, needed: str) -> bool:
    """True when ``principal``'s scope is ``needed`` or stronger."""
    return SCOPES.index(principal.scope) >= SCOPES.index(needed)


def scope_needed(command: str) -> str:
    return READ if command in READ_COMMANDS else WRITE


def is_admin(policy: Policy, principal: Principal) -> bool:
    """An admin-scope principal, or an actor the policy file lists under ``[admins]``."""
    return principal.scope == ADMIN or policy.is_admin(principal.actor)


def admin_policy(policy: Policy, actor: Actor) -> Policy:
    """``policy`` with ``actor`` added to its admins (the policy object itself is unchanged)."""
    if policy.is_admin(actor):
        return policy
    admins = dict(policy.admins)
    admins[actor.platform] = admins.get(actor.platform, frozenset()) | {actor.user_id}
    return replace(policy, admins=MappingProxyType(admins))


def acting_context(ctx: Context, principal: Principal) -> Context:
    """The context to run services with: admins see a policy that names them as admins."""
    if principal.scope != ADMIN:
        return ctx
    return ctx.with_policy(admin_policy(ctx.policy, principal.actor))
