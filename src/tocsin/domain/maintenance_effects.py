"""The outside effects of a scheduled maintenance's changes, as plain data (outbox rows).

* **Statuspage** (``statuspage``, kind ``maintenance``): every change mirrors the maintenance as
  a scheduled incident (``scheduled_for``, ``scheduled_until``, status scheduled, in_progress or
  completed, its components under maintenance while it runs); a cancel deletes it there.
* **Announce channels** (``slack`` and ``discord``, kind ``notice``): one message when it is
  created, when it starts and when it ends, in each platform's announce channel.

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
ANNOUNCED = (CREATED, STARTED, COMPLETED)
CHAT = ("slack", "discord")
UNDER_MAINTENANCE, OPERATIONAL = "under_maintenance", "operational"


def ref(m: Maintenance) -> str:
    """What the Statuspage incident's ``metadata.tocsin.ref`` names it by."""
    return f"MAINT-{m.id}"


def _stamp(m: Maintenance) -> str:
    return m.updated_at.isoformat() if m.updated_at else ""


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


def notice(m: Maintenance, event: str) -> dict[str, Any]:
    """What the announce channels are told (see :func:`tocsin.chat.texts.maintenance_notice`)."""
    return {
        "event": event,
        "id": m.id,
        "title": m.title,
        "components": list(m.components),
        "start": m.starts_at.isoformat(),
        "end": m.ends_at.isoformat(),
        "description": m.description,
    }


def plan(m: Maintenance, event: str, destinations: frozenset[str]) -> list[Effect]:
    """The outbox rows for ``event`` (one of the names above) of ``m``."""
    effects: list[Effect] = []
    suffix = f"{m.id}:{event}:{_stamp(m)}"
    if "statuspage" in destinations:
        effects.append(
            Effect("statuspage", "maintenance", {"statuspage": statuspage_fields(m)},
                   key=f"statuspage:maintenance:{suffix}",
                   ordering_key=f"statuspage:maintenance:{m.id}")
        )  # fmt: skip
    if event in ANNOUNCED:
        for chat in (d for d in CHAT if d in destinations):
            effects.append(
                Effect(chat, "notice", {"maintenance": notice(m, event)},
                       key=f"{chat}:maintenance:{suffix}",
                       ordering_key=f"{chat}:maintenance:{m.id}")
            )  # fmt: skip
    return effects
