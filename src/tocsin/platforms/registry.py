"""Which sender carries out deliveries for which destination, built from the settings.

Each destination has a module ``tocsin.delivery.senders.<destination>`` with a function
``build_<destination>_sender(settings, policy)`` that returns a
:class:`~tocsin.delivery.base.Sender`, or None when the destination's credentials are not set.
Only destinations with a sender get a worker. Rows for a destination without one stay
``pending``: they are shown by ``tocsin deliveries list`` and the ``outbox_pending`` metric, a
process that has the credentials (another replica, or this one after a restart) delivers them,
and rows older than TOCSIN_DELIVERY_MAX_AGE go dead instead of being sent late.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import structlog

from tocsin.config import Settings
from tocsin.delivery.base import Sender
from tocsin.domain.policy import Policy

log = structlog.get_logger("tocsin.delivery")

DESTINATIONS = ("slack", "discord", "statuspage", "pagerduty", "webhook")

Factory = Callable[[Settings, Policy], Sender | None]


def find_factory(destination: str) -> Factory | None:
    """``build_<destination>_sender`` from its module, or None when there is no such sender."""
    name = f"tocsin.delivery.senders.{destination}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
    factory: Any = getattr(module, f"build_{destination}_sender", None)
    return factory if callable(factory) else None


def build_senders(
    settings: Settings,
    policy: Policy,
    *,
    destinations: tuple[str, ...] = DESTINATIONS,
    enabled: frozenset[str] = frozenset(),
) -> dict[str, Sender]:
    """A sender per destination whose credentials are set. ``enabled`` names destinations the
    planner writes rows for; one of those without a sender gets a warning line."""
    senders: dict[str, Sender] = {}
    for destination in destinations:
        factory = find_factory(destination)
        sender = factory(settings, policy) if factory is not None else None
        if sender is not None:
            senders[destination] = sender
        elif destination in enabled:
            log.warning(
                f"{destination} is enabled but this version has no sender for it; its "
                "deliveries wait in the outbox",
                destination=destination,
            )
    return senders
