"""The steps of an escalation run, as plain data. Pure: no clock, no I/O.

An escalation walks its levels one :class:`Step` at a time. Each step pages everyone at its
level; if nobody acknowledges within ``escalate_after_minutes`` the next level is paged, and after
the last level the ladder starts again, ``repeat`` more times. After the last step goes
unanswered one final step (``exhausted``) says so on the timeline and paging stops. What a step
sends, and the timers that drive the run, are in domain/paging.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.domain.model import Incident
from tocsin.domain.policy import Escalation, Policy


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an escalation run: page ``level`` (0-based) in ``round`` (0-based).

    ``run`` is when the run started: an acknowledgement after it ends the run.
    """

    escalation: str
    run: datetime
    level: int = 0
    round: int = 0
    exhausted: bool = False

    @property
    def first(self) -> bool:
        return self.level == 0 and self.round == 0 and not self.exhausted

    def to_payload(self) -> dict[str, Any]:
        return {
            "escalation": self.escalation,
            "run": self.run.isoformat(),
            "level": self.level,
            "round": self.round,
            "exhausted": self.exhausted,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            str(data["escalation"]),
            datetime.fromisoformat(str(data["run"])),
            int(data.get("level", 0)),
            int(data.get("round", 0)),
            bool(data.get("exhausted", False)),
        )


def next_step(escalation: Escalation, step: Step) -> Step:
    """The step after ``step``: the next level, the next round, or the final ``exhausted``."""
    if step.level + 1 < len(escalation.levels):
        return Step(step.escalation, step.run, step.level + 1, step.round)
    if step.round < escalation.repeat:
        return Step(step.escalation, step.run, 0, step.round + 1)
    return Step(step.escalation, step.run, step.level, step.round, exhausted=True)


def stop_reason(incident: Incident, policy: Policy, step: Step) -> str | None:
    """Why the run of ``step`` is over (None: page on)."""
    if not incident.is_open:
        return "the incident is resolved"
    rule = policy.rule(incident.severity)
    if not rule.page:
        return f"{incident.severity} does not page"
    chosen = paging_escalation(incident, policy)
    if chosen != step.escalation:
        return f"{incident.severity} now pages through the {chosen!r} escalation"
    acked = incident.acknowledged_at
    if acked is not None and acked >= step.run:
        return "the page was acknowledged"
    return None


def paging_escalation(incident: Incident, policy: Policy) -> str | None:
    """The escalation that pages for ``incident`` when its severity pages: its own (the alert
    route's that declared it), else the severity's; None when the severity does not page."""
    rule = policy.rule(incident.severity)
    if not rule.page:
        return None
    return incident.escalation or rule.escalation


def escalation_of(policy: Policy, name: str) -> Escalation:
    """The escalation ``name``; an unknown one (the policy changed since) has no levels."""
    return policy.escalation(name) or Escalation(name, ())
