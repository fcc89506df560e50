"""How each incident subcommand reads its words into a :class:`Command` (the table in
:mod:`tocsin.domain.commands` names a builder per row; the rules are listed there)."""

from __future__ import annotations

from tocsin.domain.command_types import MAX_TEXT, MAX_TITLE, Command, Mention, Subcommand, Token
from tocsin.domain.command_words import (
    LEVELS,
    ROLE_WORDS,
    ROLES,
    SPACE_RE,
    STATES,
    STATUS_WORDS,
    check_length,
    fail,
    join,
    mention,
    only,
    ref,
    scan,
    severity_of,
    word,
)
from tocsin.domain.model import Role, Severity
from tocsin.domain.references import quoted as show
from tocsin.domain.references import reference_in


def build_declare(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    options = [severity_of(token) or mention(token) for token in tokens]
    lo, hi = 0, len(tokens)
    while lo < hi and options[lo] is not None:
        lo += 1
    while hi > lo and options[hi - 1] is not None:
        hi -= 1
    title = SPACE_RE.sub(" ", join(text, tokens[lo:hi]))
    if not title:
        fail(sub, sub.needs)
    severity: Severity | None = None
    person: Mention | None = None
    for option in options[:lo] + options[hi:]:
        if isinstance(option, Severity):
            if severity is not None:
                fail(sub, f"Give one severity, not two ({severity} and {option}).")
            severity = option
        else:
            if person is not None:
                fail(sub, "Name one commander, not two.")
            person = option
    check_length(sub, "title", title, MAX_TITLE)
    return Command(sub.name, text=title, severity=severity, person=person)


def build_text(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """update, note, action and resolve: ``[INC-n] <text>`` (action: ``[@owner]`` at the end)."""
    incident = ref(sub, tokens[0]) if tokens else None
    if incident is not None:
        tokens = tokens[1:]
    owner = None
    if sub.name == "action" and tokens:
        owner = mention(tokens[-1])
        if owner is not None:
            tokens = tokens[:-1]
    body = check_length(sub, "text", join(text, tokens), MAX_TEXT)
    if not body and sub.needs:
        fail(sub, sub.needs)
    return Command(sub.name, incident=incident, text=body, person=owner)


def build_ref_only(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """show, join, ack, reopen, postmortem: ``[INC-n]``."""
    if not tokens:
        return Command(sub.name)
    number = reference_in(tokens[0][0], sub.usage, loose=True) if len(tokens) == 1 else None
    if number is None:
        shown = show(join(text, tokens))
        fail(sub, f"{sub.name} takes only an incident reference such as INC-12, not {shown}.")
    return Command(sub.name, incident=number)


def build_severity(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    incident, _, rest = scan(sub, tokens, people=False)
    token = only(sub, text, rest)
    level = severity_of(token, bare=True)
    if level is None:
        fail(sub, f"{show(word(token))} is not a severity; use {LEVELS}.")
    return Command(sub.name, incident=incident, severity=level)


def build_status(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    incident, _, rest = scan(sub, tokens, people=False)
    token = only(sub, text, rest)
    status = STATUS_WORDS.get(word(token).lower())
    if status is None:
        fail(sub, f"{show(word(token))} is not a status; use {STATES}.")
    return Command(sub.name, incident=incident, status=status)


def build_role(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``role <role> @user`` and ``commander @user`` (whose role is implied)."""
    incident, person, rest = scan(sub, tokens)
    if sub.name == "commander":
        role: Role | None = Role.COMMANDER
        if rest:
            fail(sub, f"commander takes an @mention, not {show(join(text, rest))}.")
    else:
        role = ROLE_WORDS.get(word(only(sub, text, rest)).lower())
        if role is None:
            fail(sub, f"{show(word(rest[0]))} is not a role; use {ROLES}.")
    if person is None and sub.name == "commander":
        fail(sub, sub.needs)
    if person is None:
        fail(sub, f"role needs the person who takes the {role} role, as an @mention like @alice.")
    return Command(sub.name, incident=incident, role=role, person=person)


def build_list(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    if not tokens:
        return Command(sub.name)
    scope = word(tokens[0]).lower() if len(tokens) == 1 else ""
    if scope not in ("open", "all"):
        fail(sub, f'list shows "open" or "all" incidents, not {show(join(text, tokens))}.')
    return Command(sub.name, scope=scope)


def build_oncall(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``oncall`` alone, or ``oncall override @person <from> <to> [schedule]``."""
    if not tokens:
        return Command(sub.name)
    if word(tokens[0]).lower() != "override":
        fail(sub, f'oncall takes nothing after it, or "override", not {show(join(text, tokens))}.')
    person: Mention | None = None
    rest = []
    for token in tokens[1:]:
        who = mention(token)
        if who is None:
            rest.append(token)
        elif person is not None:
            fail(sub, "Name one person, not two.")
        else:
            person = who
    if person is None:
        fail(sub, sub.needs)
    if len(rest) not in (2, 3):
        fail(sub, "oncall override needs a start and an end, then optionally the schedule.")
    schedule = word(rest[2]).strip() if len(rest) == 3 else ""
    starts, ends = word(rest[0]).strip(), word(rest[1]).strip()
    return Command(sub.name, person=person, starts=starts, ends=ends, text=schedule)


def build_bare(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """alerts: nothing after the subcommand."""
    if tokens:
        fail(sub, f"{sub.name} takes nothing after it, not {show(join(text, tokens))}.")
    return Command(sub.name)
