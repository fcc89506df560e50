"""What one step of a person's notification rule sends, pure.

When the paging service pages someone with a ``[[person]]`` entry, each step of their rule for
the page's severity (:func:`~tocsin.domain.notify.rule_for`) becomes effects at its delay:

- ``"slack"`` / ``"discord"``: the usual ``page_dm`` with its Acknowledge button, to the
  person's id on that platform (when that platform is switched on);
- an Apprise URL: a ``notify`` row for destination ``apprise:<scheme>``
  (:func:`contact_destination`), naming the person and the contact, never the URL (the sender
  reads it from the policy file), with a title and a plain-text body;
- ``mailto:``: nothing yet (mail is the email platform's; see docs/oncall.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from tocsin.domain.effects import Effect
from tocsin.domain.model import Incident
from tocsin.domain.notify.people import DM_CONTACTS, Person
from tocsin.domain.paging import dm_effect

__all__ = ["APPRISE", "NOTIFY", "contact_destination", "notify_body", "step_effects"]

APPRISE = "apprise"
NOTIFY = "notify"


def contact_destination(url: str) -> str | None:
    """The outbox destination of a contact URL (``apprise:ntfy``); None for ``mailto:``."""
    scheme = url.partition("://")[0].lower()
    if url.lower().startswith("mailto:") or not scheme:
        return None
    return f"{APPRISE}:{scheme}"


def notify_body(text: str, ack_url: str | None, dashboard: str | None) -> str:
    """The body of a notification that cannot carry buttons: the page's words and where to
    acknowledge."""
    lines = [text.replace("Press Acknowledge", "Acknowledge")]
    if ack_url:
        lines.append(f"Acknowledge: {ack_url}")
    if dashboard:
        lines.append(f"Incident: {dashboard}")
    return "\n\n".join(lines)


def step_effects(
    incident: Incident,
    person: Person,
    contact: str,
    base: Mapping[str, Any],
    key: str,
    destinations: Collection[str],
    ack_url: str | None = None,
) -> list[Effect]:
    """The effects of one step (``contact``) of ``person``'s rule; ``key`` makes them unique
    (the page and the step), ``base`` is the page's payload (``text``, ``incident``, levels)."""
    if contact in DM_CONTACTS:
        user = next((i for i in person.ids if i.startswith(f"{contact}:")), None)
        if contact not in destinations or user is None:
            return []
        return [dm_effect(user, base, key, incident.number, person.name)]
    url = person.contacts.get(contact)
    destination = contact_destination(url) if url else None
    if destination is None:
        return []
    snap = dict(base.get("incident") or {})
    payload = {
        "person": person.id,
        "contact": contact,
        "title": f"{incident.ref} ({incident.severity}): {incident.title}"[:250],
        "body": notify_body(str(base.get("text", "")), ack_url, str(snap.get("url") or "")),
        "incident": snap,
    }
    return [Effect(destination, NOTIFY, payload, f"{destination}:{key}"[:200], incident.number,
                   ordering_key=f"{destination}:{person.id}"[:200])]  # fmt: skip
