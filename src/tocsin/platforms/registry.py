"""Which sender carries out deliveries for which destination, built from the settings.

:data:`SENDERS` names each destination's builder, ``build_<destination>_sender(settings,
policy)`` in ``tocsin/platforms/<destination>/sender.py``, which returns a
:class:`~tocsin.delivery.base.Sender`, or None when the destination's credentials are not set.
Adding a platform is its folder and one line here. :data:`SENDER_GROUPS` names builders that
return several senders, one per destination: the Apprise contact methods, one destination per URL
scheme in the policy file (``apprise:ntfy``), each with its own worker and circuit breaker.
Only destinations with a sender get a worker. Rows for a destination without one stay
``pending``: they are shown by ``tocsin deliveries list`` and the ``outbox_pending`` metric, a
process that has the credentials (another replica, or this one after a restart) delivers them,
and rows older than TOCSIN_DELIVERY_MAX_AGE go dead instead of being sent late.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from tocsin.config import Settings
from tocsin.delivery.base import Sender
from tocsin.domain.policy import Policy
from tocsin.platforms.apprise.sender import build_apprise_senders
from tocsin.platforms.discord.sender import build_discord_sender
from tocsin.platforms.email.sender import build_email_sender
from tocsin.platforms.pagerduty.sender import build_pagerduty_sender
from tocsin.platforms.slack.sender import build_slack_sender
from tocsin.platforms.statuspage.sender import build_statuspage_sender
from tocsin.platforms.webhook.sender import build_webhook_sender

log = structlog.get_logger("tocsin.delivery")

Factory = Callable[[Settings, Policy], Sender | None]
GroupFactory = Callable[[Settings, Policy], Mapping[str, Sender]]

SENDERS: dict[str, Factory] = {
    "slack": build_slack_sender,
    "discord": build_discord_sender,
    "statuspage": build_statuspage_sender,
    "pagerduty": build_pagerduty_sender,
    "webhook": build_webhook_sender,
    "email": build_email_sender,
}
SENDER_GROUPS: dict[str, GroupFactory] = {
    "apprise": build_apprise_senders,
}
DESTINATIONS = (*SENDERS, *SENDER_GROUPS)


def find_factory(destination: str) -> Factory | None:
    """The destination's sender builder, or None when there is no such sender."""
    return SENDERS.get(destination)


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
        if destination in SENDER_GROUPS:
            senders.update(SENDER_GROUPS[destination](settings, policy))
            continue
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
