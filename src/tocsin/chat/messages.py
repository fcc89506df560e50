"""Neutral outgoing messages and replies: what Slack and Discord both render.

A :class:`Message` is built once by :mod:`tocsin.chat.texts` or :mod:`tocsin.chat.notices` (in
the platform's markup, through a :class:`Style`) and rendered by each adapter: Block Kit in Slack,
embeds and components in Discord. A :class:`Reply` answers an incoming command; ``public`` says
whether the channel sees it or only the caller (ephemeral). A reply may instead ask the platform
to open the declare form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tocsin.domain.commands import Mention
from tocsin.domain.model import Severity

# Button actions every platform offers on an announcement.
JOIN = "join"
ACK = "ack"
UPDATE = "update"
RESOLVE = "resolve"
# Buttons on a proposed alert group (value: the group's id).
ALERT_ACK = "alert_ack"
ALERT_DECLARE = "alert_declare"
ALERT_SILENCE_HOURS = {"alert_silence_1h": 1, "alert_silence_4h": 4, "alert_silence_24h": 24}

Person = Mapping[str, Any]  # an Actor.to_dict(): platform, user_id, display_name


class Style(Protocol):
    """A platform's markup: how to name a person, escape user text, and emphasise."""

    platform: str

    def mention(self, person: Person | None) -> str: ...

    def escape(self, text: str) -> str: ...

    def bold(self, text: str) -> str: ...

    def code(self, text: str) -> str: ...

    def link(self, url: str, label: str) -> str: ...

    def channel(self, channel_id: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Button:
    """A button on a message; ``action`` is one of the names above, ``value`` the incident."""

    action: str
    label: str
    value: str
    style: str = ""  # "primary", "danger" or ""
    confirm: str = ""  # a question asked before the action runs ("" = none)


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Message:
    """A message in the platform's markup. ``text`` is always set (notifications, fallbacks)."""

    text: str
    title: str = ""
    body: str = ""
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str = ""


@dataclass(frozen=True, slots=True)
class DeclareForm:
    """Ask the platform to open the declare form, prefilled with what was typed."""

    title: str = ""
    severity: Severity | None = None
    commander: Mention | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to an incoming command."""

    message: Message
    public: bool = False
    form: DeclareForm | None = None
    document: str = ""  # long Markdown to show after the message (the post-mortem)
    command: str = ""  # the subcommand that ran ("" when it could not be parsed)
    outcome: str = "allowed"  # allowed | denied | error (for metrics)
