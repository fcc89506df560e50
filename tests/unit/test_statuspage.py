"""The status page's rules (domain/statuspage.py): who is public, what is published, what the
Statuspage effects carry, and who may change an incident's visibility and components."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.model import Actor, EntryKind, Incident, Role, Severity, Status
from tocsin.domain.policy import default_policy
from tocsin.domain.routing import plan
from tocsin.domain.statuspage import (
    SENTENCES,
    affected_statuses,
    is_public,
    may_set_components,
    may_set_visibility,
    public_updates,
    set_components,
    set_visibility,
    sync_fields,
    sync_kind,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")
POLICY = default_policy()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declared(severity: Severity, number: int = 1) -> Incident:
    incident, _ = Incident.declare(number, "Checkout is down", severity, ALICE, T0)
    return incident


def statuspage_kinds(incident: Incident, entries: list, previous: Severity | None = None) -> list:
    effects = plan(incident, entries, POLICY, {"statuspage"}, previous_severity=previous)
    return [e.kind for e in effects]


@pytest.mark.parametrize(
    ("severity", "public"),
    [(Severity.P1, True), (Severity.P2, True), (Severity.P3, False), (Severity.P4, False)],
)
def test_severity_policy_decides_by_default(severity: Severity, public: bool) -> None:
    """Without a choice by the commander, docs/policy.md's table decides: P1 and P2 are public."""
    assert is_public(declared(severity), POLICY) is public


def test_commander_choice_and_publication_override_the_policy() -> None:
    """public=True shows a P4, public=False hides a P1, and a published P3 stays public."""
    assert is_public(replace(declared(Severity.P4), public=True), POLICY)
    assert not is_public(replace(declared(Severity.P1), public=False), POLICY)
    assert is_public(replace(declared(Severity.P3), published_at=T0), POLICY)


def test_downgraded_published_incident_keeps_syncing_until_resolved() -> None:
    """Once published, a P1 lowered to P3 is still synced for updates and its resolution."""
    incident = replace(declared(Severity.P1), published_at=T0)
    lowered = incident.change_severity(ALICE, Severity.P3, at(1))
    assert statuspage_kinds(incident, lowered, Severity.P1) == ["sync"]
    assert statuspage_kinds(incident, incident.post_update(ALICE, "still slow", at(2))) == ["sync"]
    done = incident.resolve(ALICE, "fixed", at(3))
    assert statuspage_kinds(incident, done) == ["sync"]
    fields = plan(incident, done, POLICY, {"statuspage"})[0].payload["statuspage"]
    assert fields["status"] == "resolved"
    assert fields["impact"] == "minor"


def test_only_update_texts_are_published() -> None:
    """An update's text is the body; notes and roles make no Statuspage effect; a resolve
    summary stays internal (the body is the fixed "resolved" sentence)."""
    incident = declared(Severity.P1)
    update = incident.post_update(ALICE, "Payments recovering", at(1))
    assert sync_fields(incident, update[0], POLICY)["body"] == "Payments recovering"
    assert statuspage_kinds(incident, incident.add_note(ALICE, "secret", at(2))) == []
    assert statuspage_kinds(incident, incident.assign_role(ALICE, Role.SCRIBE, BOB, at(3))) == []
    resolved = incident.resolve(ALICE, "root cause: leaked key", at(4))
    body = sync_fields(incident, resolved[0], POLICY)["body"]
    assert body == SENTENCES[Status.RESOLVED]
    assert "leaked" not in body


def test_public_history_keeps_updates_and_status_sentences_only() -> None:
    """public_updates: declared, updates, status changes and resolve, each with its status at
    the time; notes are left out."""
    incident, entries = Incident.declare(1, "API down", Severity.P1, ALICE, T0)
    entries += incident.add_note(ALICE, "internal", at(1))
    entries += incident.post_update(ALICE, "Rolling back", at(2))
    entries += incident.set_status(ALICE, Status.MONITORING, at(3))
    entries += incident.post_update(ALICE, "Looks good", at(4))
    entries += incident.resolve(ALICE, "summary stays internal", at(5))
    updates = [(u.status, u.body) for u in public_updates(entries)]
    assert updates == [
        ("investigating", SENTENCES[Status.INVESTIGATING]),
        ("investigating", "Rolling back"),
        ("monitoring", SENTENCES[Status.MONITORING]),
        ("monitoring", "Looks good"),
        ("resolved", SENTENCES[Status.RESOLVED]),
    ]


def test_visibility_changes_are_recorded_and_plan_sync_or_unpublish() -> None:
    """Making a P3 public plans a sync; making a published P1 private plans an unpublish; the
    same choice twice is refused; back to the policy is allowed."""
    p3 = declared(Severity.P3)
    made = set_visibility(p3, ALICE, True, at(1))
    assert made[0].kind is EntryKind.VISIBILITY
    assert made[0].data == {"public": True, "previous": None}
    assert statuspage_kinds(p3, made) == ["sync"]
    with pytest.raises(InvalidTransition):
        set_visibility(p3, ALICE, True, at(2))
    p1 = replace(declared(Severity.P1), published_at=T0)
    hidden = set_visibility(p1, ALICE, False, at(3))
    assert sync_kind(p1, hidden[0], POLICY) == "unpublish"
    never = declared(Severity.P3)
    assert statuspage_kinds(never, set_visibility(never, ALICE, False, at(4))) == []
    assert set_visibility(p1, ALICE, None, at(5))[0].data["public"] is None


def test_components_follow_severity_and_resolution() -> None:
    """Named components take the policy's status for the severity (P1 major, P2 partial, P3
    degraded) and go back to operational once resolved; names match ignoring case."""
    incident = declared(Severity.P1)
    entries = set_components(incident, ALICE, ["api", "Web"], ["API", "Web", "DB"], at(1))
    assert incident.components == ("API", "Web")
    assert affected_statuses(incident, POLICY) == {"API": "major_outage", "Web": "major_outage"}
    incident.change_severity(ALICE, Severity.P3, at(2))
    assert affected_statuses(incident, POLICY)["API"] == "degraded_performance"
    incident.change_severity(ALICE, Severity.P2, at(2))
    assert affected_statuses(incident, POLICY)["API"] == "partial_outage"
    incident.resolve(ALICE, "", at(3))
    assert set(affected_statuses(incident, POLICY).values()) == {"operational"}
    assert entries[0].data == {"components": ["API", "Web"], "previous": []}


def test_removed_components_are_released() -> None:
    """A component taken off the incident is listed in ``released`` (back to operational);
    unknown names and unchanged lists are refused."""
    incident = declared(Severity.P1)
    set_components(incident, ALICE, ["API", "Web"], ["API", "Web"], at(1))
    change = set_components(incident, ALICE, ["API"], ["API", "Web"], at(2))
    assert sync_fields(incident, change[0], POLICY)["released"] == ["Web"]
    with pytest.raises(NotFound, match="Known: API, Web"):
        set_components(incident, ALICE, ["Nope"], ["API", "Web"], at(3))
    with pytest.raises(InvalidTransition):
        set_components(incident, ALICE, ["api"], ["API", "Web"], at(4))


def test_only_the_commander_or_an_admin_decides_visibility() -> None:
    """The commander may; the deputy may not (and is told who may); an admin may."""
    incident = declared(Severity.P1)
    incident.assign_role(ALICE, Role.DEPUTY, BOB, at(1))
    assert may_set_visibility(POLICY, ALICE, incident).allowed
    refused = may_set_visibility(POLICY, BOB, incident)
    assert not refused.allowed
    assert refused.reason == (
        "Only the commander of INC-1 (alice) or an admin may make it public or private."
    )
    admins = replace(POLICY, admins={"slack": frozenset({"U0BOB"})})
    assert may_set_visibility(admins, BOB, incident).reason == "admin"


def test_updaters_may_name_components() -> None:
    """Whoever may post updates (the deputy here) may name components; a bystander may not."""
    incident = declared(Severity.P1)
    incident.assign_role(ALICE, Role.DEPUTY, BOB, at(1))
    assert may_set_components(POLICY, BOB, incident).allowed
    stranger = Actor("slack", "U0EVE", "eve")
    refused = may_set_components(POLICY, stranger, incident)
    assert not refused.allowed
    assert refused.reason == (
        "Only the commander of INC-1 (alice), the deputy (bob), the comms lead or an admin may "
        "set the components it affects."
    )


def test_a_policy_may_open_visibility_and_components() -> None:
    """``[permissions] visibility`` and ``components`` are policy keys like any subcommand's: a
    policy may let the deputy decide visibility and keep components to the commander."""
    incident = declared(Severity.P1)
    incident.assign_role(ALICE, Role.DEPUTY, BOB, at(1))
    permissions = {**POLICY.permissions, "visibility": frozenset({"deputy"}),
                   "components": frozenset({"commander"})}  # fmt: skip
    opened = replace(POLICY, permissions=permissions)
    assert may_set_visibility(opened, BOB, incident).reason == "deputy"
    assert not may_set_visibility(opened, ALICE, incident).allowed
    assert not may_set_components(opened, BOB, incident).allowed
