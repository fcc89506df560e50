"""Request bodies and query strings of the REST API, validated with pydantic.

Types are strict where a client could mean something else (a number is not a title); texts are
trimmed and must not be blank; lengths are the command language's limits. People are written
``platform:user_id`` (``slack:U0ALICE``); a bare name means someone on the caller's own platform
(``web`` for dashboard users, ``api`` for tokens), and a leading ``@`` is ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints, WithJsonSchema

from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Mention
from tocsin.domain.model import Role, Severity, Status
from tocsin.domain.validation import MAX_PERSON

Text = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
OptionalText = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
Person = Annotated[
    StrictStr,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_PERSON, pattern=r"^@?\S+$"
    ),
]


_TITLE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_TITLE}
_SEVERITY_SCHEMA = {"type": "string", "enum": [s.value for s in Severity]}
_PERSON_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_PERSON, "pattern": r"^@?\S+$"}
_DESCRIPTION_SCHEMA = {"type": "string", "maxLength": MAX_TEXT}


def mention(person: str | None) -> Mention | None:
    """A person as the services take it (``platform:user_id`` or a bare name)."""
    return Mention(person.removeprefix("@")) if person else None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclareBody(Body):
    """Declare an incident. Without a severity the policy's default applies; without a
    commander the caller takes command. Only the types are checked here; the values are
    checked by the domain's declare validator, like on every other surface."""

    title: Annotated[StrictStr, WithJsonSchema(_TITLE_SCHEMA)]
    severity: Annotated[StrictStr, WithJsonSchema(_SEVERITY_SCHEMA)] | None = None
    commander: Annotated[StrictStr, WithJsonSchema(_PERSON_SCHEMA)] | None = None
    description: Annotated[StrictStr, WithJsonSchema(_DESCRIPTION_SCHEMA)] = ""


class UpdateBody(Body):
    """A status update for the channel, the announcement and the status page."""

    text: Text


class NoteBody(Body):
    """A note on the timeline."""

    text: Text


class SeverityBody(Body):
    severity: Severity


class StatusBody(Body):
    """``resolved`` works too, without a summary (``/resolve`` takes one)."""

    status: Status


class RoleBody(Body):
    """Give ``role`` to ``person``; ``commander`` hands over command."""

    role: Role
    person: Person


class ActionBody(Body):
    """A follow-up action item, with an optional owner."""

    text: Text
    owner: Person | None = None


class ResolveBody(Body):
    summary: OptionalText = ""


class EmptyBody(Body):
    """No fields; the body may be empty or ``{}``."""


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["open", "resolved", "all"] = Field(
        "open", description="open (the default), resolved or all"
    )
    severity: Severity | None = Field(None, description="only this severity")
    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    offset: int = Field(0, ge=0, description="how many to skip (see next_offset)")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    before: int | None = Field(
        None, ge=1, description="only entries older than this seq (see next_before)"
    )


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    state: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,16}$")] | None = Field(
        None, description="only rows in this state (pending, delivered, dead, ...)"
    )
    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    offset: int = Field(0, ge=0, description="how many to skip (see next_offset)")
