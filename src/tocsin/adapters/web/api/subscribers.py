"""``/api/v1/subscribers``: the status page's subscribers for admins (docs/status-page.md).

Rows of the same shape as :data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS` (served and
described the same way, by ``app.py`` and ``openapi.py``): list, add (an email address, confirmed
at once, or a webhook URL, whose signing secret the answer shows this once), remove.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictStr
from starlette.responses import Response

from tocsin.adapters.web.api.endpoints import Call, Endpoint, json_response
from tocsin.adapters.web.api.parsing import path_id
from tocsin.adapters.web.api.schemas import Body
from tocsin.services import subscribers as service
from tocsin.services.access.principal import acting_context
from tocsin.services.access.reads import require_admin
from tocsin.services.context import Context

Address = Annotated[StrictStr, Field(min_length=3, max_length=2000, pattern=r"\S")]
ComponentName = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"\S")]


class SubscriberBody(Body):
    """An email address or an http(s) webhook URL; ``components`` limits what it hears of."""

    address: Address
    components: Annotated[tuple[ComponentName, ...], Field(max_length=50)] = ()


def _admin(call: Call, what: str) -> Context:
    """The context to act in, once the caller is known to be an admin (403 otherwise)."""
    require_admin(call.ctx, call.principal, what)
    return acting_context(call.ctx, call.principal)


async def list_subscribers(call: Call) -> Response:
    ctx = _admin(call, "see the status page's subscribers")
    rows = await service.list_subscribers(ctx, call.principal.actor)
    return json_response({"items": [r.to_dict() for r in rows]})


async def add_subscriber(call: Call) -> Response:
    ctx = _admin(call, "add status page subscribers")
    body: SubscriberBody = call.body
    added = await service.add_subscriber(ctx, call.principal.actor, body.address, body.components)
    view = {**added.subscriber.to_dict(), "secret": added.secret}
    location = f"/api/v1/subscribers/{added.subscriber.id}"
    return json_response(view, 201, {"Location": location})


async def remove_subscriber(call: Call) -> Response:
    ctx = _admin(call, "remove status page subscribers")
    found = path_id(call.request, "id", "a subscriber id")
    if isinstance(found, Response):
        return found
    await service.remove_subscriber(ctx, call.principal.actor, found)
    return json_response({"message": f"Removed subscriber #{found}."})


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR: dict[str, Any] = {"type": "string"}
_SUBSCRIBER = _obj(
    ["id", "kind", "address", "components", "state"],
    id={"type": "integer"}, kind={"enum": ["email", "webhook"]}, address=_STR,
    components={"type": "array", "items": _STR},
    state={"enum": ["pending", "confirmed", "bounced", "unsubscribed"]},
    created_at={"type": "string", "format": "date-time"},
    confirmed_at={"type": ["string", "null"], "format": "date-time"}, last_error=_STR,
)  # fmt: skip
SUBSCRIBER_SCHEMAS: dict[str, Any] = {
    "Subscriber": _SUBSCRIBER,
    "SubscriberList": _obj(["items"], items={"type": "array", "items": _SUBSCRIBER}),
    "SubscriberAdded": {
        "allOf": [_SUBSCRIBER, _obj(["secret"], secret={"type": ["string", "null"]})]
    },
}

SUBSCRIBER_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/subscribers", "listSubscribers",
             "The status page's subscribers: email addresses and webhooks (admins).",
             list_subscribers, "admin", returns="SubscriberList", tag="status", errors=(403,)),
    Endpoint("POST", "/v1/subscribers", "addSubscriber",
             "Add an email subscriber (confirmed at once) or a webhook; a webhook's signing "
             "secret is in this answer only (admins; audited).",
             add_subscriber, "admin", SubscriberBody, status=201, returns="SubscriberAdded",
             tag="status", errors=(403, 409)),
    Endpoint("DELETE", "/v1/subscribers/{id}", "removeSubscriber",
             "Remove a subscriber (admins; audited).",
             remove_subscriber, "admin", returns="Message", tag="status", errors=(403,)),
)  # fmt: skip
