"""What a monitor's status change does to its status-page component.

A component's stored status is shared: admins set it by hand (``PUT
/api/v1/status/components/{name}``) and the monitors that drive it set it when they go down.
The monitors never make a component look better than what a person set:

- **going down**, a monitor sets the worst of the component's current status and its own
  ``component_status`` (an admin's ``major_outage`` is not lowered to the monitor's
  ``partial_outage``);
- **going up** (or paused or deleted while down), it compares and sets: when the component still
  shows what the monitors set (the worst ``component_status`` of the monitors that were down,
  this one included), it becomes the worst of the monitors still down, or operational when none
  is; otherwise someone changed it since, and it is left as it is.

So with two monitors on one component the component stays at the worst status while any of
them is down. A status set by hand that happens to equal the monitors' cannot be told apart from
theirs, and is restored like theirs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tocsin.domain.statuspage import worst


@dataclass(frozen=True, slots=True)
class ComponentVerdict:
    """The status to store (None: leave the component as it is) and, when a monitor coming up
    leaves it, ``kept_by_hand`` with the status the monitors had set."""

    status: str | None
    kept_by_hand: str | None = None


def when_down(current: str, own: str) -> ComponentVerdict:
    """A monitor whose ``component_status`` is ``own`` went down; ``current`` is the
    component's stored status."""
    status = worst([current, own])
    return ComponentVerdict(None if status == current else status)


def when_recovered(current: str, own: str, others_down: Collection[str]) -> ComponentVerdict:
    """A monitor that was down (``own``: its ``component_status``) came up, or was paused or
    deleted; ``others_down`` are the ``component_status`` of the component's other monitors that
    are still down."""
    theirs = worst([own, *others_down])
    if current != theirs:
        return ComponentVerdict(None, kept_by_hand=theirs)
    status = worst(others_down)
    return ComponentVerdict(None if status == current else status)
