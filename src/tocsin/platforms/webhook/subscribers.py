"""Status-page webhook subscribers: each ``subscriber_webhook`` row is one signed JSON POST.

The receiver gets::

    POST <the subscriber's URL>
    Content-Type: application/json
    Idempotency-Key: <the outbox row's key; the same on every retry>
    X-Tocsin-Signature: sha256=<hex HMAC-SHA256(the subscriber's secret, raw body)>

    {"meta": {...}, "page": {...}, "incident": {...}}   or   "component" + "component_update"

The document, the URL and the secret come from :attr:`SubscriberWebhookSender.resolve` (set by
the composition root to services/subscribers.py's ``webhook_request``), so secrets never sit in
outbox rows. A subscriber removed or unsubscribed meanwhile gets nothing (the row is skipped).
Answers are classified like every destination's (delivery/errors.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx

from tocsin.delivery.base import Delivery, RemoteRefs, RetryableError, Sent, Skip
from tocsin.delivery.errors import raise_for_response
from tocsin.platforms.webhook.sender import SIGNATURE_HEADER


class Request(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def secret(self) -> str: ...
    @property
    def body(self) -> bytes: ...


Resolver = Callable[[Mapping[str, Any]], Awaitable[Request | None]]


def body_signature(secret: str, body: bytes) -> str:
    """The ``X-Tocsin-Signature`` of a subscriber webhook: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SubscriberWebhookSender:
    destination = "subscriber_webhook"

    def __init__(self, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self.resolve: Resolver | None = None

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        if self.resolve is None:
            raise RetryableError("the subscriber webhook sender is not wired to the services")
        request = await self.resolve(delivery.payload)
        if request is None:
            raise Skip("the subscriber is gone or no longer confirmed")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
            SIGNATURE_HEADER: body_signature(request.secret, request.body),
        }
        response = await self.client.post(request.url, content=request.body, headers=headers)
        raise_for_response(response)
        return Sent(remote_ids={"status": str(response.status_code)})

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
