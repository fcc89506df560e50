"""What the Slack handlers share: the platform name, the 400 error, the actor of a request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.chat.payloads import Malformed
from tocsin.domain.model import Actor

PLATFORM = "slack"


class BadRequest(Malformed):
    """What Slack sent cannot be understood (HTTP 400)."""


def actor_of(user: Any, name: str = "") -> Actor:
    """The Slack user behind a request (``{"id": ..., "username": ...}``)."""
    if not isinstance(user, Mapping) or not user.get("id"):
        raise BadRequest("no user in the payload")
    shown = name or str(user.get("username") or user.get("name") or "")
    return Actor(PLATFORM, str(user["id"]), shown)
