"""The command language: one parser for ``/incident``, ``/inc`` and ``tocsin incident``.

:func:`parse` turns the text typed after the command into a :class:`Command` or raises
:class:`ParseError` (one or two plain sentences; ``usage`` is the subcommand's usage line).
:data:`SUBCOMMANDS` is the one table that :func:`parse` and :func:`help_text` both read.

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
  people. Limits: input 8000, title 200, text 4000 characters.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NoReturn

from tocsin.domain.errors import ParseError
from tocsin.domain.model import Role, Severity, Status
from tocsin.domain.references import parse_incident_ref as parse_incident_ref  # re-exported
from tocsin.domain.references import quoted as _show
from tocsin.domain.references import reference_in

MAX_INPUT = 8000
MAX_TITLE = 200
MAX_TEXT = 4000

_TOKEN_RE = re.compile(
    r'"(?P<dq>[^"]*+)"(?=\s|\Z)'
    r"|'(?P<sq>(?:[^'\s]|'(?=\S)|\s(?!'))*+)'(?=\s|\Z)"
    r"|“(?P<cq>[^”]*+)”(?=\s|\Z)"
    r"|‘(?P<csq>[^’]*+)’(?=\s|\Z)"
    r"|<@[^<>\r\n]*+>(?=\s|\Z)"  # a mention, even with spaces in the display name
    r"|\S+"
)
_SEVERITY_RE = re.compile(r"(?:sev(?:erity)?[:=-]?p?|p)([1-4])", re.IGNORECASE)
_MENTION_RE = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|([^<>|]*))?>|@((?:[a-z]+:)?\w(?:[\w.\-]*\w)?)")
_SPACE_RE = re.compile(r"\s+")
_NOT_PEOPLE = frozenset({"here", "channel", "everyone"})
_STATUS_WORDS: Mapping[str, Status] = {
    **{status.value: status for status in Status},
    "mitigated": Status.MONITORING,
}
_ROLE_WORDS: Mapping[str, Role] = {
    **{role.value: role for role in Role},
    "ic": Role.COMMANDER,
    "lead": Role.COMMANDER,
}
_LEVELS = "P1 (critical), P2 (high), P3 (moderate) or P4 (low)"
_STATES = "investigating, identified, monitoring or resolved"
_ROLES = "commander, deputy, scribe or comms"


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a command; ``user_id`` is the platform's id or the typed @name."""

    user_id: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command; the fields a subcommand does not use keep their defaults."""

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


_Token = re.Match[str]  # one word or quoted string of the input


Builder = Callable[["Subcommand", str, list[_Token]], Command]


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


def parse(text: str) -> Command:
    """Parse the text typed after ``/incident``; raises :class:`ParseError` on bad input."""
    if len(text) > MAX_INPUT:
        first = text[:32].split(maxsplit=1)
        sub = _LOOKUP.get(first[0].lower()) if first else None
        raise ParseError(
            f"That command is {len(text)} characters long; keep it to {MAX_INPUT} or fewer.",
            sub.usage if sub else _HELP_USAGE,
        )
    tokens = list(_TOKEN_RE.finditer(text))
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


# --- tokens and words ----------------------------------------------------------------------------
def _word(token: _Token) -> str:
    """The token without its quotes."""
    group = token.lastgroup
    return token[0] if group is None else token[group]


def _ref(sub: Subcommand, token: _Token) -> int | None:
    """The incident an ``INC-n`` token names; fails for a number no incident can have."""
    return None if token.lastgroup else reference_in(token[0], sub.usage)


def _severity(token: _Token, bare: bool = False) -> Severity | None:
    if token.lastgroup:
        return None
    match = _SEVERITY_RE.fullmatch(token[0])
    if match:
        return Severity(f"P{match[1]}")
    if bare and token[0] in ("1", "2", "3", "4"):
        return Severity(f"P{token[0]}")
    return None


def _mention(token: _Token) -> Mention | None:
    match = None if token.lastgroup else _MENTION_RE.fullmatch(token[0])
    if match is None:
        return None
    if match[1]:
        return Mention(match[1], (match[2] or "").strip())
    return None if match[3].lower() in _NOT_PEOPLE else Mention(match[3])


def _join(text: str, tokens: list[_Token]) -> str:
    """The text the tokens cover, as typed; one quoted token loses its quotes."""
    if not tokens:
        return ""
    if len(tokens) == 1 and tokens[0].lastgroup:
        return _word(tokens[0]).strip()
    return text[tokens[0].start() : tokens[-1].end()].strip()


def _fail(sub: Subcommand, message: str) -> NoReturn:
    raise ParseError(message, sub.usage)


def _unknown(word: str) -> ParseError:
    names = list(_LOOKUP)
    close = difflib.get_close_matches(word.lower()[:40], names, n=1, cutoff=0.6)
    if close:
        sub = _LOOKUP[close[0]]
        return ParseError(
            f'{_show(word)} is not a command; did you mean "{close[0]}"? Try "help" for the list.',
            sub.usage,
        )
    return ParseError(f'{_show(word)} is not a command. Try "help" for the list.', _HELP_USAGE)


def _check_length(sub: Subcommand, what: str, value: str, limit: int) -> str:
    if len(value) > limit:
        _fail(sub, f"The {what} is {len(value)} characters long; keep it to {limit} or fewer.")
    return value


# --- builders ------------------------------------------------------------------------------------
def _build_declare(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    options = [_severity(token) or _mention(token) for token in tokens]
    lo, hi = 0, len(tokens)
    while lo < hi and options[lo] is not None:
        lo += 1
    while hi > lo and options[hi - 1] is not None:
        hi -= 1
    title = _SPACE_RE.sub(" ", _join(text, tokens[lo:hi]))
    if not title:
        _fail(sub, sub.needs)
    severity: Severity | None = None
    person: Mention | None = None
    for option in options[:lo] + options[hi:]:
        if isinstance(option, Severity):
            if severity is not None:
                _fail(sub, f"Give one severity, not two ({severity} and {option}).")
            severity = option
        else:
            if person is not None:
                _fail(sub, "Name one commander, not two.")
            person = option
    _check_length(sub, "title", title, MAX_TITLE)
    return Command(sub.name, text=title, severity=severity, person=person)


def _build_text(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    """update, note, action and resolve: ``[INC-n] <text>`` (action: ``[@owner]`` at the end)."""
    incident = _ref(sub, tokens[0]) if tokens else None
    if incident is not None:
        tokens = tokens[1:]
    owner = None
    if sub.name == "action" and tokens:
        owner = _mention(tokens[-1])
        if owner is not None:
            tokens = tokens[:-1]
    body = _check_length(sub, "text", _join(text, tokens), MAX_TEXT)
    if not body and sub.needs:
        _fail(sub, sub.needs)
    return Command(sub.name, incident=incident, text=body, person=owner)


def _build_ref_only(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    """show, join, ack, reopen, postmortem: ``[INC-n]``."""
    if not tokens:
        return Command(sub.name)
    number = reference_in(tokens[0][0], sub.usage, loose=True) if len(tokens) == 1 else None
    if number is None:
        shown = _show(_join(text, tokens))
        _fail(sub, f"{sub.name} takes only an incident reference such as INC-12, not {shown}.")
    return Command(sub.name, incident=number)


def _scan(
    sub: Subcommand, tokens: list[_Token], people: bool = True
) -> tuple[int | None, Mention | None, list[_Token]]:
    """Take one ``INC-n`` and (if ``people``) one mention from anywhere; keep the rest."""
    incident: int | None = None
    person: Mention | None = None
    rest = []
    for token in tokens:
        number, who = _ref(sub, token), _mention(token)
        if number is not None:
            if incident is not None:
                _fail(sub, f"Name one incident, not two (INC-{incident} and INC-{number}).")
            incident = number
        elif who is not None:
            if not people:
                _fail(sub, f"{sub.name} does not take a person.")
            if person is not None:
                _fail(sub, "Name one person, not two.")
            person = who
        else:
            rest.append(token)
    return incident, person, rest


def _only(sub: Subcommand, text: str, rest: list[_Token]) -> _Token:
    """The one token left after :func:`_scan`; fails with ``sub.needs`` when there is none."""
    if not rest:
        _fail(sub, sub.needs)
    if len(rest) > 1:
        _fail(sub, f"{sub.name} takes one value here, not {_show(_join(text, rest))}.")
    return rest[0]


def _build_severity(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    incident, _, rest = _scan(sub, tokens, people=False)
    token = _only(sub, text, rest)
    level = _severity(token, bare=True)
    if level is None:
        _fail(sub, f"{_show(_word(token))} is not a severity; use {_LEVELS}.")
    return Command(sub.name, incident=incident, severity=level)


def _build_status(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    incident, _, rest = _scan(sub, tokens, people=False)
    token = _only(sub, text, rest)
    status = _STATUS_WORDS.get(_word(token).lower())
    if status is None:
        _fail(sub, f"{_show(_word(token))} is not a status; use {_STATES}.")
    return Command(sub.name, incident=incident, status=status)


def _build_role(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    """``role <role> @user`` and ``commander @user`` (whose role is implied)."""
    incident, person, rest = _scan(sub, tokens)
    if sub.name == "commander":
        role: Role | None = Role.COMMANDER
        if rest:
            _fail(sub, f"commander takes an @mention, not {_show(_join(text, rest))}.")
    else:
        role = _ROLE_WORDS.get(_word(_only(sub, text, rest)).lower())
        if role is None:
            _fail(sub, f"{_show(_word(rest[0]))} is not a role; use {_ROLES}.")
    if person is None and sub.name == "commander":
        _fail(sub, sub.needs)
    if person is None:
        _fail(sub, f"role needs the person who takes the {role} role, as an @mention like @alice.")
    return Command(sub.name, incident=incident, role=role, person=person)


def _build_list(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    if not tokens:
        return Command(sub.name)
    scope = _word(tokens[0]).lower() if len(tokens) == 1 else ""
    if scope not in ("open", "all"):
        _fail(sub, f'list shows "open" or "all" incidents, not {_show(_join(text, tokens))}.')
    return Command(sub.name, scope=scope)


def _build_oncall(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    """``oncall`` alone, or ``oncall override @person <from> <to> [schedule]``."""
    if not tokens:
        return Command(sub.name)
    if _word(tokens[0]).lower() != "override":
        shown = _show(_join(text, tokens))
        _fail(sub, f'oncall takes nothing after it, or "override", not {shown}.')
    person: Mention | None = None
    rest = []
    for token in tokens[1:]:
        who = _mention(token)
        if who is None:
            rest.append(token)
        elif person is not None:
            _fail(sub, "Name one person, not two.")
        else:
            person = who
    if person is None:
        _fail(sub, sub.needs)
    if len(rest) not in (2, 3):
        _fail(sub, "oncall override needs a start and an end, then optionally the schedule.")
    schedule = _word(rest[2]).strip() if len(rest) == 3 else ""
    starts, ends = _word(rest[0]).strip(), _word(rest[1]).strip()
    return Command(sub.name, person=person, starts=starts, ends=ends, text=schedule)


def _build_bare(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    """alerts: nothing after the subcommand."""
    if tokens:
        _fail(sub, f"{sub.name} takes nothing after it, not {_show(_join(text, tokens))}.")
    return Command(sub.name)


def _build_help(sub: Subcommand, text: str, tokens: list[_Token]) -> Command:
    if not tokens:
        return Command(sub.name)
    if len(tokens) > 1:
        _fail(sub, "help takes at most one subcommand name.")
    topic = _LOOKUP.get(_word(tokens[0]).lower())
    if topic is None:
        raise _unknown(_word(tokens[0]))
    return Command(sub.name, topic=topic.name)


# --- the table -----------------------------------------------------------------------------------
_HELP_USAGE = "help [subcommand]"
_HELP_HEADER = (
    "Incident commands. In an incident's channel the incident is implied; elsewhere add INC-n."
)
_TABLE = (
    Subcommand("declare", "declare <title> [P1..P4] [@commander]",
               "Declare a new incident; without a severity the policy's default applies.",
               _build_declare, (), 'declare "Checkout is down" P1 @alice',
               'declare needs a title, for example: declare "Checkout is down" P1.'),
    Subcommand("list", "list [open|all]", "List open incidents, or all of them.",
               _build_list, (), "list all"),
    Subcommand("show", "show [INC-n]", "Show an incident: status, roles and latest updates.",
               _build_ref_only, (), "show INC-12"),
    Subcommand("update", "update [INC-n] <text>",
               "Post a status update to the channel, the announcement and the status page.",
               _build_text, (), "update INC-12 Payments are flowing again; watching error rates.",
               "update needs the text of the status update."),
    Subcommand("note", "note [INC-n] <text>", "Add a note to the timeline.",
               _build_text, (), "note INC-12 Rolled back deploy 4711",
               "note needs the text of the note."),
    Subcommand("severity", "severity [INC-n] <P1..P4>",
               "Change the severity, which re-routes announcements and paging.",
               _build_severity, ("sev",), "severity INC-12 P2",
               f"severity needs a level: {_LEVELS}."),
    Subcommand("status", "status [INC-n] <investigating|identified|monitoring|resolved>",
               "Move the incident along its lifecycle (mitigated means monitoring).",
               _build_status, (), "status INC-12 monitoring",
               f"status needs a state: {_STATES}."),
    Subcommand("commander", "commander [INC-n] @user", "Hand command to someone else.",
               _build_role, ("lead", "ic"), "commander INC-12 @bob",
               "commander needs the new commander as an @mention, like @alice."),
    Subcommand("role", "role [INC-n] <commander|deputy|scribe|comms> @user",
               "Give someone a role.", _build_role, (), "role INC-12 scribe @carol",
               f"role needs a role: {_ROLES}."),
    Subcommand("join", "join [INC-n]", "Join the incident's channel.",
               _build_ref_only, (), "join INC-12"),
    Subcommand("ack", "ack [INC-n]", "Acknowledge a page: you are on it.",
               _build_ref_only, ("acknowledge",), "ack INC-12"),
    Subcommand("action", "action [INC-n] <text> [@owner]",
               "Record a follow-up action item, with an optional owner at the end.",
               _build_text, ("todo",), "action INC-12 Add an alert on queue depth @dave",
               "action needs a description of the task, before the optional @owner."),
    Subcommand("resolve", "resolve [INC-n] [summary]", "Resolve the incident, with a summary.",
               _build_text, (), "resolve INC-12 Cache node replaced"),
    Subcommand("reopen", "reopen [INC-n]", "Reopen a resolved incident.",
               _build_ref_only, (), "reopen INC-12"),
    Subcommand("postmortem", "postmortem [INC-n]", "Post the Markdown post-mortem.",
               _build_ref_only, ("pm", "post-mortem"), "postmortem INC-12"),
    Subcommand("oncall", "oncall [override @person <from> <to> [schedule]]",
               "Who is on call now and next; an admin may put someone else on call for a while.",
               _build_oncall, (), "oncall override @alice now +8h primary",
               'oncall override needs the person as an @mention, like @alice.'),
    Subcommand("alerts", "alerts",
               "List the alert groups firing now: id, title, alerts and incident.",
               _build_bare, (), "alerts"),
    Subcommand("help", _HELP_USAGE, "Show this help, or the details of one subcommand.",
               _build_help, ("?",), "help declare"),
)  # fmt: skip

SUBCOMMANDS: Mapping[str, Subcommand] = MappingProxyType({sub.name: sub for sub in _TABLE})
_LOOKUP = {word: sub for sub in _TABLE for word in (sub.name, *sub.aliases)}  # words -> row
