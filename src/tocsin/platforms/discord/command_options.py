"""The options of Discord's ``/incident`` subcommands whose forms a usage line cannot describe
(:mod:`tocsin.platforms.discord.commands` reads the other subcommands' options off their usage
lines), and how those options read back into a :class:`~tocsin.domain.commands.Command`.

* ``maintenance``: ``action`` (list, schedule, edit or cancel), ``id``, ``start``, ``end``,
  ``title``, ``components`` separated by commas, ``description``.
* ``oncall``: alone it answers who is on call; ``person``, ``from``, ``to`` and ``schedule`` put
  someone on call, as ``oncall override @person <from> <to> [schedule]`` does when typed
  (``from`` and ``to`` read like the typed times: ``now``, ``+8h``, ``2026-12-01T09:00``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.chat.payloads import obj
from tocsin.domain.command_forms import (
    CANCEL_USAGE,
    EDIT_USAGE,
    LIST,
    MAINTENANCE_VERBS,
    SCHEDULE,
    SCHEDULE_USAGE,
    component_names,
    maintenance_id,
)
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Command, Mention, Subcommand
from tocsin.domain.errors import ParseError

SUB_COMMAND, STRING, USER = 1, 3, 6
DESCRIPTIONS = {
    "incident": "The incident, like INC-12 (implied inside its channel)",
    "title": "What is broken, in a few words",
    "text": "The text",
    "summary": "What fixed it, in a sentence (optional)",
    "severity": "P1 (critical) to P4 (low); the policy's default when left out",
    "level": "The new severity",
    "state": "The new status",
    "role": "The role to give",
    "scope": "Open incidents (the default) or all of them",
    "visibility": "public, private, or policy (the severity decides)",
    "subcommand": "Show the details of one subcommand",
    "commander": "Who leads the incident (you, when left out)",
    "owner": "Who owns the action item",
    "user": "The person",
    "action": "list (the default), schedule, edit or cancel",
    "id": "The maintenance's id, like 7 (edit, cancel)",
    "start": "When it starts: ISO 8601 (UTC), now, +2h (schedule, edit)",
    "end": "When it ends: ISO 8601 (UTC), +2h (schedule, edit)",
    "components": "The status page components it affects, separated by commas",
    "description": "What is done and what users will notice",
    "person": "Who to put on call (admins; with from and to)",
    "from": "When their cover starts: now, +1h, 2026-12-01T09:00 (the schedule's zone)",
    "to": "When it ends: +8h, 2026-12-01T17:00",
    "schedule": "The schedule they cover (the only one, when left out)",
}


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a subcommand, as Discord's command definition spells it."""

    name: str
    kind: int
    required: bool
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 0
    description: str = ""

    def definition(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.kind,
            "name": self.name,
            "description": (self.description or DESCRIPTIONS.get(self.name, f"The {self.name}"))[
                :100
            ],
            "required": self.required,
        }
        if self.choices:
            body["choices"] = [{"name": n, "value": v} for n, v in self.choices]
        if self.max_length:
            body["max_length"] = self.max_length
        return body


MAINTENANCE_OPTIONS = (
    Option("action", STRING, False, tuple((v, v) for v in (LIST, SCHEDULE, "edit", "cancel"))),
    Option("id", STRING, False, max_length=10),
    Option("start", STRING, False, max_length=64),
    Option("end", STRING, False, max_length=64),
    Option("title", STRING, False, max_length=MAX_TITLE,
           description="The maintenance's title (schedule)"),
    Option("components", STRING, False, max_length=1000),
    Option("description", STRING, False, max_length=MAX_TEXT),
)  # fmt: skip
ONCALL_OPTIONS = (
    Option("person", USER, False),
    Option("from", STRING, False, max_length=64),
    Option("to", STRING, False, max_length=64),
    Option("schedule", STRING, False, max_length=200),
)
SPECIAL_OPTIONS: Mapping[str, tuple[Option, ...]] = {
    "maintenance": MAINTENANCE_OPTIONS,
    "oncall": ONCALL_OPTIONS,
}


def display_name(user_id: str, resolved: Mapping[str, Any]) -> str:
    """The name Discord shows for ``user_id`` (server nickname, display name, username)."""
    member = obj(obj(resolved, "members"), user_id)
    user = obj(obj(resolved, "users"), user_id)
    return str(member.get("nick") or user.get("global_name") or user.get("username") or "")


def oncall_command(
    sub: Subcommand, values: Mapping[str, Any], resolved: Mapping[str, Any]
) -> Command:
    """``/incident oncall``: who is on call, or (with a person, a start and an end) the override
    form the typed ``oncall override @person <from> <to> [schedule]`` gives."""
    starts = str(values.get("from") or "").strip()
    ends = str(values.get("to") or "").strip()
    schedule = str(values.get("schedule") or "").strip()
    person = str(values.get("person") or "")
    if not (person or starts or ends or schedule):
        return Command(sub.name)
    if not person:
        raise ParseError("oncall override needs the person to put on call.", sub.usage)
    if not (starts and ends):
        raise ParseError(
            "oncall override needs a start (from) and an end (to), then optionally the schedule.",
            sub.usage,
        )
    who = Mention(person, display_name(person, resolved))
    return Command(sub.name, person=who, starts=starts, ends=ends, text=schedule)


def maintenance_command(sub: Subcommand, values: Mapping[str, Any]) -> Command:
    """``/incident maintenance``'s options as the command the typed form gives."""
    action = str(values.get("action") or LIST)
    verb = MAINTENANCE_VERBS.get(action)
    if verb is None:
        raise ParseError(f'"{action[:40]}" is not list, schedule, edit or cancel.', sub.usage)
    if verb == LIST:
        return Command(sub.name, verb=LIST)
    starts, ends = (str(values.get(name) or "").strip() for name in ("start", "end"))
    if verb == SCHEDULE:
        title = " ".join(str(values.get("title") or "").split())
        if not (starts and ends and title):
            raise ParseError("maintenance schedule needs a start, an end and a title.",
                             SCHEDULE_USAGE)  # fmt: skip
        components = component_names([str(values.get("components") or "")])
        description = str(values.get("description") or "").strip()
        return Command(sub.name, verb=verb, text=title, starts=starts, ends=ends,
                       components=components, description=description)  # fmt: skip
    usage = EDIT_USAGE if verb == "edit" else CANCEL_USAGE
    if not values.get("id"):
        raise ParseError(f"maintenance {verb} needs the maintenance's id, like 7.", usage)
    item = maintenance_id(str(values["id"]), usage)
    if verb == "edit" and not (starts or ends):
        raise ParseError("maintenance edit needs a new start or a new end.", usage)
    return Command(sub.name, verb=verb, item=item, starts=starts, ends=ends)
