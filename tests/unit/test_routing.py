"""Routing by severity: which effects each change plans, per docs/policy.md's severity table and per
destination switched on; downgrades stop paging; idempotency keys are deterministic and unique."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor, EntryKind, Incident, Role, Severity, Status, TimelineEntry
from tocsin.domain.policy import Policy, default_policy
from tocsin.domain.policy_file import parse_policy
from tocsin.domain.routing import plan, snapshot

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("discord", "700000000000000002", "bob")
ALL = frozenset({"slack", "discord", "statuspage", "pagerduty"})

# docs/policy.md's routing defaults, written out again so the test pins the docs, not the code.
DOCUMENTED_ROUTING = {
    Severity.P1: {"announce": True, "page": True, "statuspage": True},
    Severity.P2: {"announce": True, "page": True, "statuspage": True},
    Severity.P3: {"announce": True, "page": False, "statuspage": False},
    Severity.P4: {"announce": False, "page": False, "statuspage": False},
}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declared(severity: Severity) -> tuple[Incident, list[TimelineEntry]]:
    return Incident.declare(1, "Checkout is down", severity, ALICE, T0)


def kinds(effects: Sequence[Effect]) -> set[tuple[str, str]]:
    return {(e.destination, e.kind) for e in effects}


def run(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    destinations: Collection[str] = ALL,
    policy: Policy | None = None,
    previous: Severity | None = None,
) -> list[Effect]:
    return plan(
        incident,
        entries,
        policy or default_policy(),
        destinations,
        previous_severity=previous,
        public_url="https://tocsin.example",
    )


@pytest.mark.parametrize("severity", list(Severity))
def test_declare_plans_effects_from_the_severity_table(severity: Severity) -> None:
    """Declaring opens a channel on every chat platform; announces, pages and opens a status
    page incident exactly when the documented table says so for the severity."""
    rule = DOCUMENTED_ROUTING[severity]
    incident, entries = declared(severity)
    expected = {("slack", "open_channel"), ("discord", "open_channel")}
    if rule["announce"]:
        expected |= {("slack", "announce"), ("discord", "announce")}
    if rule["page"]:
        expected.add(("pagerduty", "trigger"))
    if rule["statuspage"]:
        expected.add(("statuspage", "sync"))
    assert kinds(run(incident, entries)) == expected


@pytest.mark.parametrize(
    ("destinations", "expected"),
    [
        (set(), set()),
        ({"slack"}, {("slack", "open_channel"), ("slack", "announce")}),
        ({"discord"}, {("discord", "open_channel"), ("discord", "announce")}),
        ({"statuspage"}, {("statuspage", "sync")}),
        ({"pagerduty"}, {("pagerduty", "trigger")}),
        (
            {"slack", "statuspage", "pagerduty"},
            {
                ("slack", "open_channel"),
                ("slack", "announce"),
                ("statuspage", "sync"),
                ("pagerduty", "trigger"),
            },
        ),
    ],
)
def test_effects_go_only_to_destinations_switched_on(
    destinations: set[str], expected: set[tuple[str, str]]
) -> None:
    """A P1 plans nothing for a destination that is not switched on (no credentials)."""
    incident, entries = declared(Severity.P1)
    assert kinds(run(incident, entries, destinations)) == expected


def test_the_policy_overrides_the_table() -> None:
    """A policy that pages for P3 and keeps P1 off the status page is followed."""
    policy = parse_policy({"severity": {"P3": {"page": True}, "P1": {"statuspage": False}}})
    p3, entries3 = declared(Severity.P3)
    assert ("pagerduty", "trigger") in kinds(run(p3, entries3, policy=policy))
    p1, entries1 = declared(Severity.P1)
    assert ("statuspage", "sync") not in kinds(run(p1, entries1, policy=policy))


def test_downgrade_below_paging_resolves_the_page() -> None:
    """P1 → P3 stops paging (PagerDuty resolve) and refreshes the announcement in chat."""
    incident, _ = declared(Severity.P1)
    entries = incident.change_severity(ALICE, Severity.P3, at(5))
    effects = kinds(run(incident, entries, previous=Severity.P1))
    assert ("pagerduty", "resolve") in effects
    assert ("pagerduty", "trigger") not in effects
    assert {("slack", "post"), ("slack", "refresh_announcement")} <= effects


def test_a_downgrade_that_still_pages_keeps_the_page() -> None:
    """P1 → P2 still pages: a trigger (merged by dedup key), never a resolve."""
    incident, _ = declared(Severity.P1)
    entries = incident.change_severity(ALICE, Severity.P2, at(5))
    effects = kinds(run(incident, entries, previous=Severity.P1))
    assert ("pagerduty", "trigger") in effects
    assert ("pagerduty", "resolve") not in effects


def test_upgrade_into_paging_pages_and_announces_for_the_first_time() -> None:
    """P4 (never announced) → P2: page on-call, announce (not refresh), open a status page."""
    incident, _ = declared(Severity.P4)
    entries = incident.change_severity(ALICE, Severity.P2, at(5))
    effects = kinds(run(incident, entries, previous=Severity.P4))
    assert {("pagerduty", "trigger"), ("slack", "announce"), ("statuspage", "sync")} <= effects
    assert ("slack", "refresh_announcement") not in effects


def test_upgrade_of_an_announced_incident_refreshes_its_announcement() -> None:
    """P3 (announced) → P1 edits the existing announcement instead of announcing again."""
    incident, _ = declared(Severity.P3)
    entries = incident.change_severity(ALICE, Severity.P1, at(5))
    effects = kinds(run(incident, entries, previous=Severity.P3))
    assert ("slack", "refresh_announcement") in effects
    assert ("slack", "announce") not in effects
    assert ("pagerduty", "trigger") in effects


def test_downgrade_below_the_status_page_still_updates_the_status_page() -> None:
    """An incident already on the status page (P1) that drops to P3 must still reach the status
    page, or the public incident there is never updated or closed."""
    incident, _ = declared(Severity.P1)
    entries = incident.change_severity(ALICE, Severity.P3, at(5))
    effects = kinds(run(incident, entries, previous=Severity.P1))
    assert ("statuspage", "sync") in effects


def test_acknowledge_and_resolve_reach_pagerduty() -> None:
    """ack acknowledges the PagerDuty alert; resolve resolves it and syncs the status page."""
    incident, _ = declared(Severity.P1)
    ack = kinds(run(incident, incident.acknowledge(BOB, at(1))))
    assert ("pagerduty", "acknowledge") in ack
    done = kinds(run(incident, incident.resolve(ALICE, "fixed", at(9))))
    assert {("pagerduty", "resolve"), ("statuspage", "sync")} <= done
    assert {("slack", "refresh_announcement"), ("discord", "post")} <= done


def test_reopen_pages_again_when_the_severity_pages() -> None:
    """Reopening a P2 triggers paging again; reopening a P3 does not page."""
    for severity, pages in ((Severity.P2, True), (Severity.P3, False)):
        incident, _ = declared(severity)
        incident.resolve(ALICE, "", at(5))
        effects = kinds(run(incident, incident.reopen(ALICE, at(6))))
        assert (("pagerduty", "trigger") in effects) is pages


def test_notes_and_roles_stay_internal() -> None:
    """Notes and role changes are posted in chat but never to the status page or PagerDuty;
    a role change refreshes the announcement, a note does not."""
    incident, _ = declared(Severity.P1)
    note = kinds(run(incident, incident.add_note(BOB, "rolled back", at(1))))
    assert note == {("slack", "post"), ("discord", "post")}
    role = kinds(run(incident, incident.assign_role(ALICE, Role.SCRIBE, BOB, at(2))))
    assert ("slack", "refresh_announcement") in role
    assert not {d for d, _ in role} & {"statuspage", "pagerduty"}


def test_updates_reach_the_status_page_only_for_public_severities() -> None:
    """A P2 update goes to chat and the status page; a P3 update only to chat."""
    p2, _ = declared(Severity.P2)
    assert ("statuspage", "sync") in kinds(run(p2, p2.post_update(ALICE, "x", at(1))))
    p3, _ = declared(Severity.P3)
    assert ("statuspage", "sync") not in kinds(run(p3, p3.post_update(ALICE, "x", at(1))))


def test_a_message_pinned_on_a_platform_is_not_posted_back_there() -> None:
    """An entry whose data names its source platform is not echoed to that platform."""
    incident, _ = declared(Severity.P1)
    [entry] = incident.add_note(ALICE, "pinned", at(1))
    pinned = replace(entry, data={"source": "slack"})
    assert kinds(run(incident, [pinned])) == {("discord", "post")}


def test_postmortem_plans_nothing() -> None:
    """Recording that the post-mortem was posted has no outside effect."""
    incident, _ = declared(Severity.P1)
    assert run(incident, incident.record_postmortem(ALICE, at(60))) == []


def test_keys_are_deterministic_and_unique() -> None:
    """Planning the same change twice gives the same keys (so a retried write is stored once);
    keys are unique within a plan and differ between versions of the incident."""
    incident, entries = declared(Severity.P1)
    first = run(incident, entries)
    again = run(incident, entries)
    assert [e.key for e in first] == [e.key for e in again]
    assert len({e.key for e in first}) == len(first)
    incident.version = 1
    later = run(
        incident, incident.post_update(ALICE, "a", at(1)) + incident.add_note(ALICE, "b", at(1))
    )
    keys = [e.key for e in later]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {e.key for e in first}
    other, other_entries = Incident.declare(2, "Other", Severity.P1, ALICE, T0)
    assert not {e.key for e in run(other, other_entries)} & {e.key for e in first}


def test_effects_carry_the_incident_and_keep_per_destination_order() -> None:
    """Every effect names its incident; its order key groups it per destination and incident."""
    incident, entries = declared(Severity.P1)
    for effect in run(incident, entries):
        assert effect.incident == 1
        assert effect.order == f"{effect.destination}:1"
        assert effect.payload["event"] == "declared"
        assert effect.payload["incident"]["ref"] == "INC-1"


def test_snapshot_is_what_destinations_render() -> None:
    """The snapshot is JSON-ready: ref, title, severity, status, commander, roles and a link."""
    incident, _ = declared(Severity.P2)
    incident.set_status(ALICE, Status.IDENTIFIED, at(1))
    snap = snapshot(incident, "https://tocsin.example/")
    assert snap["ref"] == "INC-1"
    assert (snap["severity"], snap["status"]) == ("P2", "identified")
    assert snap["commander"] == ALICE.to_dict()
    assert snap["roles"] == {"commander": ALICE.to_dict()}
    assert snap["url"] == "https://tocsin.example/incidents/1"
    assert snap["declared_at"] == T0.isoformat()
    assert snapshot(incident)["url"] == ""


def test_every_change_is_posted_in_the_incident_channel() -> None:
    """Every kind of entry except the declaration (which opens the channel) and the post-mortem
    record is posted to each chat platform."""
    incident, _ = declared(Severity.P1)
    for kind in set(EntryKind) - {EntryKind.DECLARED, EntryKind.POSTMORTEM}:
        entry = TimelineEntry(at(1), ALICE, kind, "text")
        assert {("slack", "post"), ("discord", "post")} <= kinds(run(incident, [entry])), kind
