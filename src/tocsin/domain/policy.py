"""The policy: how each severity is routed, who may run what, schedules and escalations.

A policy is the built-in defaults (docs/policy.md: severities and permissions) with a TOML
file (``TOCSIN_POLICY_FILE``) laid over them: keys the file does not give keep the defaults.
:func:`tocsin.domain.policy_file.parse_policy` checks the whole file and raises one
:class:`~tocsin.domain.errors.PolicyError` listing every problem, one line each, written
``<file>: <key path>: <what is wrong>``. ``docs/policy.md`` is the reference for the file.

Admins (``[admins]``, per platform, plus whoever runs the local CLI) are allowed everything;
:func:`tocsin.domain.permissions.decide` makes the decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from tocsin.domain.alerts.routes import AlertRouter
from tocsin.domain.model import Actor, Platform, Severity
from tocsin.domain.permissions import (
    COMMANDS,
    DEFAULT_PERMISSIONS,
)

if TYPE_CHECKING:
    from tocsin.domain.monitors.model import Monitor
    from tocsin.domain.notify.people import Person

__all__ = [
    "COMMANDS", "DEFAULT_ESCALATION", "DEFAULT_PERMISSIONS", "DEFAULT_SEVERITIES", "Component",
    "Escalation", "Policy", "Schedule", "SeverityRule", "builtin_default_escalation",
    "default_policy",
]  # fmt: skip

PLATFORMS: tuple[str, ...] = tuple(platform.value for platform in Platform)
COMPONENT_STATUSES = ("degraded_performance", "partial_outage", "major_outage", "under_maintenance")
ROTATIONS = ("daily", "weekly", "hours")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_ESCALATION = "default"
CHANNEL_PLATFORMS = ("slack", "discord")

_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d"
HANDOFF_WEEKLY = re.compile(rf"(?:{'|'.join(WEEKDAYS)}) {_TIME}", re.IGNORECASE)
HANDOFF_DAILY = re.compile(_TIME)
PERSON = re.compile(r"(?P<platform>[a-z]+):\S+")


def _no_channels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SeverityRule:
    """How one severity is routed. ``escalation`` is set exactly when ``page`` is on.

    ``component_status`` is what affected status-page components are set to (when ``statuspage``
    is on); ``announce_channels`` maps a platform to a channel id that replaces that platform's
    announce channel for this severity.
    """

    announce: bool
    page: bool
    escalation: str | None
    statuspage: bool
    update_reminder_minutes: int | None
    component_status: str | None
    announce_channels: Mapping[str, str] = field(default_factory=_no_channels)


@dataclass(frozen=True, slots=True)
class Schedule:
    """An on-call rotation through ``members`` (``platform:user_id`` keys), in order.

    ``rotation`` is "daily", "weekly" or "hours" (then ``hours`` is the shift length);
    ``handoff`` is "monday 09:00" for weekly, "09:00" otherwise, local to ``timezone``.
    """

    name: str
    timezone: str
    rotation: str
    hours: int | None
    handoff: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Escalation:
    """Who is paged, level by level, until someone acknowledges.

    Targets are ``schedule:NAME`` (whoever is on call there) or ``platform:user_id``. After
    ``escalate_after_minutes`` without an acknowledgement the next level is paged; after the last
    level the whole ladder is walked again, ``repeat`` more times.
    """

    name: str
    levels: tuple[tuple[str, ...], ...]
    escalate_after_minutes: int = 5
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class Component:
    """A part of the service shown on the status page."""

    name: str
    description: str = ""


SYSTEM_PLATFORM = "tocsin"  # tocsin's own actions (alert routes, paging notes)


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy. Admins are allowed everything; see :meth:`is_admin`."""

    severities: Mapping[Severity, SeverityRule]
    permissions: Mapping[str, frozenset[str]]
    admins: Mapping[str, frozenset[str]]
    schedules: tuple[Schedule, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    components: tuple[Component, ...] = ()
    default_severity: Severity = Severity.P3
    alert_routes: AlertRouter = field(default_factory=AlertRouter)
    monitors: tuple[Monitor, ...] = ()
    people: tuple[Person, ...] = ()

    def rule(self, severity: Severity) -> SeverityRule:
        return self.severities[severity]

    def is_admin(self, actor: Actor) -> bool:
        """Listed under ``[admins]`` for the actor's platform, the local CLI user, or tocsin itself
        (platform ``tocsin``, which no surface gives a caller: the alert routes the policy file
        sets declare and resolve as it)."""
        if actor.platform in (Platform.CLI, SYSTEM_PLATFORM):
            return True
        ids = self.admins.get(actor.platform)
        return ids is not None and actor.user_id in ids

    def roles_allowed(self, command: str) -> frozenset[str]:
        """Roles that may run ``command``; empty (admins only) for an unknown command."""
        return self.permissions.get(command, frozenset())

    def escalation(self, name: str) -> Escalation | None:
        return next((e for e in self.escalations if e.name == name), None)

    def schedule(self, name: str) -> Schedule | None:
        return next((s for s in self.schedules if s.name == name), None)


DEFAULT_SEVERITIES: Mapping[Severity, SeverityRule] = MappingProxyType(
    {
        Severity.P1: SeverityRule(True, True, DEFAULT_ESCALATION, True, 15, "major_outage"),
        Severity.P2: SeverityRule(True, True, DEFAULT_ESCALATION, True, 30, "partial_outage"),
        Severity.P3: SeverityRule(True, False, None, False, 60, "degraded_performance"),
        Severity.P4: SeverityRule(False, False, None, False, None, None),
    }
)


def builtin_default_escalation(schedules: Sequence[Schedule]) -> Escalation:
    """The "default" escalation, used when the policy defines none by that name.

    One level: whoever is on call in every schedule, paged again every 5 minutes up to 2 more
    times. With no schedules it has no levels: tocsin has nobody to page.
    """
    level = tuple(f"schedule:{s.name}" for s in schedules)
    return Escalation(DEFAULT_ESCALATION, (level,) if level else (), 5, 2)


def default_policy() -> Policy:
    """The built-in policy: the documented routing and command tables, no admins, no schedules."""
    return Policy(
        severities=DEFAULT_SEVERITIES,
        permissions=DEFAULT_PERMISSIONS,
        admins=MappingProxyType({}),
        escalations=(builtin_default_escalation(()),),
    )
