"""The command language: one parser for ``/incident``, ``/inc`` and ``tocsin incident``.

:func:`parse` turns the text typed after the command into a :class:`Command` or raises
:class:`ParseError` (one or two plain sentences; ``usage`` is the subcommand's usage line).
:data:`SUBCOMMANDS` is the one table that :func:`parse` and :func:`help_text` both read. The
values are in :mod:`tocsin.domain.command_types`, the tokenizer in
:mod:`tocsin.domain.command_words`, the builders in :mod:`tocsin.domain.command_builders` and
:mod:`tocsin.domain.command_forms` (``summary`` and ``maintenance``, whose forms it lists).

Decisions (the README's command reference repeats them):

* Words are case-insensitive. ``"..."``, ``'...'``, ``“...”`` and ``‘...’`` group words; a quote
  that is never closed is an ordinary character, so ``can't`` needs no escaping.
* ``INC-n`` (any case, dash optional) names an incident. In texts (update, note, action, resolve)
  only a reference right after the subcommand counts. show, join, ack, reopen and postmortem also
  take ``12`` or ``#12``. No reference is not an error (the channel implies it): ``incident=None``.
  Every ``INC-<digits>`` is a reference: one no incident can have (``INC-0``, twenty digits) is
  refused as such (:mod:`tocsin.domain.references`), never taken as text.
* Severity: ``P1``, ``p1``, ``sev1``, ``sev-1``, ``sev:P1``, ``severity=P1``; the ``severity``
  subcommand also takes a bare ``1``..``4``. ``declare`` without one leaves ``severity=None`` and
  the service applies the policy's default.
* ``declare`` reads the severity and the commander's mention from either end of the title; in the
  middle they stay title words (quote the title to keep an edge word). Title whitespace collapses.
* Texts keep their spacing and line breaks; a text that is one quoted string loses its quotes.
  ``action`` takes its owner mention at the end only.
* ``oncall`` alone is about no incident: who is on call now and next. ``oncall override @person
  <from> <to> [schedule]`` puts someone on call: ``person`` is set, ``starts``/``ends`` hold the
  times as typed (``now``, ``+8h``, ``2026-12-01T09:00``, quoted ``"2026-12-01 09:00"``; the
  service reads them in the schedule's time zone) and ``text`` the schedule name, if given.
* ``status``: investigating (to walk back a wrong diagnosis), identified, monitoring (alias
  mitigated), resolved. ``commander @u`` gives ``role=Role.COMMANDER`` like ``role commander @u``.
* Mentions: Slack ``<@U123|name>``/``<@U123>``, Discord ``<@123>``/``<@!123>``, plain ``@name``
  (``user_id="name"``, for the adapter to resolve); ``@here``/``@channel``/``@everyone`` are not
  people. Limits: input 8000, title 200, text 4000 characters (a public summary 2000).
* ``summary`` is an incident's public post-mortem summary, ``visibility`` and ``components`` what
  the public status page shows of it; ``maintenance`` is about no incident
  (:mod:`tocsin.domain.command_forms` has their forms).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from tocsin.domain.command_builders import (
    build_bare,
    build_declare,
    build_list,
    build_oncall,
    build_ref_only,
    build_role,
    build_severity,
    build_status,
    build_text,
)
from tocsin.domain.command_forms import (
    build_components,
    build_maintenance,
    build_summary,
    build_visibility,
)
from tocsin.domain.command_types import (
    MAX_INPUT,
    MAX_PUBLIC_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
    Command,
    Mention,
    Subcommand,
    Token,
)
from tocsin.domain.command_words import LEVELS, ROLES, STATES, fail, tokens_of, word
from tocsin.domain.errors import ParseError
from tocsin.domain.references import parse_incident_ref
from tocsin.domain.references import quoted as show

__all__ = [
    "MAX_INPUT", "MAX_PUBLIC_SUMMARY", "MAX_TEXT", "MAX_TITLE", "SUBCOMMANDS", "Command",
    "Mention", "Subcommand", "help_text", "parse", "parse_incident_ref",
]  # fmt: skip


def parse(text: str) -> Command:
    """Parse the text typed after ``/incident``; raises :class:`ParseError` on bad input."""
    if len(text) > MAX_INPUT:
        first = text[:32].split(maxsplit=1)
        sub = _LOOKUP.get(first[0].lower()) if first else None
        raise ParseError(
            f"That command is {len(text)} characters long; keep it to {MAX_INPUT} or fewer.",
            sub.usage if sub else _HELP_USAGE,
        )
    tokens = tokens_of(text)
    if not tokens:
        return Command("help")
    sub = _LOOKUP.get(tokens[0][0].lower())
    if sub is None:
        raise _unknown(tokens[0][0])
    return sub.build(sub, text, tokens[1:])


def help_text(topic: str = "", *, prefix: str = "") -> str:
    """Usage of every subcommand in one message, or of ``topic`` alone.

    ``prefix`` goes before each usage line (``"/incident "`` in Slack, ``"tocsin incident "`` on
    the CLI). An unknown topic raises :class:`ParseError` with a suggestion.
    """
    if topic.strip():
        sub = _LOOKUP.get(topic.strip().lower())
        if sub is None:
            raise _unknown(topic.strip())
        lines = [f"{prefix}{sub.usage}", sub.summary]
        if sub.aliases:
            lines.append("Also written: " + ", ".join(sub.aliases) + ".")
        if sub.example:
            lines.append(f"Example: {prefix}{sub.example}")
        return "\n".join(lines)
    lines = [_HELP_HEADER]
    lines += [f"{prefix}{sub.usage}  — {sub.summary}" for sub in SUBCOMMANDS.values()]
    short = [f"{alias} = {sub.name}" for sub in SUBCOMMANDS.values() for alias in sub.aliases]
    lines.append("Short forms: " + ", ".join(short) + ".")
    lines.append(f"For details and an example: {prefix}help <subcommand>")
    return "\n".join(lines)


def _unknown(word: str) -> ParseError:
    names = list(_LOOKUP)
    close = difflib.get_close_matches(word.lower()[:40], names, n=1, cutoff=0.6)
    if close:
        sub = _LOOKUP[close[0]]
        return ParseError(
            f'{show(word)} is not a command; did you mean "{close[0]}"? Try "help" for the list.',
            sub.usage,
        )
    return ParseError(f'{show(word)} is not a command. Try "help" for the list.', _HELP_USAGE)


def build_help(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    if not tokens:
        return Command(sub.name)
    if len(tokens) > 1:
        fail(sub, "help takes at most one subcommand name.")
    topic = _LOOKUP.get(word(tokens[0]).lower())
    if topic is None:
        raise _unknown(word(tokens[0]))
    return Command(sub.name, topic=topic.name)


# --- the table -----------------------------------------------------------------------------------
_HELP_USAGE = "help [subcommand]"
_HELP_HEADER = (
    "Incident commands. In an incident's channel the incident is implied; elsewhere add INC-n."
)
_TABLE = (
    Subcommand("declare", "declare <title> [P1..P4] [@commander]",
               "Declare a new incident; without a severity the policy's default applies.",
               build_declare, (), 'declare "Checkout is down" P1 @alice',
               'declare needs a title, for example: declare "Checkout is down" P1.'),
    Subcommand("list", "list [open|all]", "List open incidents, or all of them.",
               build_list, (), "list all"),
    Subcommand("show", "show [INC-n]", "Show an incident: status, roles and latest updates.",
               build_ref_only, (), "show INC-12"),
    Subcommand("update", "update [INC-n] <text>",
               "Post a status update to the channel, the announcement and the status page.",
               build_text, (), "update INC-12 Payments are flowing again; watching error rates.",
               "update needs the text of the status update."),
    Subcommand("note", "note [INC-n] <text>", "Add a note to the timeline.",
               build_text, (), "note INC-12 Rolled back deploy 4711",
               "note needs the text of the note."),
    Subcommand("severity", "severity [INC-n] <P1..P4>",
               "Change the severity, which re-routes announcements and paging.",
               build_severity, ("sev",), "severity INC-12 P2",
               f"severity needs a level: {LEVELS}."),
    Subcommand("status", "status [INC-n] <investigating|identified|monitoring|resolved>",
               "Move the incident along its lifecycle (mitigated means monitoring).",
               build_status, (), "status INC-12 monitoring",
               f"status needs a state: {STATES}."),
    Subcommand("commander", "commander [INC-n] @user", "Hand command to someone else.",
               build_role, ("lead", "ic"), "commander INC-12 @bob",
               "commander needs the new commander as an @mention, like @alice."),
    Subcommand("role", "role [INC-n] <commander|deputy|scribe|comms> @user",
               "Give someone a role.", build_role, (), "role INC-12 scribe @carol",
               f"role needs a role: {ROLES}."),
    Subcommand("join", "join [INC-n]", "Join the incident's channel.",
               build_ref_only, (), "join INC-12"),
    Subcommand("ack", "ack [INC-n]", "Acknowledge a page: you are on it.",
               build_ref_only, ("acknowledge",), "ack INC-12"),
    Subcommand("action", "action [INC-n] <text> [@owner]",
               "Record a follow-up action item, with an optional owner at the end.",
               build_text, ("todo",), "action INC-12 Add an alert on queue depth @dave",
               "action needs a description of the task, before the optional @owner."),
    Subcommand("resolve", "resolve [INC-n] [summary]", "Resolve the incident, with a summary.",
               build_text, (), "resolve INC-12 Cache node replaced"),
    Subcommand("reopen", "reopen [INC-n]", "Reopen a resolved incident.",
               build_ref_only, (), "reopen INC-12"),
    Subcommand("postmortem", "postmortem [INC-n]", "Post the Markdown post-mortem.",
               build_ref_only, ("pm", "post-mortem"), "postmortem INC-12"),
    Subcommand("summary", "summary [INC-n] [text]",
               'Show, publish or (with "clear") remove the public post-mortem summary shown '
               "on the status page's history once the incident is resolved.",
               build_summary, (), "summary INC-12 A bad cache config; we now canary changes."),
    Subcommand("visibility", "visibility [INC-n] <public|private|policy>",
               "Show the incident on the public status page, hide it, or let its severity decide "
               "(policy).", build_visibility, (), "visibility INC-12 public",
               "visibility needs public, private or policy."),
    Subcommand("components", "components [INC-n] <name>...",
               'Name the status page components the incident affects ("none" for none).',
               build_components, (), 'components INC-12 API "Web app"',
               "components needs the names of the status page components it affects, or none."),
    Subcommand("oncall", "oncall [override @person <from> <to> [schedule]]",
               "Who is on call now and next; an admin may put someone else on call for a while.",
               build_oncall, (), "oncall override @alice now +8h primary",
               'oncall override needs the person as an @mention, like @alice.'),
    Subcommand("maintenance",
               "maintenance [list | schedule <start> <end> <title> [component:<name>]... "
               "[-- <description>] | edit <id> <start|-> <end|-> | cancel <id>]",
               "List the scheduled maintenance windows; admins schedule, move (- keeps an edge) "
               "or cancel one.", build_maintenance, ("maint",),
               'maintenance schedule "2026-12-01 09:00" +2h "Database upgrade" component:API'),
    Subcommand("alerts", "alerts",
               "List the alert groups firing now: id, title, alerts and incident.",
               build_bare, (), "alerts"),
    Subcommand("help", _HELP_USAGE, "Show this help, or the details of one subcommand.",
               build_help, ("?",), "help declare"),
)  # fmt: skip

SUBCOMMANDS: Mapping[str, Subcommand] = MappingProxyType({sub.name: sub for sub in _TABLE})
_LOOKUP = {word: sub for sub in _TABLE for word in (sub.name, *sub.aliases)}  # words -> row
