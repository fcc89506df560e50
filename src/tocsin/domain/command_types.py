"""The values of the command language (:mod:`tocsin.domain.commands`): a parsed
:class:`Command`, a :class:`Mention`, a row of the table (:class:`Subcommand`) and the limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tocsin.domain.model import Role, Severity, Status

MAX_INPUT = 8000
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_PUBLIC_SUMMARY = 2000


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a command; ``user_id`` is the platform's id or the typed @name."""

    user_id: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command; the fields a subcommand does not use keep their defaults.

    ``verb`` is the form of a subcommand that has several (``summary``: show, set or clear;
    ``maintenance``: list, schedule, edit or cancel), ``item`` the maintenance's id, and
    ``components`` and ``description`` a scheduled maintenance's."""

    name: str
    incident: int | None = None
    text: str = ""
    severity: Severity | None = None
    status: Status | None = None
    role: Role | None = None
    person: Mention | None = None
    scope: str = "open"
    topic: str = ""
    starts: str = ""
    ends: str = ""
    verb: str = ""
    item: int | None = None
    components: tuple[str, ...] = ()
    description: str = ""


Token = re.Match[str]  # one word or quoted string of the input


Builder = Callable[["Subcommand", str, list[Token]], Command]


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One row of the command table."""

    name: str
    usage: str
    summary: str
    build: Builder = field(repr=False)
    aliases: tuple[str, ...] = ()
    example: str = ""
    needs: str = ""  # what to say when the required part is missing ("" = nothing required)
