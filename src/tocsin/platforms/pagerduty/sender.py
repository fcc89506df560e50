"""The PagerDuty sender: Events API v2, ``POST {TOCSIN_PAGERDUTY_API_URL}/v2/enqueue``.

Routing (:mod:`tocsin.domain.routing`) queues ``trigger`` when an incident's severity pages (on
declare, an upgrade, a reopen), ``acknowledge`` when someone acknowledges and ``resolve`` on
resolve or a downgrade below paging. Every event of an incident carries the same deterministic
``dedup_key``, ``tocsin-INC-<n>``: PagerDuty merges a repeated trigger into the open alert, so a
retried (or twice-delivered) trigger pages once, and acknowledge/resolve address that alert.

Answers: 202 is delivered (PagerDuty echoes the ``dedup_key``, kept on the outbox row); 429 and
5xx are retried (``Retry-After`` honoured); 400 (an invalid event) and other 4xx are dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from tocsin.config import Settings
from tocsin.delivery.base import Delivery, PermanentError, RemoteRefs, Sent
from tocsin.delivery.errors import raise_for_response

ACTIONS = ("trigger", "acknowledge", "resolve")
# Incident severity → PagerDuty event severity (critical, error, warning or info).
SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}
SUMMARY_LIMIT = 1024


def dedup_key(number: int | str) -> str:
    """The key of every event of incident ``number``: ``tocsin-INC-<n>``."""
    return f"tocsin-INC-{number}"


def event_body(routing_key: str, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Events v2 body for ``action`` on the incident in ``payload`` (a routing payload)."""
    snap: Mapping[str, Any] = payload.get("incident") or {}
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(snap.get("number", "0")),
    }
    if action != "trigger":
        return body
    ref, severity = str(snap.get("ref", "")), str(snap.get("severity", ""))
    summary = f"{ref} ({severity}): {snap.get('title', '')}"[:SUMMARY_LIMIT]
    commander = snap.get("commander") or {}
    body["payload"] = {
        "summary": summary,
        "source": "tocsin",
        "severity": SEVERITY.get(severity, "error"),
        "timestamp": str(snap.get("declared_at") or payload.get("at") or ""),
        "component": ref,
        "class": "incident",
        "custom_details": {
            "incident": ref,
            "title": snap.get("title", ""),
            "severity": severity,
            "status": snap.get("status", ""),
            "commander": commander.get("display_name") or commander.get("user_id") or "",
            "event": payload.get("text", ""),
        },
    }
    body["client"] = "tocsin"
    url = str(snap.get("url") or "")
    if url:
        body["client_url"] = url
        body["links"] = [{"href": url, "text": f"{ref} in tocsin"}]
    return body


class PagerDutySender:
    """Implements :class:`tocsin.delivery.base.Sender` for ``pagerduty``."""

    destination = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        api_url: str = "https://events.pagerduty.com",
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.routing_key = routing_key
        self.url = api_url.rstrip("/") + "/v2/enqueue"
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs
        if delivery.kind not in ACTIONS:
            raise PermanentError(f"the PagerDuty sender does not know {delivery.kind!r} events")
        body = event_body(self.routing_key, delivery.kind, delivery.payload)
        response = await self.client.post(self.url, json=body)
        raise_for_response(response)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        echoed = answer.get("dedup_key") if isinstance(answer, dict) else None
        return Sent(remote_ids={"dedup_key": str(echoed or body["dedup_key"])})

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()


def build_pagerduty_sender(settings: Settings, policy: object = None) -> PagerDutySender | None:
    """The sender when TOCSIN_PAGERDUTY_ROUTING_KEY is set."""
    del policy
    if settings.pagerduty_routing_key is None:
        return None
    key = settings.pagerduty_routing_key.get_secret_value()
    return PagerDutySender(key, settings.pagerduty_api_url)
