"""Request bodies and query strings of the REST API, validated with pydantic.

Types are strict where a client could mean something else (a number is not a title); lengths are
the command language's limits. Every text is checked as sent, exactly as the OpenAPI document
says (``maxLength`` counts every character, whitespace included), and a required text must hold
something besides whitespace (``pattern: \\S``); the server then trims surrounding whitespace
before using it. No text may contain U+0000 (PostgreSQL cannot store it; see
:func:`~tocsin.adapters.web.api.parsing.nul_fields`). People are written ``platform:user_id``
(``slack:U0ALICE``), without whitespace; a bare name means someone on the caller's own platform
(``web`` for dashboard users, ``api`` for tokens), and a leading ``@`` is ignored. Integers are
at most :data:`MAX_INT`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)

from tocsin.domain.commands import MAX_PUBLIC_SUMMARY, MAX_TEXT, MAX_TITLE, Mention
from tocsin.domain.model import Role, Severity, Status
from tocsin.domain.validation import MAX_PERSON

MAX_INT = 2**31 - 1
"""The largest integer any parameter or field takes (incident numbers are 32-bit columns)."""


def _trimmed(value: str) -> str:
    return value.strip()


def _not_blank(value: str) -> str:
    trimmed = value.strip()
    if not trimmed:
        raise ValueError("must contain something besides whitespace")
    return trimmed


_SOMETHING = {"pattern": r"\S"}  # what _not_blank checks, as the OpenAPI document says it

Text = Annotated[
    StrictStr,
    Field(min_length=1, max_length=MAX_TEXT, json_schema_extra=_SOMETHING),
    AfterValidator(_not_blank),
]
OptionalText = Annotated[StrictStr, Field(max_length=MAX_TEXT), AfterValidator(_trimmed)]
Short = Annotated[
    StrictStr,
    Field(min_length=1, max_length=200, json_schema_extra=_SOMETHING),
    AfterValidator(_not_blank),
]
OptionalShort = Annotated[StrictStr, Field(max_length=200), AfterValidator(_trimmed)]
Reason = Annotated[StrictStr, Field(max_length=500), AfterValidator(_trimmed)]
Person = Annotated[
    StrictStr, StringConstraints(min_length=1, max_length=MAX_PERSON, pattern=r"^@?\S+$")
]


_TITLE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_TITLE, **_SOMETHING}
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

    title: Annotated[StrictStr, Field(max_length=MAX_TITLE), WithJsonSchema(_TITLE_SCHEMA)]
    severity: Annotated[StrictStr, WithJsonSchema(_SEVERITY_SCHEMA)] | None = None
    commander: Annotated[StrictStr, WithJsonSchema(_PERSON_SCHEMA)] | None = None
    description: Annotated[
        StrictStr, Field(max_length=MAX_TEXT), WithJsonSchema(_DESCRIPTION_SCHEMA)
    ] = ""


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


class PublicSummaryBody(Body):
    """The public post-mortem summary: plain text, line breaks kept (docs/status-page.md)."""

    text: Annotated[
        StrictStr,
        Field(min_length=1, max_length=MAX_PUBLIC_SUMMARY, json_schema_extra=_SOMETHING),
        AfterValidator(_not_blank),
    ]


class EmptyBody(Body):
    """No fields; the body may be empty or ``{}``."""


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["open", "resolved", "all"] = Field(
        "open", description="open (the default), resolved or all"
    )
    severity: Severity | None = Field(None, description="only this severity")
    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    offset: int = Field(0, ge=0, le=MAX_INT, description="how many to skip (see next_offset)")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    before: int | None = Field(
        None, ge=1, le=MAX_INT, description="only entries older than this seq (see next_before)"
    )


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    state: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,16}$")] | None = Field(
        None, description="only rows in this state (pending, delivered, dead, ...)"
    )
    limit: int = Field(50, ge=1, le=200, description="page size, 1 to 200")
    offset: int = Field(0, ge=0, le=MAX_INT, description="how many to skip (see next_offset)")
