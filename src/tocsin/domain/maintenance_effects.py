"""The outside effects of a scheduled maintenance's changes, as plain data (outbox rows).

* **Statuspage** (``statuspage``, kind ``maintenance``): every change mirrors the maintenance as
  a scheduled incident (``scheduled_for``, ``scheduled_until``, status scheduled, in_progress or
  completed, its components under maintenance while it runs); a cancel deletes it there.
* **Announce channels** (``slack`` and ``discord``, kind ``notice``): one message when it is
  created, when it starts and when it ends, when it is cancelled, and when an edit changes what
  people plan around (:func:`edit_event`: its window, ``rescheduled``; its title or components,
  ``updated``); an edit of the description alone is mirrored but not announced.

All rows of one maintenance share an ordering key per destination, so they go out in order.
"""

from __future__ import annotations

from typing import Any

from tocsin.domain import maintenance as rules
from tocsin.domain.effects import Effect
from tocsin.domain.maintenance import Maintenance

CREATED, EDITED, STARTED, COMPLETED, CANCELLED = (
    "created", "edited", "started", "completed", "cancelled",
)  # fmt: skip
RESCHEDULED, UPDATED = "rescheduled", "updated"  # edits that change what people plan around
CHANGES = (RESCHEDULED, UPDATED)
ANNOUNCED = (CREATED, STARTED, COMPLETED, CANCELLED, *CHANGES)
CHAT = ("slack", "discord")
UNDER_MAINTENANCE, OPERATIONAL = "under_maintenance", "operational"


def ref(m: Maintenance) -> str:
    """What the Statuspage incident's ``metadata.tocsin.ref`` names it by."""
    return f"MAINT-{m.id}"


def _stamp(m: Maintenance) -> str:
    return m.updated_at.isoformat() if m.updated_at else ""


def edit_event(before: Maintenance, after: Maintenance) -> str:
    """What an edit is worth telling: ``rescheduled`` when the window moved, ``updated`` when
    only the title or the components changed, else ``edited`` (the description alone, or
    nothing: mirrored to Statuspage, told to nobody)."""
    if (before.starts_at, before.ends_at) != (after.starts_at, after.ends_at):
        return RESCHEDULED
    if (before.title, before.components) != (after.title, after.components):
        return UPDATED
    return EDITED


def statuspage_fields(m: Maintenance) -> dict[str, Any]:
    """The whole public state of ``m`` for the Statuspage sender."""
    status = m.status if m.status != rules.CANCELLED else rules.SCHEDULED
    component = UNDER_MAINTENANCE if m.status == rules.IN_PROGRESS else OPERATIONAL
    return {
        "ref": ref(m),
        "name": m.title,
        "status": status,
        "scheduled_for": m.starts_at.isoformat(),
        "scheduled_until": m.ends_at.isoformat(),
        "body": rules.SENTENCES.get(m.status) or m.description or m.title,
        "components": dict.fromkeys(m.components, component),
        "deleted": m.status == rules.CANCELLED,
    }


def notice(m: Maintenance, event: str, before: Maintenance | None = None) -> dict[str, Any]:
    """What the announce channels are told (see :func:`tocsin.chat.notices.maintenance_notice`);
    for an edit, ``was`` holds the fields it changed as they were in ``before``."""
    told: dict[str, Any] = {
        "event": event,
        "id": m.id,
        "title": m.title,
        "components": list(m.components),
        "start": m.starts_at.isoformat(),
        "end": m.ends_at.isoformat(),
        "description": m.description,
    }
    if before is not None and event in CHANGES:
        was: dict[str, Any] = {}
        if (before.starts_at, before.ends_at) != (m.starts_at, m.ends_at):
            was.update(start=before.starts_at.isoformat(), end=before.ends_at.isoformat())
        if before.title != m.title:
            was["title"] = before.title
        if before.components != m.components:
            was["components"] = list(before.components)
        told["was"] = was
    return told


def plan(
    m: Maintenance, event: str, destinations: frozenset[str], before: Maintenance | None = None
) -> list[Effect]:
    """The outbox rows for ``event`` (one of the names above) of ``m``; ``before`` is ``m`` as
    it was before an edit."""
    effects: list[Effect] = []
    suffix = f"{m.id}:{event}:{rules.revision(m) if event in CHANGES else _stamp(m)}"
    if "statuspage" in destinations:
        effects.append(
            Effect("statuspage", "maintenance", {"statuspage": statuspage_fields(m)},
                   key=f"statuspage:maintenance:{suffix}",
                   ordering_key=f"statuspage:maintenance:{m.id}")
        )  # fmt: skip
    if event in ANNOUNCED:
        for chat in (d for d in CHAT if d in destinations):
            effects.append(
                Effect(chat, "notice", {"maintenance": notice(m, event, before)},
                       key=f"{chat}:maintenance:{suffix}",
                       ordering_key=f"{chat}:maintenance:{m.id}")
            )  # fmt: skip
    return effects
