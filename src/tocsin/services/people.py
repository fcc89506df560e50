"""Turning a mention in a command into an actor on the caller's platform."""

from __future__ import annotations

from tocsin.domain.commands import Mention
from tocsin.domain.model import Actor


def person_from(actor: Actor, mention: Mention | None) -> Actor | None:
    """``@U123`` typed in Slack is a Slack user; ``@slack:U123`` names the platform explicitly
    (useful from the CLI and the API)."""
    if mention is None:
        return None
    platform, sep, user_id = mention.user_id.partition(":")
    if sep and platform in {"slack", "discord", "web", "api", "cli"} and user_id:
        return Actor(platform, user_id, mention.display_name)
    return Actor(actor.platform, mention.user_id, mention.display_name)
