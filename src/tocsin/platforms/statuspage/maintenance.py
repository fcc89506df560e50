"""Scheduled maintenance mirrored to Statuspage.io as a scheduled incident (outbox kind
``maintenance``; fields from :func:`tocsin.domain.maintenance_effects.statuspage_fields`).

The first row creates it (``POST /incidents`` with ``scheduled_for``, ``scheduled_until``,
status ``scheduled`` and ``metadata.tocsin.ref = MAINT-n``); later rows ``PATCH`` its status,
window, name, components and text; a cancelled maintenance is deleted there. A maintenance has
no incident to keep refs on, so the Statuspage id is found again each time (this process's
memory first, then the page's upcoming and active maintenances, matched on the metadata ref),
which also means nothing is created twice after a lost answer. A maintenance already completed
there is not looked for again (tocsin sends nothing after completion). tocsin drives the
transitions itself (its own timers), so Statuspage's automatic ones are left off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tocsin.delivery.base import Delivery, RemoteRefs, Sent, Skip

if TYPE_CHECKING:
    from tocsin.platforms.statuspage.sender import StatuspageSender

MAX_NAME = 255


SEARCHES = ("/incidents/upcoming", "/incidents/active_maintenance")


async def _existing(sender: StatuspageSender, fields: Mapping[str, Any]) -> str | None:
    """Its Statuspage id: remembered, or found among the upcoming and active maintenances."""
    ref = str(fields["ref"])
    if ref in sender._created:
        return sender._created[ref]
    for path in SEARCHES:
        for item in await sender.api.request("GET", path, params={"per_page": 100}) or []:
            meta = item.get("metadata") if isinstance(item, Mapping) else None
            tag = meta.get("tocsin") if isinstance(meta, Mapping) else None
            if isinstance(tag, Mapping) and tag.get("ref") == ref:
                return str(item["id"])
    return None


def _body(fields: Mapping[str, Any], components: Mapping[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": str(fields["name"])[:MAX_NAME],
        "status": str(fields["status"]),
        "impact_override": "maintenance",
        "scheduled_for": str(fields["scheduled_for"]),
        "scheduled_until": str(fields["scheduled_until"]),
        "body": str(fields.get("body") or ""),
    }
    if components:
        body["components"] = dict(components)
        body["component_ids"] = list(components)
    return body


async def mirror(
    sender: StatuspageSender, delivery: Delivery, fields: Mapping[str, Any], refs: RemoteRefs
) -> Sent:
    """Bring the Statuspage scheduled incident to the maintenance's state."""
    statuses = dict(fields.get("components") or {})
    ids, _found = await sender._component_ids(statuses, refs)
    components = {ids[name]: status for name, status in statuses.items() if name in ids}
    incident_id = await _existing(sender, fields)
    if fields.get("deleted"):
        if incident_id is None:
            raise Skip("the maintenance is not on Statuspage")
        await sender.api.request("DELETE", f"/incidents/{incident_id}")
        sender._created.pop(str(fields["ref"]), None)
        return Sent(remote_ids={"deleted": incident_id})
    body = _body(fields, components)
    if incident_id is not None:
        await sender.api.request("PATCH", f"/incidents/{incident_id}", json={"incident": body})
        return Sent(remote_ids={"incident": incident_id})
    body["metadata"] = {"tocsin": {"ref": str(fields["ref"])}}
    body["deliver_notifications"] = True
    body["scheduled_auto_in_progress"] = False
    body["scheduled_auto_completed"] = False
    created = await sender.api.request("POST", "/incidents", json={"incident": body})
    sender._created[str(fields["ref"])] = str(created["id"])
    return Sent(remote_ids={"incident": str(created["id"])})
