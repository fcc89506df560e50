"""A generic signed webhook: each delivery is one JSON POST to ``TOCSIN_WEBHOOK_URL``.

The receiver gets::

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <the outbox row's idempotency key; the same on every retry>
    X-Tocsin-Timestamp: <unix seconds>
    X-Tocsin-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

    {"id": ..., "kind": ..., "incident": ..., "attempt": ..., "payload": {...}}

Verify the signature over the raw bytes with :func:`signature` and reject old timestamps; a
receiver that keeps the ``Idempotency-Key`` of what it processed turns tocsin's at-least-once
retries into exactly-once effects. Answers are classified like every destination's: 2xx is
delivered, 408/429/5xx and network errors are retried, other 4xx are dead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx

from tocsin.config import Settings
from tocsin.delivery.base import Delivery, RemoteRefs, Sent
from tocsin.delivery.errors import raise_for_response

SIGNATURE_HEADER = "X-Tocsin-Signature"
TIMESTAMP_HEADER = "X-Tocsin-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Tocsin-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` at ``timestamp`` (constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: str | None = None,
        *,
        destination: str = "webhook",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.destination = destination
        self.url = url
        self.secret = secret
        self.clock = clock
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout)

    def body(self, delivery: Delivery) -> bytes:
        data = {
            "id": delivery.idempotency_key,
            "kind": delivery.kind,
            "incident": delivery.incident,
            "attempt": delivery.attempts + 1,
            "payload": dict(delivery.payload),
        }
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        body = self.body(delivery)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, timestamp, body)
        response = await self.client.post(self.url, content=body, headers=headers)
        raise_for_response(response)
        return Sent(remote_ids={"status": str(response.status_code)})

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()


def build_webhook_sender(settings: Settings, policy: object = None) -> WebhookSender | None:
    """The webhook sender when TOCSIN_WEBHOOK_URL is set."""
    if not settings.webhook_url:
        return None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return WebhookSender(settings.webhook_url, secret)
