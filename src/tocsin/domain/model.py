"""The incident aggregate and its value objects.

An :class:`Incident` changes only through its methods. Each method checks the rule, mutates the
incident and returns the :class:`TimelineEntry` values that record the change; the service layer
saves the incident and those entries in one unit of work. Nothing here does I/O or reads a clock:
time is always passed in. The value objects are defined in domain/values.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tocsin.domain.errors import InvalidTransition

# Re-exported: callers import the value objects from here, beside the aggregate.
from tocsin.domain.values import ActionItem as ActionItem
from tocsin.domain.values import Actor as Actor
from tocsin.domain.values import EntryKind as EntryKind
from tocsin.domain.values import Platform as Platform
from tocsin.domain.values import Role as Role
from tocsin.domain.values import Severity as Severity
from tocsin.domain.values import Status as Status
from tocsin.domain.values import TimelineEntry as TimelineEntry

if TYPE_CHECKING:
    from tocsin.domain.public_summary import PublicSummary


def incident_ref(number: int) -> str:
    return f"INC-{number}"


@dataclass(slots=True)
class Incident:
    """The aggregate. ``number`` is the ``n`` of ``INC-n``."""

    number: int
    title: str
    severity: Severity
    declared_by: Actor
    declared_at: datetime
    status: Status = Status.INVESTIGATING
    description: str = ""
    summary: str = ""
    acknowledged_at: datetime | None = None
    identified_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    roles: dict[Role, Actor] = field(default_factory=dict)
    participants: list[Actor] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    last_update_at: datetime | None = None
    version: int = 0
    # Status page (rules in tocsin.domain.statuspage): None follows the severity policy.
    public: bool | None = None
    published_at: datetime | None = None  # first became public; it then stays on the page
    components: tuple[str, ...] = ()  # status page components it affects
    public_summary: PublicSummary | None = None  # domain/public_summary.py
    # The escalation that pages for it instead of its severity's (an alert route's); None: the
    # severity's (domain/paging.py).
    escalation: str | None = None

    # --- reading -------------------------------------------------------------------------------
    @property
    def ref(self) -> str:
        return incident_ref(self.number)

    @property
    def is_open(self) -> bool:
        return self.status is not Status.RESOLVED

    @property
    def commander(self) -> Actor | None:
        return self.roles.get(Role.COMMANDER)

    def roles_of(self, actor: Actor) -> set[Role]:
        return {role for role, holder in self.roles.items() if holder.key == actor.key}

    def is_participant(self, actor: Actor) -> bool:
        return any(p.key == actor.key for p in self.participants)

    # --- changing ------------------------------------------------------------------------------
    @classmethod
    def declare(
        cls,
        number: int,
        title: str,
        severity: Severity,
        actor: Actor,
        now: datetime,
        commander: Actor | None = None,
        description: str = "",
        escalation: str | None = None,
    ) -> tuple[Incident, list[TimelineEntry]]:
        """A new incident; the named commander, or else the declarer, takes command.
        ``escalation`` pages for it instead of the severity's (an alert route's)."""
        title = title.strip()
        if not title:
            raise InvalidTransition("An incident needs a title.")
        lead = commander or actor
        incident = cls(
            number=number,
            title=title,
            severity=severity,
            declared_by=actor,
            declared_at=now,
            description=description.strip(),
            roles={Role.COMMANDER: lead},
            escalation=escalation,
        )
        incident._add_participant(actor)
        incident._add_participant(lead)
        entry = TimelineEntry(
            now,
            actor,
            EntryKind.DECLARED,
            f"{actor.name} declared {incident.ref} ({severity}): {title}; commander {lead.name}",
            {"severity": severity.value, "commander": lead.to_dict(), "title": title},
        )
        return incident, [entry]

    def post_update(self, actor: Actor, text: str, now: datetime) -> list[TimelineEntry]:
        """A status update meant for the channel, the announcement and the status page."""
        self._require_open("post an update")
        text = _require_text(text, "An update needs some text.")
        self.last_update_at = now
        return [TimelineEntry(now, actor, EntryKind.UPDATE, text)]

    def add_note(self, actor: Actor, text: str, now: datetime) -> list[TimelineEntry]:
        """A timeline note; allowed after resolve too (people remember things late)."""
        text = _require_text(text, "A note needs some text.")
        return [TimelineEntry(now, actor, EntryKind.NOTE, text)]

    def change_severity(
        self, actor: Actor, severity: Severity, now: datetime
    ) -> list[TimelineEntry]:
        self._require_open("change its severity")
        if severity is self.severity:
            raise InvalidTransition(f"{self.ref} is already {severity}.")
        previous = self.severity
        self.severity = severity
        verb = "raised" if severity.rank < previous.rank else "lowered"
        return [
            TimelineEntry(
                now,
                actor,
                EntryKind.SEVERITY,
                f"{actor.name} {verb} severity from {previous} to {severity}",
                {"from": previous.value, "to": severity.value},
            )
        ]

    def set_status(self, actor: Actor, status: Status, now: datetime) -> list[TimelineEntry]:
        """Move along the lifecycle. ``resolved`` goes through :meth:`resolve`."""
        if status is Status.RESOLVED:
            return self.resolve(actor, "", now)
        self._require_open("change its status")
        if status is self.status:
            raise InvalidTransition(f"{self.ref} is already {status}.")
        previous = self.status
        self.status = status
        self._stamp(status, now)
        return [
            TimelineEntry(
                now,
                actor,
                EntryKind.STATUS,
                f"{actor.name} changed status from {previous} to {status}",
                {"from": previous.value, "to": status.value},
            )
        ]

    def resolve(self, actor: Actor, summary: str, now: datetime) -> list[TimelineEntry]:
        if not self.is_open:
            raise InvalidTransition(f"{self.ref} is already resolved.")
        previous = self.status
        self.status = Status.RESOLVED
        self._stamp(Status.RESOLVED, now)
        if summary.strip():
            self.summary = summary.strip()
        text = f"{actor.name} resolved {self.ref}"
        if summary.strip():
            text += f": {summary.strip()}"
        return [
            TimelineEntry(
                now, actor, EntryKind.RESOLVED, text, {"from": previous.value, "summary": summary}
            )
        ]

    def reopen(self, actor: Actor, now: datetime) -> list[TimelineEntry]:
        if self.is_open:
            raise InvalidTransition(f"{self.ref} is not resolved, so it cannot be reopened.")
        self.status = Status.INVESTIGATING
        self.resolved_at = None
        self.mitigated_at = None
        return [TimelineEntry(now, actor, EntryKind.REOPENED, f"{actor.name} reopened {self.ref}")]

    def assign_role(
        self, actor: Actor, role: Role, person: Actor, now: datetime
    ) -> list[TimelineEntry]:
        """Give ``role`` to ``person``; the previous holder (if any) steps down from it."""
        self._require_open(f"change its {role}")
        previous = self.roles.get(role)
        if previous is not None and previous.key == person.key:
            raise InvalidTransition(f"{person.name} is already {role} of {self.ref}.")
        self.roles[role] = person
        self._add_participant(person)
        text = f"{actor.name} made {person.name} {role}"
        if previous is not None:
            text += f" (was {previous.name})"
        data: dict[str, Any] = {"role": role.value, "person": person.to_dict()}
        if previous is not None:
            data["previous"] = previous.to_dict()
        return [TimelineEntry(now, actor, EntryKind.ROLE, text, data)]

    def join(self, actor: Actor, now: datetime) -> list[TimelineEntry]:
        if self.is_participant(actor):
            raise InvalidTransition(f"{actor.name} is already in {self.ref}.")
        self._add_participant(actor)
        return [TimelineEntry(now, actor, EntryKind.JOINED, f"{actor.name} joined")]

    def acknowledge(self, actor: Actor, now: datetime) -> list[TimelineEntry]:
        """The paged person says "I'm on it". The first acknowledgement stops escalation."""
        self._require_open("acknowledge it")
        first = self.acknowledged_at is None
        if first:
            self.acknowledged_at = now
        self._add_participant(actor)
        return [
            TimelineEntry(
                now,
                actor,
                EntryKind.ACKNOWLEDGED,
                f"{actor.name} acknowledged the page",
                {"first": first},
            )
        ]

    def add_action(
        self, actor: Actor, text: str, owner: Actor | None, now: datetime
    ) -> list[TimelineEntry]:
        text = _require_text(text, "An action item needs some text.")
        number = len(self.action_items) + 1
        self.action_items.append(ActionItem(number, text, owner, actor, now))
        shown = f"Action {number}: {text}" + (f" (owner {owner.name})" if owner else "")
        data: dict[str, Any] = {"number": number, "text": text}
        if owner is not None:
            data["owner"] = owner.to_dict()
        return [TimelineEntry(now, actor, EntryKind.ACTION, shown, data)]

    def record_postmortem(self, actor: Actor, now: datetime) -> list[TimelineEntry]:
        return [
            TimelineEntry(now, actor, EntryKind.POSTMORTEM, f"{actor.name} posted the post-mortem")
        ]

    # --- internals -----------------------------------------------------------------------------
    def _require_open(self, what: str) -> None:
        if not self.is_open:
            raise InvalidTransition(f"{self.ref} is resolved; reopen it before you {what}.")

    def _stamp(self, status: Status, now: datetime) -> None:
        """Set the timestamps a move into ``status`` implies (a skipped state counts as passed)."""
        if status.order >= Status.IDENTIFIED.order and self.identified_at is None:
            self.identified_at = now
        if status.order >= Status.MONITORING.order and self.mitigated_at is None:
            self.mitigated_at = now
        if status is Status.RESOLVED:
            self.resolved_at = now
        if self.acknowledged_at is None:
            self.acknowledged_at = now

    def _add_participant(self, actor: Actor) -> None:
        if not self.is_participant(actor):
            self.participants.append(actor)


def _require_text(text: str, message: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidTransition(message)
    return text
