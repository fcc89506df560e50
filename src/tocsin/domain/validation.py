"""The one declare validator: every surface (Slack modal, Discord form, dashboard, REST API)
hands it the raw field values and shows its answer in its own way.

:func:`check_declare` returns a :class:`Declaration` (the cleaned values) or :class:`Invalid`
(field name -> one sentence). The rules, the same everywhere:

* ``title``: whitespace collapses; required; at most ``MAX_TITLE`` characters.
* ``severity``: ``P1``..``P4``. Missing or blank means "the policy's default" (``None``; the
  declare service applies ``default_severity``, see docs/policy.md). Anything else is an error
  on ``severity``, never silently dropped.
* ``description``: trimmed; optional; at most ``MAX_TEXT`` characters.
* ``commander``: optional; one platform user id or ``@name`` (a leading ``@`` is dropped), no
  spaces, at most ``MAX_PERSON`` characters. Empty means the declarer leads.

Values that are not text (a number for a title) are errors on their field as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Command, Mention
from tocsin.domain.model import Severity

MAX_PERSON = 200
_T = TypeVar("_T")

TITLE_MISSING = "Give the incident a title, for example: Checkout is down."
SEVERITY_UNKNOWN = "Choose a severity from P1 (critical) to P4 (low)."
COMMANDER_INVALID = "Name one person as the commander, like @alice."
NOT_TEXT = "Write this as text."


def too_long(what: str, limit: int) -> str:
    """The sentence for a value over its limit."""
    return f"Keep the {what} to {limit} characters or fewer."


@dataclass(frozen=True, slots=True)
class Declaration:
    """A valid declaration; ``severity=None`` means the policy's default applies."""

    title: str
    severity: Severity | None = None
    description: str = ""
    commander: Mention | None = None

    def command(self) -> Command:
        """The ``declare`` command the services run."""
        return Command("declare", text=self.title, severity=self.severity, person=self.commander)


@dataclass(frozen=True, slots=True)
class Invalid:
    """What is wrong, by field name (``title``, ``severity``, ``description``, ``commander``)."""

    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """All the problems as one paragraph, in field order."""
        return " ".join(self.errors.values())


class _FieldError(Exception):
    pass


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _FieldError(NOT_TEXT)
    return raw


def check_title(raw: object) -> str:
    title = " ".join(_text(raw).split())
    if not title:
        raise _FieldError(TITLE_MISSING)
    if len(title) > MAX_TITLE:
        raise _FieldError(too_long("title", MAX_TITLE))
    return title


def check_severity(raw: object) -> Severity | None:
    if isinstance(raw, Severity):
        return raw
    chosen = _text(raw).strip()
    if not chosen:
        return None
    if chosen not in Severity.__members__:
        raise _FieldError(SEVERITY_UNKNOWN)
    return Severity(chosen)


def check_description(raw: object) -> str:
    description = _text(raw).strip()
    if len(description) > MAX_TEXT:
        raise _FieldError(too_long("description", MAX_TEXT))
    return description


def check_person(raw: object, display_name: str = "") -> Mention | None:
    if isinstance(raw, Mention):
        return raw
    user_id = _text(raw).strip().removeprefix("@")
    if not user_id:
        return None
    if len(user_id) > MAX_PERSON or len(user_id.split()) != 1:
        raise _FieldError(COMMANDER_INVALID)
    return Mention(user_id, display_name)


def check_declare(
    *,
    title: object,
    severity: object = None,
    description: object = "",
    commander: object = None,
    commander_name: str = "",
) -> Declaration | Invalid:
    """The cleaned declaration, or every field that is wrong (see the module's rules)."""
    errors: dict[str, str] = {}

    def checked(name: str, check: Callable[[], _T], fallback: _T) -> _T:
        try:
            return check()
        except _FieldError as exc:
            errors[name] = str(exc)
            return fallback

    declaration = Declaration(
        checked("title", lambda: check_title(title), ""),
        checked("severity", lambda: check_severity(severity), None),
        checked("description", lambda: check_description(description), ""),
        checked("commander", lambda: check_person(commander, commander_name), None),
    )
    return Invalid(errors) if errors else declaration
