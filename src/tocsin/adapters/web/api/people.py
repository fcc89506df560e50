"""``/api/v1/people/{person}/...``: editing people's contact methods and rules (docs/oncall.md,
"Editing people"). Rows of the same shape as
:data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS` (served and described the same way, by
``app.py`` and ``openapi.py``):

===============================================  =====  ======================================
``PUT /v1/people/{person}/contacts/{name}``      write  ``{"url"}``: add or replace a contact
``DELETE /v1/people/{person}/contacts/{name}``   write  remove a contact
``PUT /v1/people/{person}/rules/{rule}``         write  ``{"steps": [...]}``: the default or
                                                        urgent rule
===============================================  =====  ======================================

``{person}`` is an id, one of ``also`` or the name. An admin may edit anyone; anyone else only
the person whose ids include their own actor. Each answer is the person as ``GET /v1/people``
shows them, contact URLs masked; a bad edit is a 400 naming the field and stores nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr
from starlette.responses import Response

from tocsin.adapters.web.api.endpoints import Call, Endpoint, json_response
from tocsin.adapters.web.api.problems import problem
from tocsin.adapters.web.api.schemas import Body
from tocsin.domain.notify import MAX_STEPS, Person
from tocsin.services import person_edits as service
from tocsin.services.access.principal import WRITE, acting_context, has_scope
from tocsin.services.context import Context
from tocsin.services.people import people_view

Url = Annotated[StrictStr, Field(min_length=3, max_length=2000, pattern=r"^\S+$")]
Step = Annotated[StrictStr, Field(min_length=1, max_length=100)]


class ContactBody(Body):
    url: Url


class RuleBody(Body):
    steps: Annotated[tuple[Step, ...], Field(min_length=1, max_length=MAX_STEPS)]


def _acting(call: Call) -> Context | Response:
    if not has_scope(call.principal, WRITE):
        return problem("forbidden", "Changing people needs a write-scope token.")
    return acting_context(call.ctx, call.principal)


def _view(person: Person) -> Response:
    [item] = people_view([person])["items"]
    return json_response(item)


def _path(call: Call, name: str) -> str:
    return str(call.request.path_params[name])


async def set_contact(call: Call) -> Response:
    ctx = _acting(call)
    if isinstance(ctx, Response):
        return ctx
    body: ContactBody = call.body
    who, name = _path(call, "person"), _path(call, "name")
    return _view(await service.set_contact(ctx, call.principal.actor, who, name, body.url))


async def remove_contact(call: Call) -> Response:
    ctx = _acting(call)
    if isinstance(ctx, Response):
        return ctx
    who, name = _path(call, "person"), _path(call, "name")
    return _view(await service.remove_contact(ctx, call.principal.actor, who, name))


async def set_rule(call: Call) -> Response:
    ctx = _acting(call)
    if isinstance(ctx, Response):
        return ctx
    body: RuleBody = call.body
    who, rule = _path(call, "person"), _path(call, "rule")
    return _view(await service.set_rule(ctx, call.principal.actor, who, rule, body.steps))


_CONTACT = "/v1/people/{person}/contacts/{name}"
PEOPLE_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("PUT", _CONTACT, "setPersonContact",
             "Add or replace one of a person's contact methods (admins, or the person; "
             "audited, the URL masked).",
             set_contact, "write", ContactBody, returns="Person", tag="oncall",
             errors=(403, 404)),
    Endpoint("DELETE", _CONTACT, "removePersonContact",
             "Remove a contact method no rule uses any more (admins, or the person; audited).",
             remove_contact, "write", returns="Person", tag="oncall", errors=(403, 404)),
    Endpoint("PUT", "/v1/people/{person}/rules/{rule}", "setPersonRule",
             "Replace a person's default or urgent rule (admins, or the person; audited).",
             set_rule, "write", RuleBody, returns="Person", tag="oncall", errors=(403, 404)),
)  # fmt: skip
