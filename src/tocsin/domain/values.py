"""The incident's value objects: severities, statuses, roles, actors and timeline entries.

:class:`~tocsin.domain.model.Incident` (domain/model.py) is built from these and re-exports them,
so callers import every one of them from :mod:`tocsin.domain.model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """P1 (critical) to P4 (low)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def label(self) -> str:
        return _SEVERITY_LABELS[self]

    @property
    def rank(self) -> int:
        """1 for P1 (most severe) to 4 for P4."""
        return int(self.value[1])


_SEVERITY_LABELS = {
    Severity.P1: "critical",
    Severity.P2: "high",
    Severity.P3: "moderate",
    Severity.P4: "low",
}


class Status(StrEnum):
    """Lifecycle states, named as Statuspage names them."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def order(self) -> int:
        return _STATUS_ORDER.index(self)


_STATUS_ORDER = [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED]


class Role(StrEnum):
    """Incident roles. Exactly one commander once assigned; at most one person per role."""

    COMMANDER = "commander"
    DEPUTY = "deputy"
    SCRIBE = "scribe"
    COMMS = "comms"


class Platform(StrEnum):
    """Where an actor came from."""

    SLACK = "slack"
    DISCORD = "discord"
    WEB = "web"
    API = "api"
    CLI = "cli"


_KEY_RE = re.compile(r"^(?P<platform>[a-z]+):(?P<user_id>.+)$")


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or token) acting on tocsin: platform, user id and a display name."""

    platform: str
    user_id: str
    display_name: str = ""

    @property
    def key(self) -> str:
        """Stable identity, ``platform:user_id``; the display name is not part of it."""
        return f"{self.platform}:{self.user_id}"

    @property
    def name(self) -> str:
        return self.display_name or self.user_id

    def same_person(self, other: Actor | None) -> bool:
        return other is not None and self.key == other.key

    @classmethod
    def from_key(cls, key: str, display_name: str = "") -> Actor:
        """Parse ``platform:user_id`` (as written in the policy file)."""
        match = _KEY_RE.match(key)
        if match is None:
            raise ValueError(f"{key!r} is not of the form platform:user_id")
        return cls(match["platform"], match["user_id"], display_name)

    def to_dict(self) -> dict[str, str]:
        return {
            "platform": self.platform,
            "user_id": self.user_id,
            "display_name": self.display_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actor:
        return cls(str(data["platform"]), str(data["user_id"]), str(data.get("display_name", "")))


class EntryKind(StrEnum):
    """What a timeline entry records."""

    DECLARED = "declared"
    UPDATE = "update"
    NOTE = "note"
    SEVERITY = "severity"
    STATUS = "status"
    ROLE = "role"
    JOINED = "joined"
    ACKNOWLEDGED = "acknowledged"
    ACTION = "action"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    POSTMORTEM = "postmortem"
    VISIBILITY = "visibility"  # made public or private on the status page
    COMPONENTS = "components"  # the status page components it affects changed
    PUBLIC_SUMMARY = "public_summary"  # domain/public_summary.py: published, changed, removed


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an incident's history: what happened, who did it, when."""

    at: datetime
    actor: Actor
    kind: EntryKind
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ActionItem:
    """A follow-up task recorded during an incident."""

    number: int
    text: str
    owner: Actor | None
    created_by: Actor
    created_at: datetime
    done: bool = False
