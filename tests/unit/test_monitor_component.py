"""The pure rule of what a monitor's status change does to its status-page component
(``tocsin.domain.monitors.component``): never better than a status set by hand, the worst of the
monitors still down."""

from __future__ import annotations

from tocsin.domain.monitors.component import ComponentVerdict, when_down, when_recovered


def test_going_down_sets_its_status_unless_the_component_already_shows_worse() -> None:
    """From operational or under_maintenance a monitor sets its own status; from a worse
    status (set by hand or by another monitor) it changes nothing."""
    assert when_down("operational", "partial_outage") == ComponentVerdict("partial_outage")
    assert when_down("under_maintenance", "major_outage") == ComponentVerdict("major_outage")
    assert when_down("major_outage", "partial_outage") == ComponentVerdict(None)
    assert when_down("partial_outage", "partial_outage") == ComponentVerdict(None)


def test_coming_up_restores_only_what_the_monitors_set() -> None:
    """The component back to operational when it shows the monitor's status; to the worst of
    the monitors still down when they set it; left, naming what the monitors had set, when it
    shows anything else."""
    assert when_recovered("major_outage", "major_outage", []) == ComponentVerdict("operational")
    assert when_recovered("major_outage", "major_outage", ["partial_outage"]) == ComponentVerdict(
        "partial_outage"
    )
    assert when_recovered("major_outage", "partial_outage", ["major_outage"]) == ComponentVerdict(
        None
    )
    assert when_recovered("under_maintenance", "major_outage", []) == ComponentVerdict(
        None, kept_by_hand="major_outage"
    )
    assert when_recovered("operational", "major_outage", []) == ComponentVerdict(
        None, kept_by_hand="major_outage"
    )
