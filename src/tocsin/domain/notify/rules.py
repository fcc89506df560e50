"""Which of a person's notification steps are due, and when the next one is.

P1 and P2 pages are urgent and follow ``urgent_rule``; P3 and P4 follow ``default_rule``. The
steps of a rule are sent in order as their delay since the page passes. An acknowledgement
stops the rest: a step whose delay is not before the moment of the acknowledgement is never
sent (an acknowledgement at exactly 5 minutes stops a step "after 5m").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from tocsin.domain.model import Severity
from tocsin.domain.notify.people import Person, RuleStep

__all__ = ["URGENT", "due_steps", "next_due", "rule_for"]

URGENT = frozenset({Severity.P1, Severity.P2})


def rule_for(person: Person, severity: Severity) -> tuple[RuleStep, ...]:
    """The rule a page of ``severity`` follows for ``person``."""
    return person.urgent_rule if severity in URGENT else person.default_rule


def _live(step: RuleStep, acknowledged_after: timedelta | None) -> bool:
    return acknowledged_after is None or step.after < acknowledged_after


def due_steps(
    rule: Sequence[RuleStep], elapsed: timedelta, acknowledged_after: timedelta | None = None
) -> tuple[RuleStep, ...]:
    """The steps that should have been sent ``elapsed`` after the page, given an
    acknowledgement ``acknowledged_after`` the page (``None``: not acknowledged yet)."""
    return tuple(s for s in rule if s.after <= elapsed and _live(s, acknowledged_after))


def next_due(
    rule: Sequence[RuleStep], elapsed: timedelta, acknowledged_after: timedelta | None = None
) -> timedelta | None:
    """When (since the page) the next step after ``elapsed`` is due; ``None`` if none is left
    (every step sent, or an acknowledgement stopped the rest)."""
    if acknowledged_after is not None and acknowledged_after <= elapsed:
        return None
    later = [s.after for s in rule if s.after > elapsed and _live(s, acknowledged_after)]
    return min(later, default=None)
