"""The Statuspage.io sender: mirrors public incidents to a Statuspage page through the outbox.

Kinds (planned by :mod:`tocsin.domain.routing` with :func:`tocsin.domain.statuspage.sync_kind`;
each payload carries ``statuspage``: the public name, status, impact, update body and the
component statuses the incident sets):

``sync``       bring the Statuspage incident to the incident's public state. The first sync creates
               it (``POST /pages/{page}/incidents``) and returns at once, so the worker stores the
               returned id as the ``statuspage_incident`` ref before anything else can fail and be
               retried; later syncs ``PATCH`` name, status, impact, components and, for an
               ``update``, the update's text as a new incident update. A row older than the
               newest state synced (a dead row an operator retried later) only posts its text.
``unpublish``  the commander made a published incident private: its components go back to
               operational and the Statuspage incident is deleted.
``maintenance`` a scheduled maintenance, mirrored as a scheduled incident (``maintenance.py``).

Nothing is created twice: Statuspage takes no idempotency key, so when an earlier attempt may
have reached it (``maybe_sent``: a lease that ran out, a read timeout) the incident is looked up
first by the ``metadata.tocsin.ref`` it was created with, and an update whose text is already
there is not posted again. Component ids come from Statuspage's component list, matched by name,
and are kept as refs (``component:<name>``) and in memory. Requests go out at most one per 1.05 s
(Statuspage allows one per second per token); a 420 or 429 pauses this sender and the
destination's pacing for ``Retry-After`` (5 s when not given). Failures are classified as for
every destination (``delivery/errors.py``); a delivery that goes dead is reported in ``/health``
and in the incident's channel by :mod:`tocsin.services.statuspage_sync_failures`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import structlog

from tocsin import __version__
from tocsin.config import Settings
from tocsin.delivery.base import Delivery, PermanentError, RemoteRefs, RetryableError, Sent, Skip
from tocsin.delivery.errors import RATE_LIMITED, parse_retry_after, raise_for_response
from tocsin.delivery.pacing import TokenBucket
from tocsin.domain.policy import Policy
from tocsin.platforms.statuspage import maintenance

log = structlog.get_logger("tocsin.delivery.statuspage")

REF = "statuspage_incident"
VERSION = "synced_version"  # the newest incident version synced; older rows keep their hands off
RATE_LIMIT_PAUSE = 5.0  # seconds, when a 420/429 names no Retry-After
# Statuspage allows 1 request/s per token; keep 5 % under it so network jitter cannot make two
# requests arrive closer than a second apart.
RATE = 1 / 1.05
COMPONENT_TTL = 300.0  # seconds the component list is trusted before it is read again
RELOAD_ON_MISS = 30.0  # an unknown name reads the list again, at most this often
PAGE_SIZE = 100
MAX_PAGES = 20
MAX_NAME = 255


class Missing(Exception):
    """Statuspage answered 404: the incident (or page) is not there."""


def component_ref(name: str) -> str:
    """The ref name that keeps a component's Statuspage id (refs names are at most 64 long)."""
    if len(name) <= 54:
        return f"component:{name}"
    return f"component#{hashlib.sha256(name.encode()).hexdigest()[:40]}"


class StatuspageApi:
    """``/pages/{page_id}/...`` over httpx, paced to ``rate`` requests per second."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        page_id: str,
        *,
        rate: float = RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.page_id = page_id
        self.bucket = TokenBucket(rate, 1.0, clock)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        wait = self.bucket.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        response = await self.client.request(
            method, f"pages/{self.page_id}{path}", json=json, params=params
        )
        if response.status_code in RATE_LIMITED:
            pause = parse_retry_after(response.headers.get("retry-after")) or RATE_LIMIT_PAUSE
            self.bucket.pause(pause)
            raise RetryableError(f"HTTP {response.status_code}: Statuspage rate limit", pause)
        if response.status_code == 404:
            raise Missing(f"{method} {path}: 404")
        raise_for_response(response)
        return response.json() if response.content else None

    async def aclose(self) -> None:
        await self.client.aclose()


class StatuspageSender:
    """Implements :class:`tocsin.delivery.base.Sender` for ``statuspage``."""

    destination = "statuspage"

    def __init__(
        self,
        api: StatuspageApi,
        *,
        component_ttl: float = COMPONENT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.component_ttl = component_ttl
        self.clock = clock
        self._components: dict[str, str] = {}  # Statuspage component name -> id
        self._components_read = float("-inf")
        self._created: dict[str, str] = {}  # INC-n -> Statuspage id, created by this process

    async def aclose(self) -> None:
        await self.api.aclose()

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        fields = delivery.payload.get("statuspage")
        if not isinstance(fields, Mapping):
            raise PermanentError("the delivery has no status page fields to send")
        try:
            if delivery.kind == "sync":
                return await self._sync(delivery, fields, refs)
            if delivery.kind == "unpublish":
                return await self._unpublish(delivery, fields, refs)
            if delivery.kind == "maintenance":  # scheduled maintenance (maintenance.py)
                return await maintenance.mirror(self, delivery, fields, refs)
        except Missing as exc:
            raise PermanentError(f"Statuspage has no such page or item ({exc})") from None
        raise PermanentError(f"the Statuspage sender does not know {delivery.kind!r} deliveries")

    # --- sync ---------------------------------------------------------------------------------
    async def _known_id(
        self, delivery: Delivery, fields: Mapping[str, Any], refs: RemoteRefs
    ) -> str | None:
        ref = str(fields["ref"])
        incident_id = refs.get(REF) or self._created.get(ref)
        if not incident_id and delivery.maybe_sent:
            incident_id = await self._find(ref, str(fields["name"]))
        return incident_id or None

    async def _sync(self, delivery: Delivery, fields: Mapping[str, Any], refs: RemoteRefs) -> Sent:
        statuses = dict(fields.get("components") or {})
        statuses.update(dict.fromkeys(fields.get("released") or (), "operational"))
        ids, out = await self._component_ids(statuses, refs)
        components = {ids[name]: status for name, status in statuses.items() if name in ids}
        incident_id = await self._known_id(delivery, fields, refs)
        version = int(fields.get("version") or 0)
        latest = int(refs.get(VERSION) or 0)
        out[VERSION] = str(max(version, latest))
        if incident_id is not None:
            try:
                if version < latest:  # an old row retried late: its text, not its state
                    await self._post_text_only(incident_id, fields, delivery.maybe_sent)
                else:
                    await self._update(incident_id, fields, components, delivery.maybe_sent)
                return Sent(remote_ids={"incident": incident_id}, refs=out)
            except Missing:
                log.info("statuspage incident gone; creating it again", id=incident_id)
        return await self._create(fields, components, out)

    async def _post_text_only(
        self, incident_id: str, fields: Mapping[str, Any], maybe_sent: bool
    ) -> None:
        text = str(fields.get("body") or "")
        if not text or (maybe_sent and await self._already_posted(incident_id, text)):
            raise Skip("an older state than Statuspage already shows; nothing new to post")
        body = {"incident": {"body": text}}
        await self.api.request("PATCH", f"/incidents/{incident_id}", json=body)

    def _incident_fields(
        self, fields: Mapping[str, Any], components: Mapping[str, str]
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": str(fields["name"])[:MAX_NAME],
            "status": str(fields["status"]),
            "impact_override": str(fields["impact"]),
        }
        if components:
            body["components"] = dict(components)
            body["component_ids"] = list(components)
        return body

    async def _create(
        self, fields: Mapping[str, Any], components: Mapping[str, str], out: dict[str, str]
    ) -> Sent:
        ref = str(fields["ref"])
        body = self._incident_fields(fields, components)
        body["body"] = str(fields.get("body") or fields.get("opening") or "")
        body["metadata"] = {"tocsin": {"ref": ref}}
        body["deliver_notifications"] = True
        created = await self.api.request("POST", "/incidents", json={"incident": body})
        incident_id = str(created["id"])
        self._created[ref] = incident_id
        log.info("statuspage incident created", ref=ref, id=incident_id)
        # Return at once: the worker stores the id before anything else can fail and retry.
        return Sent(remote_ids={"incident": incident_id}, refs={**out, REF: incident_id})

    async def _update(
        self,
        incident_id: str,
        fields: Mapping[str, Any],
        components: Mapping[str, str],
        maybe_sent: bool,
    ) -> None:
        body = self._incident_fields(fields, components)
        text = str(fields.get("body") or "")
        if text and maybe_sent and await self._already_posted(incident_id, text):
            text = ""
        if text:
            body["body"] = text
        await self.api.request("PATCH", f"/incidents/{incident_id}", json={"incident": body})

    async def _already_posted(self, incident_id: str, text: str) -> bool:
        incident = await self.api.request("GET", f"/incidents/{incident_id}")
        updates = (incident or {}).get("incident_updates") or []
        return any(isinstance(u, Mapping) and u.get("body") == text for u in updates)

    async def _find(self, ref: str, name: str) -> str | None:
        """The Statuspage incident an earlier attempt created for ``ref``, if any."""
        searches: tuple[tuple[str, dict[str, Any]], ...] = (
            ("/incidents/unresolved", {"per_page": PAGE_SIZE}),
            ("/incidents", {"q": name[:MAX_NAME], "limit": PAGE_SIZE}),
        )
        for path, params in searches:
            for item in await self.api.request("GET", path, params=params) or []:
                meta = item.get("metadata") if isinstance(item, Mapping) else None
                tag = meta.get("tocsin") if isinstance(meta, Mapping) else None
                if isinstance(tag, Mapping) and tag.get("ref") == ref:
                    log.info("statuspage incident found from an earlier attempt", ref=ref)
                    return str(item["id"])
        return None

    # --- unpublish ----------------------------------------------------------------------------
    async def _unpublish(
        self, delivery: Delivery, fields: Mapping[str, Any], refs: RemoteRefs
    ) -> Sent:
        incident_id = await self._known_id(delivery, fields, refs)
        if incident_id is None:
            raise Skip("the incident is not on Statuspage")
        names = [*(fields.get("components") or {}), *(fields.get("released") or ())]
        ids, out = await self._component_ids(dict.fromkeys(names, "operational"), refs)
        try:
            if ids:
                back = dict.fromkeys(ids.values(), "operational")
                body = {"components": back, "component_ids": list(back)}
                await self.api.request(
                    "PATCH", f"/incidents/{incident_id}", json={"incident": body}
                )
            await self.api.request("DELETE", f"/incidents/{incident_id}")
        except Missing:
            log.info("statuspage incident already gone", id=incident_id)
        self._created.pop(str(fields["ref"]), None)
        return Sent(remote_ids={"deleted": incident_id}, refs={**out, REF: ""})

    # --- components ---------------------------------------------------------------------------
    async def _component_ids(
        self, statuses: Mapping[str, str], refs: RemoteRefs
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Statuspage ids of the named components, and the refs that keep newly found ones."""
        ids: dict[str, str] = {}
        out: dict[str, str] = {}
        for name in statuses:
            known = refs.get(component_ref(name))
            if known:
                ids[name] = known
        missing = [name for name in statuses if name not in ids]
        age = self.clock() - self._components_read
        unknown = any(self._match(name) is None for name in missing)
        if missing and (age > self.component_ttl or (unknown and age > RELOAD_ON_MISS)):
            await self._read_components()
        for name in missing:
            found = self._match(name)
            if found is None:
                log.warning("no Statuspage component by that name; not mirrored", component=name)
                continue
            ids[name] = out[component_ref(name)] = found
        return ids, out

    def _match(self, name: str) -> str | None:
        if name in self._components:
            return self._components[name]
        folded = name.casefold()
        return next((i for n, i in self._components.items() if n.casefold() == folded), None)

    async def _read_components(self) -> None:
        found: dict[str, str] = {}
        for page in range(1, MAX_PAGES + 1):
            params = {"page": page, "per_page": PAGE_SIZE}
            items = await self.api.request("GET", "/components", params=params) or []
            for item in items:
                if isinstance(item, Mapping) and not item.get("group"):
                    found[str(item.get("name", ""))] = str(item["id"])
            if len(items) < PAGE_SIZE:
                break
        self._components = found
        self._components_read = self.clock()


def build_statuspage_sender(settings: Settings, policy: Policy) -> StatuspageSender | None:
    """The sender for ``settings``, or None unless TOCSIN_STATUSPAGE_API_KEY and
    TOCSIN_STATUSPAGE_PAGE_ID are both set (found by the delivery registry)."""
    del policy
    key, page_id = settings.statuspage_api_key, settings.statuspage_page_id
    if key is None or not page_id:
        return None
    client = httpx.AsyncClient(
        base_url=settings.statuspage_api_url.rstrip("/") + "/",
        headers={
            "Authorization": f"OAuth {key.get_secret_value()}",
            "User-Agent": f"tocsin/{__version__}",
        },
        timeout=httpx.Timeout(10.0, connect=5.0),
    )
    return StatuspageSender(StatuspageApi(client, page_id))
