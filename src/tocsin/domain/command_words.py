"""The words of the command language: the tokenizer and the readers every builder shares
(:mod:`tocsin.domain.command_builders`, :mod:`tocsin.domain.command_forms`). The rules they
follow are listed in :mod:`tocsin.domain.commands`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NoReturn

from tocsin.domain.command_types import Mention, Subcommand, Token
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Role, Severity, Status
from tocsin.domain.references import quoted as show
from tocsin.domain.references import reference_in

TOKEN_RE = re.compile(
    r'"(?P<dq>[^"]*+)"(?=\s|\Z)'
    r"|'(?P<sq>(?:[^'\s]|'(?=\S)|\s(?!'))*+)'(?=\s|\Z)"
    r"|“(?P<cq>[^”]*+)”(?=\s|\Z)"
    r"|‘(?P<csq>[^’]*+)’(?=\s|\Z)"
    r"|<@[^<>\r\n]*+>(?=\s|\Z)"  # a mention, even with spaces in the display name
    r"|\S+"
)
_SEVERITY_RE = re.compile(r"(?:sev(?:erity)?[:=-]?p?|p)([1-4])", re.IGNORECASE)
_MENTION_RE = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|([^<>|]*))?>|@((?:[a-z]+:)?\w(?:[\w.\-]*\w)?)")
SPACE_RE = re.compile(r"\s+")
_NOT_PEOPLE = frozenset({"here", "channel", "everyone"})
STATUS_WORDS: Mapping[str, Status] = {
    **{status.value: status for status in Status},
    "mitigated": Status.MONITORING,
}
ROLE_WORDS: Mapping[str, Role] = {
    **{role.value: role for role in Role},
    "ic": Role.COMMANDER,
    "lead": Role.COMMANDER,
}
LEVELS = "P1 (critical), P2 (high), P3 (moderate) or P4 (low)"
STATES = "investigating, identified, monitoring or resolved"
ROLES = "commander, deputy, scribe or comms"


def tokens_of(text: str) -> list[Token]:
    return list(TOKEN_RE.finditer(text))


def word(token: Token) -> str:
    """The token without its quotes."""
    group = token.lastgroup
    return token[0] if group is None else token[group]


def ref(sub: Subcommand, token: Token) -> int | None:
    """The incident an ``INC-n`` token names; fails for a number no incident can have."""
    return None if token.lastgroup else reference_in(token[0], sub.usage)


def severity_of(token: Token, bare: bool = False) -> Severity | None:
    if token.lastgroup:
        return None
    match = _SEVERITY_RE.fullmatch(token[0])
    if match:
        return Severity(f"P{match[1]}")
    if bare and token[0] in ("1", "2", "3", "4"):
        return Severity(f"P{token[0]}")
    return None


def mention(token: Token) -> Mention | None:
    match = None if token.lastgroup else _MENTION_RE.fullmatch(token[0])
    if match is None:
        return None
    if match[1]:
        return Mention(match[1], (match[2] or "").strip())
    return None if match[3].lower() in _NOT_PEOPLE else Mention(match[3])


def join(text: str, tokens: list[Token]) -> str:
    """The text the tokens cover, as typed; one quoted token loses its quotes."""
    if not tokens:
        return ""
    if len(tokens) == 1 and tokens[0].lastgroup:
        return word(tokens[0]).strip()
    return text[tokens[0].start() : tokens[-1].end()].strip()


def fail(sub: Subcommand, message: str) -> NoReturn:
    raise ParseError(message, sub.usage)


def check_length(sub: Subcommand, what: str, value: str, limit: int) -> str:
    if len(value) > limit:
        fail(sub, f"The {what} is {len(value)} characters long; keep it to {limit} or fewer.")
    return value


def scan(
    sub: Subcommand, tokens: list[Token], people: bool = True
) -> tuple[int | None, Mention | None, list[Token]]:
    """Take one ``INC-n`` and (if ``people``) one mention from anywhere; keep the rest."""
    incident: int | None = None
    person: Mention | None = None
    rest = []
    for token in tokens:
        number, who = ref(sub, token), mention(token)
        if number is not None:
            if incident is not None:
                fail(sub, f"Name one incident, not two (INC-{incident} and INC-{number}).")
            incident = number
        elif who is not None:
            if not people:
                fail(sub, f"{sub.name} does not take a person.")
            if person is not None:
                fail(sub, "Name one person, not two.")
            person = who
        else:
            rest.append(token)
    return incident, person, rest


def only(sub: Subcommand, text: str, rest: list[Token]) -> Token:
    """The one token left after :func:`scan`; fails with ``sub.needs`` when there is none."""
    if not rest:
        fail(sub, sub.needs)
    if len(rest) > 1:
        fail(sub, f"{sub.name} takes one value here, not {show(join(text, rest))}.")
    return rest[0]
