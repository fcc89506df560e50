"""Turning a mention in a command into an actor on the caller's platform, the people of the
policy file with their stored edits (:func:`current`), and as the API shows them (contacts
masked). Editing them is :mod:`tocsin.services.person_edits`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tocsin.domain.commands import Mention
from tocsin.domain.model import Actor
from tocsin.domain.notify import Person
from tocsin.domain.person_edits import current_people
from tocsin.domain.policy import Policy
from tocsin.services.ports import UnitOfWork


def person_from(actor: Actor, mention: Mention | None) -> Actor | None:
    """``@U123`` typed in Slack is a Slack user; ``@slack:U123`` names the platform explicitly
    (useful from the CLI and the API)."""
    if mention is None:
        return None
    platform, sep, user_id = mention.user_id.partition(":")
    if sep and platform in {"slack", "discord", "web", "api", "cli"} and user_id:
        return Actor(platform, user_id, mention.display_name)
    return Actor(actor.platform, mention.user_id, mention.display_name)


async def current(uow: UnitOfWork, policy: Policy) -> tuple[Person, ...]:
    """The policy file's people with their stored edits applied (the file is the base, the
    edits win)."""
    if not policy.people:
        return ()
    return current_people(policy.people, await uow.people.edits())


def people_view(people: Iterable[Person]) -> dict[str, Any]:
    """``{"items": [person]}``; every contact URL masked (``mask_url``): the full URLs carry
    tokens and are never shown back."""
    return {
        "items": [
            {
                "id": p.id,
                "also": list(p.also),
                "name": p.name,
                "timezone": p.timezone,
                "contacts": dict(p.masked_contacts()),
                "default_rule": [str(step) for step in p.default_rule],
                "urgent_rule": [str(step) for step in p.urgent_rule],
            }
            for p in people
        ]
    }
