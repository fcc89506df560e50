"""Who may run which command: the command table, and the one decision every surface renders.

:func:`decide` applies these rules, in order:

1. An admin is allowed everything: someone listed under ``[admins]`` for their platform, or
   whoever uses the local CLI (the operating-system user, ``platform == "cli"``).
2. A command open to ``anyone`` is allowed.
3. Otherwise the actor must hold, in the incident, one of the roles the policy allows.
4. Anything else is denied, with a sentence that names who may (and the current holders).

``override`` is not a subcommand but the permission behind ``oncall override`` (putting someone
on call for a while). No list names it, so only admins hold it, matching the API, where only a
write-scope token may add an override. It is not yet a ``[permissions]`` key of the policy file.

``maintain`` is not a subcommand either but the permission to schedule, move and cancel
maintenance windows from chat (``maintenance schedule|edit|cancel``; ``maintenance`` alone lists
them, under the ``maintenance`` permission). A window silences paging for its components, so by
default only admins hold it; a policy's ``[permissions] maintain = ["anyone"]`` opens it.
``summary`` changes the public post-mortem summary (the commander by default); showing it is
allowed to whoever may ``show`` the incident. ``visibility`` (public, private or back to the
severity policy) is the commander's by default and ``components`` (the status page components an
incident affects) belongs to whoever may post updates by default; the REST calls decide by the same
keys.

``ack`` is open to anyone for now: tocsin does not check that the actor is the person paged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from tocsin.domain.model import Actor, Incident, Role

if TYPE_CHECKING:
    from tocsin.domain.policy import Policy

COMMANDS: tuple[str, ...] = (
    "declare", "list", "show", "update", "note", "severity", "status", "commander",
    "role", "join", "ack", "action", "resolve", "reopen", "postmortem", "summary", "visibility",
    "components", "oncall", "maintenance", "alerts", "help",
)  # fmt: skip
"""Every subcommand name, in the order ``help`` lists them."""

OVERRIDE = "override"
"""The permission to add on-call overrides from chat (admins only; see the module docstring)."""

MAINTAIN = "maintain"
"""The permission to schedule, edit and cancel maintenance from chat (see the module docstring)."""

PERMISSION_KEYS: tuple[str, ...] = (*COMMANDS, MAINTAIN)
"""The keys a policy's ``[permissions]`` table may set."""

GLOBAL_COMMANDS: frozenset[str] = frozenset(
    {"declare", "list", "oncall", "maintenance", "alerts", "help", OVERRIDE, MAINTAIN}
)
"""Subcommands not about one incident: incident roles cannot allow them, only anyone/admin."""

ANYONE = "anyone"
ADMIN = "admin"
PERMISSION_ROLES: tuple[str, ...] = (*(role.value for role in Role), ADMIN, ANYONE)
"""Names allowed in a ``[permissions]`` list."""

_OPEN = frozenset({ANYONE})
_COMMANDER = frozenset({Role.COMMANDER.value, ADMIN})
_UPDATERS = frozenset({Role.COMMANDER.value, Role.DEPUTY.value, Role.COMMS.value, ADMIN})
DEFAULT_PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "declare": _OPEN, "list": _OPEN, "show": _OPEN, "update": _UPDATERS, "note": _OPEN,
        "severity": _COMMANDER, "status": _COMMANDER, "commander": _COMMANDER,
        "role": _COMMANDER, "join": _OPEN, "ack": _OPEN, "action": _OPEN,
        "resolve": _COMMANDER, "reopen": _COMMANDER, "postmortem": _OPEN, "summary": _COMMANDER,
        "visibility": _COMMANDER, "components": _UPDATERS, "oncall": _OPEN,
        "maintenance": _OPEN, MAINTAIN: frozenset({ADMIN}), "alerts": _OPEN,
        "help": _OPEN,
    }
)  # fmt: skip
"""The command table (docs/commands.md). Admins may run everything, named in a list or not."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed or not, and why.

    When allowed, ``reason`` is what allowed it: ``"admin"``, ``"anyone"`` or the incident role
    (``"commander"``, ...). When denied, it is a sentence to show the user.
    """

    allowed: bool
    reason: str


_ROLE_ORDER = (Role.COMMANDER, Role.DEPUTY, Role.SCRIBE, Role.COMMS)
_ROLE_WORDS = {Role.COMMANDER: "commander", Role.DEPUTY: "deputy", Role.SCRIBE: "scribe",
               Role.COMMS: "comms lead"}  # fmt: skip
_BY_ADMIN = Decision(True, ADMIN)
_BY_ANYONE = Decision(True, ANYONE)
_BY_ROLE = {role: Decision(True, role.value) for role in Role}
_WHAT = {
    "declare": "declare an incident", "list": "list incidents", "help": "ask for help",
    "show": "see {it}", "update": "post an update to {it}", "note": "add a note to {it}",
    "severity": "change {its} severity", "status": "change {its} status",
    "commander": "hand over {its} command", "role": "assign {its} roles", "join": "join {it}",
    "ack": "acknowledge {its} page", "action": "add an action item to {it}",
    "resolve": "resolve {it}", "reopen": "reopen {it}", "postmortem": "post {its} post-mortem",
    "summary": "change {its} public summary", "visibility": "make {it} public or private",
    "components": "set the components {it} affects", "oncall": "see who is on call",
    OVERRIDE: "change who is on call", "maintenance": "see scheduled maintenance",
    MAINTAIN: "schedule, move or cancel maintenance",
    "alerts": "see or act on alert groups and silences",
}  # fmt: skip


def decide(policy: Policy, command: str, actor: Actor, incident: Incident | None) -> Decision:
    """May ``actor`` run ``command`` (on ``incident``, when it is about one)?"""
    if policy.is_admin(actor):
        return _BY_ADMIN
    allowed = policy.roles_allowed(command)
    if ANYONE in allowed:
        return _BY_ANYONE
    if incident is not None and command not in GLOBAL_COMMANDS:
        key = actor.key
        for role in _ROLE_ORDER:
            holder = incident.roles.get(role)
            if holder is not None and role.value in allowed and holder.key == key:
                return _BY_ROLE[role]
    return Decision(False, _denied_reason(command, allowed, incident))


def _denied_reason(command: str, allowed: frozenset[str], incident: Incident | None) -> str:
    """``Only the commander of INC-4 (alice) or an admin may resolve it.`` and the like."""
    what = _WHAT.get(command)
    if what is None:
        return f'"{command}" is not a tocsin command; "help" lists the commands.'
    roles = [role for role in _ROLE_ORDER if role.value in allowed]
    if not roles or command in GLOBAL_COMMANDS:
        ref = incident.ref if incident is not None else "an incident"
        possessive = f"{ref}'s"
        return f"Only an admin may {what.format(it=ref, its=possessive)}."
    ref = incident.ref if incident is not None else "the incident"
    who = []
    for index, role in enumerate(roles):
        holder = incident.roles.get(role) if incident is not None else None
        text = f"the {_ROLE_WORDS[role]}" + (f" of {ref}" if index == 0 else "")
        who.append(text + (f" ({holder.name})" if holder is not None else ""))
    sentence = f"Only {', '.join(who)} or an admin may {what.format(it='it', its='its')}."
    if incident is None:
        sentence += " Run it in the incident's channel or name the incident (e.g. INC-12)."
    return sentence
