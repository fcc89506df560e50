"""Discord application commands, generated from the one command table, and read back.

:func:`command_definitions` turns :data:`tocsin.domain.commands.SUBCOMMANDS` into ``/incident``
and ``/inc`` with one subcommand per row and typed options read off each usage line:

=====================================  ==================================================
usage token                            Discord option
=====================================  ==================================================
``[INC-n]``                            ``incident`` (string, optional: the channel may imply it)
``<title>``, ``<text>``, ``[summary]``  string of that name (the domain's length limits)
``[P1..P4]`` / ``<P1..P4>``            ``severity`` (``level`` in the severity subcommand)
``<a|b|c>``                            choices: ``state``, ``role``, ``scope`` or ``visibility``
``<name>...`` (components)             ``components``, names separated by commas (``none``)
``@user``, ``[@commander]``, ...       a user option of that name
``[subcommand]``                       ``subcommand``, one choice per subcommand
=====================================  ==================================================

``oncall`` and ``maintenance`` have their own options
(:mod:`tocsin.platforms.discord.command_options`: ``oncall``'s ``person``, ``from``, ``to`` and
``schedule`` are its override form), and ``summary``'s ``text`` takes up to 2,000 characters
(``clear`` removes the summary, no text shows it). A new usage token fails loudly here (and in
the unit tests) instead of registering a command that cannot be typed. Required options come
first, as Discord wants.
:func:`command_from` reads an interaction's options back into a
:class:`~tocsin.domain.commands.Command`; it only translates (the services decide everything),
raising :class:`ParseError` with the usage line when a value cannot be what the option says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tocsin.chat.payloads import obj
from tocsin.domain.command_forms import (
    VISIBILITY_WORDS,
    components_command,
    summary_command,
    visibility_word,
)
from tocsin.domain.commands import (
    MAX_PUBLIC_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
    SUBCOMMANDS,
    Command,
    Mention,
    Subcommand,
)
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Role, Severity, Status
from tocsin.domain.references import incident_reference
from tocsin.platforms.discord.command_options import (
    SPECIAL_OPTIONS,
    STRING,
    SUB_COMMAND,
    USER,
    Option,
    display_name,
    maintenance_command,
    oncall_command,
)

__all__ = [
    "COMMAND_NAMES", "DECLARE_FROM_MESSAGE", "MESSAGE_COMMAND", "NOTE_FROM_MESSAGE", "STRING",
    "SUB_COMMAND", "USER", "command_definitions", "command_from", "display_name", "options_of",
]  # fmt: skip

COMMAND_NAMES = ("incident", "inc")
DECLARE_FROM_MESSAGE = "Declare incident"
NOTE_FROM_MESSAGE = "Add to timeline"
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
GUILD_ONLY = {"contexts": [0], "integration_types": [0]}

_TOKEN_RE = re.compile(r"\[[^\]]+\]|<[^>]+>|@\w+")
_CHOICE_NAMES = {
    frozenset(s.value for s in Status): "state",
    frozenset(r.value for r in Role): "role",
    frozenset({"open", "all"}): "scope",
    frozenset(VISIBILITY_WORDS): "visibility",
}
_TEXTS = {"title": MAX_TITLE, "text": MAX_TEXT, "summary": MAX_TEXT}
_SUB_DESCRIPTIONS = {
    ("summary", "text"): 'The public summary; "clear" removes it, nothing shows it',
    ("components", "components"): "The components it affects, separated by commas; none for none",
}
_SUB_LIMITS = {("summary", "text"): MAX_PUBLIC_SUMMARY}


def _option(sub: Subcommand, token: str) -> Option:
    required = not token.startswith("[")
    inner = token.strip("[]<>")
    if inner == "INC-n":
        return Option("incident", STRING, required)
    if inner.startswith("@"):
        return Option(inner[1:], USER, required)
    if inner == "P1..P4":
        name = "level" if sub.name == "severity" else "severity"
        choices = tuple((f"{s.value} · {s.label}", s.value) for s in Severity)
        return Option(name, STRING, required, choices)
    if "|" in inner:
        words = inner.split("|")
        named = _CHOICE_NAMES.get(frozenset(words))
        if named is None:
            raise ValueError(f"no Discord option name for {token!r} in {sub.usage!r}")
        return Option(named, STRING, required, tuple((w, w) for w in words))
    if inner == "name" and sub.name == "components":
        described = _SUB_DESCRIPTIONS[("components", "components")]
        return Option("components", STRING, required, max_length=1000, description=described)
    if inner == "subcommand":
        return Option(inner, STRING, required, tuple((n, n) for n in SUBCOMMANDS))
    if inner in _TEXTS:
        limit = _SUB_LIMITS.get((sub.name, inner), _TEXTS[inner])
        described = _SUB_DESCRIPTIONS.get((sub.name, inner), "")
        return Option(inner, STRING, required, max_length=limit, description=described)
    raise ValueError(f"no Discord option for {token!r} in {sub.usage!r}")


def options_of(sub: Subcommand) -> list[Option]:
    """The options of one subcommand, required ones first (in usage order otherwise)."""
    if sub.name in SPECIAL_OPTIONS:
        return list(SPECIAL_OPTIONS[sub.name])
    words = sub.usage.split(maxsplit=1)
    found = [_option(sub, token) for token in _TOKEN_RE.findall(words[1] if len(words) > 1 else "")]
    return sorted(found, key=lambda option: not option.required)


def command_definitions() -> list[dict[str, Any]]:
    """The bulk-overwrite body: ``/incident``, ``/inc`` and two message commands."""
    subcommands = []
    for sub in SUBCOMMANDS.values():
        entry: dict[str, Any] = {
            "type": SUB_COMMAND,
            "name": sub.name,
            "description": sub.summary[:100],
        }
        options = [option.definition() for option in options_of(sub)]
        if options:
            entry["options"] = options
        subcommands.append(entry)
    chat = [
        {
            "type": CHAT_INPUT,
            "name": name,
            "description": "Declare and run incidents with tocsin"
            if name == "incident"
            else "Short for /incident",
            "options": subcommands,
            **GUILD_ONLY,
        }
        for name in COMMAND_NAMES
    ]
    menus = [
        {"type": MESSAGE_COMMAND, "name": name, **GUILD_ONLY}
        for name in (DECLARE_FROM_MESSAGE, NOTE_FROM_MESSAGE)
    ]
    return chat + menus


# --- reading an interaction back ------------------------------------------------------------
def _values(options: Any) -> dict[str, Any]:
    if not isinstance(options, list):
        return {}
    return {str(o.get("name")): o.get("value") for o in options if isinstance(o, Mapping)}


def _choice(sub: Subcommand, kind: type[Any], value: Any, what: str) -> Any:
    try:
        return kind(str(value))
    except ValueError:
        raise ParseError(f'"{value}" is not a {what}.', sub.usage) from None


def _text(sub: Subcommand, values: Mapping[str, Any]) -> str:
    for name, limit in _TEXTS.items():
        if values.get(name) is not None:
            text = str(values[name]).strip()
            if name == "title":
                text = " ".join(text.split())
            if len(text) > limit:
                raise ParseError(
                    f"The {name} is {len(text)} characters long; keep it to {limit} or fewer.",
                    sub.usage,
                )
            return text
    return ""


def _incident(sub: Subcommand, value: Any) -> int | None:
    if value is None or not str(value).strip():
        return None
    return incident_reference(str(value), sub.usage)


def _person(values: Mapping[str, Any], resolved: Mapping[str, Any]) -> Mention | None:
    for name in ("commander", "owner", "user"):
        user_id = values.get(name)
        if user_id:
            return Mention(str(user_id), display_name(str(user_id), resolved))
    return None


def command_from(data: Mapping[str, Any]) -> Command:
    """The command an ``/incident <subcommand>`` interaction asks for."""
    options = data.get("options")
    first = options[0] if isinstance(options, list) and options else {}
    first = first if isinstance(first, Mapping) else {}
    sub = SUBCOMMANDS.get(str(first.get("name") or ""))
    if sub is None or first.get("type") != SUB_COMMAND:
        raise ParseError('Pick a subcommand, for example "/incident help".', "help [subcommand]")
    values = {k: v for k, v in _values(first.get("options")).items() if v not in (None, "")}
    if sub.name == "maintenance":
        return maintenance_command(sub, values)
    if sub.name == "oncall":
        return oncall_command(sub, values, obj(data, "resolved"))
    for option in options_of(sub):
        if option.required and option.name not in values:
            raise ParseError(sub.needs or f"{sub.name} needs {option.name}.", sub.usage)
    text = _text(sub, values)
    incident = _incident(sub, values.get("incident"))
    if sub.name == "summary":
        return summary_command(sub, incident, text)
    if sub.name == "visibility":
        return Command(
            sub.name, incident=incident, verb=visibility_word(sub, str(values["visibility"]))
        )
    if sub.name == "components":
        return components_command(sub, incident, [str(values["components"])])
    if not text and sub.needs and any(name in values for name in ("title", "text")):
        raise ParseError(sub.needs, sub.usage)
    role = values.get("role")
    severity = values.get("severity") or values.get("level")
    return Command(
        sub.name,
        incident=incident,
        text=text,
        severity=_choice(sub, Severity, severity, "severity") if severity else None,
        status=_choice(sub, Status, values["state"], "status") if "state" in values else None,
        role=_choice(sub, Role, role, "role")
        if role
        else (Role.COMMANDER if sub.name == "commander" else None),
        person=_person(values, obj(data, "resolved")),
        scope=str(values.get("scope") or "open"),
        topic=_topic(sub, values.get("subcommand")),
    )


def _topic(sub: Subcommand, value: Any) -> str:
    """``help``'s subcommand option: one of the choices offered, or a ParseError."""
    topic = str(value or "")
    if topic and topic not in SUBCOMMANDS:
        raise ParseError(f'"{topic[:40]}" is not a subcommand.', sub.usage)
    return topic
