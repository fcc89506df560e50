"""The incident aggregate: lifecycle state machine, timestamps, reopen, roles, participants,
action items, and the messages a user sees when a change is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.errors import InvalidTransition
from tocsin.domain.model import (
    Actor,
    EntryKind,
    Incident,
    Role,
    Severity,
    Status,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")
CAROL = Actor("discord", "700000000000000003", "carol")
DAN = Actor("cli", "dan")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new(severity: Severity = Severity.P2) -> Incident:
    incident, _ = Incident.declare(1, "Checkout is down", severity, ALICE, T0)
    return incident


def resolved() -> Incident:
    incident = new()
    incident.resolve(ALICE, "fixed", at(30))
    return incident


# --- declare -------------------------------------------------------------------------------------
def test_declare_starts_investigating_with_the_declarer_in_command() -> None:
    """A new incident is INC-n, investigating, declared now; the declarer commands and takes
    part; one DECLARED entry records severity, title and commander; no other timestamps."""
    incident, entries = Incident.declare(7, "  Checkout is down ", Severity.P1, ALICE, T0)
    assert incident.ref == "INC-7"
    assert incident.title == "Checkout is down"
    assert incident.status is Status.INVESTIGATING
    assert incident.is_open
    assert incident.declared_at == T0
    assert incident.declared_by == ALICE
    assert incident.commander == ALICE
    assert incident.roles == {Role.COMMANDER: ALICE}
    assert incident.participants == [ALICE]
    assert (incident.acknowledged_at, incident.identified_at) == (None, None)
    assert (incident.mitigated_at, incident.resolved_at) == (None, None)
    [entry] = entries
    assert entry.kind is EntryKind.DECLARED
    assert (entry.at, entry.actor) == (T0, ALICE)
    assert entry.data["severity"] == "P1"
    assert entry.data["title"] == "Checkout is down"
    assert entry.data["commander"] == ALICE.to_dict()


def test_declare_with_a_named_commander() -> None:
    """A named commander takes command; both declarer and commander are participants, once."""
    incident, entries = Incident.declare(1, "DB down", Severity.P3, ALICE, T0, commander=BOB)
    assert incident.commander == BOB
    assert incident.participants == [ALICE, BOB]
    assert "commander bob" in entries[0].text
    same, _ = Incident.declare(2, "DB down", Severity.P3, ALICE, T0, commander=ALICE)
    assert same.participants == [ALICE]


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_declare_without_a_title_is_refused(title: str) -> None:
    """An empty title is refused with a plain sentence."""
    with pytest.raises(InvalidTransition, match=r"^An incident needs a title\.$"):
        Incident.declare(1, title, Severity.P1, ALICE, T0)


# --- status --------------------------------------------------------------------------------------
def test_status_walks_the_lifecycle_and_stamps_each_step() -> None:
    """investigating → identified → monitoring → resolved sets identified, mitigated and resolved
    at the moment of each move; the first move also counts as the acknowledgement."""
    incident = new()
    entries = incident.set_status(ALICE, Status.IDENTIFIED, at(5))
    assert incident.status is Status.IDENTIFIED
    assert incident.identified_at == at(5)
    assert incident.acknowledged_at == at(5)
    assert entries[0].kind is EntryKind.STATUS
    assert entries[0].data == {"from": "investigating", "to": "identified"}
    incident.set_status(ALICE, Status.MONITORING, at(10))
    assert incident.mitigated_at == at(10)
    assert incident.identified_at == at(5)
    entries = incident.set_status(ALICE, Status.RESOLVED, at(20))
    assert incident.status.value == "resolved"
    assert not incident.is_open
    assert incident.resolved_at == at(20)
    assert entries[0].kind is EntryKind.RESOLVED
    assert (incident.acknowledged_at, incident.identified_at, incident.mitigated_at) == (
        at(5),
        at(5),
        at(10),
    )


def test_skipped_states_count_as_passed() -> None:
    """Jumping from investigating straight to monitoring stamps identified too; resolving
    directly stamps identified, mitigated and resolved."""
    incident = new()
    incident.set_status(ALICE, Status.MONITORING, at(3))
    assert (incident.identified_at, incident.mitigated_at) == (at(3), at(3))
    other = new()
    other.resolve(ALICE, "", at(9))
    assert other.acknowledged_at == other.identified_at == at(9)
    assert other.mitigated_at == other.resolved_at == at(9)


def test_an_earlier_acknowledgement_is_kept_by_later_moves() -> None:
    """A page acknowledged at minute 2 keeps that time when the status moves later."""
    incident = new()
    incident.acknowledge(BOB, at(2))
    incident.set_status(ALICE, Status.IDENTIFIED, at(8))
    assert incident.acknowledged_at == at(2)


def test_status_can_walk_back_to_investigating() -> None:
    """A wrong diagnosis can be undone: identified → investigating is allowed and keeps the
    identified time already recorded."""
    incident = new()
    incident.set_status(ALICE, Status.IDENTIFIED, at(5))
    incident.set_status(ALICE, Status.INVESTIGATING, at(6))
    assert incident.status is Status.INVESTIGATING
    assert incident.identified_at == at(5)


@pytest.mark.parametrize("state", [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING])
def test_moving_to_the_current_status_is_refused(state: Status) -> None:
    """Setting the status it already has is refused, naming the incident and the state."""
    incident = new()
    if state is not Status.INVESTIGATING:
        incident.set_status(ALICE, state, at(1))
    with pytest.raises(InvalidTransition, match=rf"^INC-1 is already {state.value}\.$"):
        incident.set_status(ALICE, state, at(2))


def test_resolving_twice_is_refused() -> None:
    """A resolved incident cannot be resolved again, by resolve or by status."""
    incident = resolved()
    with pytest.raises(InvalidTransition, match=r"^INC-1 is already resolved\.$"):
        incident.resolve(ALICE, "", at(40))
    with pytest.raises(InvalidTransition, match=r"^INC-1 is already resolved\.$"):
        incident.set_status(ALICE, Status.RESOLVED, at(40))


def test_resolve_keeps_the_summary() -> None:
    """resolve stores a stripped summary and puts it in the timeline entry; no summary keeps
    the previous one."""
    incident = new()
    [entry] = incident.resolve(ALICE, "  Cache node replaced ", at(30))
    assert incident.summary == "Cache node replaced"
    assert entry.text.endswith(": Cache node replaced")
    assert entry.data["from"] == "investigating"


# --- what a resolved incident refuses ------------------------------------------------------------
REFUSED_AFTER_RESOLVE = {
    "post an update": lambda i: i.post_update(ALICE, "x", at(40)),
    "change its severity": lambda i: i.change_severity(ALICE, Severity.P1, at(40)),
    "change its status": lambda i: i.set_status(ALICE, Status.IDENTIFIED, at(40)),
    "change its deputy": lambda i: i.assign_role(ALICE, Role.DEPUTY, BOB, at(40)),
    "change its commander": lambda i: i.assign_role(ALICE, Role.COMMANDER, BOB, at(40)),
    "acknowledge it": lambda i: i.acknowledge(BOB, at(40)),
}


@pytest.mark.parametrize("what", list(REFUSED_AFTER_RESOLVE))
def test_a_resolved_incident_refuses_changes_until_reopened(what: str) -> None:
    """After resolve, changes are refused with a message that says to reopen first, and the
    incident is left as it was."""
    incident = resolved()
    before = (incident.status, dict(incident.roles), incident.severity, incident.acknowledged_at)
    with pytest.raises(InvalidTransition) as caught:
        REFUSED_AFTER_RESOLVE[what](incident)
    assert str(caught.value) == f"INC-1 is resolved; reopen it before you {what}."
    assert before == (
        incident.status,
        dict(incident.roles),
        incident.severity,
        incident.acknowledged_at,
    )


def test_notes_and_action_items_are_allowed_after_resolve() -> None:
    """People remember things late: notes and follow-up actions still go on a resolved one."""
    incident = resolved()
    assert incident.add_note(BOB, "the alert fired late", at(40))[0].kind is EntryKind.NOTE
    assert incident.add_action(BOB, "tune the alert", None, at(41))[0].kind is EntryKind.ACTION
    assert incident.status is Status.RESOLVED


# --- reopen --------------------------------------------------------------------------------------
def test_reopen_returns_to_investigating_and_clears_the_end_times() -> None:
    """Reopen: investigating again, resolved and mitigated times cleared (they will be set
    anew), identified and acknowledged kept; a later resolve stamps the new time."""
    incident = new()
    incident.set_status(ALICE, Status.MONITORING, at(5))
    incident.resolve(ALICE, "", at(10))
    [entry] = incident.reopen(ALICE, at(20))
    assert entry.kind is EntryKind.REOPENED
    assert incident.status is Status.INVESTIGATING
    assert incident.is_open
    assert (incident.resolved_at, incident.mitigated_at) == (None, None)
    assert incident.identified_at == incident.acknowledged_at == at(5)
    incident.resolve(ALICE, "", at(30))
    assert incident.resolved_at == incident.mitigated_at == at(30)


def test_reopening_an_open_incident_is_refused() -> None:
    """Only a resolved incident can be reopened; the message says why."""
    with pytest.raises(
        InvalidTransition, match=r"^INC-1 is not resolved, so it cannot be reopened\.$"
    ):
        new().reopen(ALICE, at(1))


# --- severity ------------------------------------------------------------------------------------
def test_severity_change_records_direction_and_levels() -> None:
    """Raising and lowering are both recorded, with from/to in the entry's data."""
    incident = new(Severity.P3)
    [up] = incident.change_severity(ALICE, Severity.P1, at(1))
    assert incident.severity is Severity.P1
    assert "raised severity from P3 to P1" in up.text
    assert up.data == {"from": "P3", "to": "P1"}
    [down] = incident.change_severity(ALICE, Severity.P4, at(2))
    assert "lowered severity from P1 to P4" in down.text


def test_same_severity_is_refused() -> None:
    """Setting the severity it already has is refused."""
    with pytest.raises(InvalidTransition, match=r"^INC-1 is already P2\.$"):
        new(Severity.P2).change_severity(ALICE, Severity.P2, at(1))


def test_severity_rank_and_label() -> None:
    """P1 is the most severe (rank 1, critical) and P4 the least (rank 4, low)."""
    assert [s.rank for s in Severity] == [1, 2, 3, 4]
    assert [s.label for s in Severity] == ["critical", "high", "moderate", "low"]


# --- roles ---------------------------------------------------------------------------------------
def test_handing_over_command_leaves_exactly_one_commander() -> None:
    """Each hand-off replaces the commander; there is never more than one, the previous one is
    named in the entry, and the new one becomes a participant."""
    incident = new()
    [entry] = incident.assign_role(ALICE, Role.COMMANDER, BOB, at(1))
    assert incident.commander == BOB
    assert entry.kind is EntryKind.ROLE
    assert entry.text == "alice made bob commander (was alice)"
    assert entry.data["previous"] == ALICE.to_dict()
    incident.assign_role(BOB, Role.COMMANDER, CAROL, at(2))
    assert incident.commander == CAROL
    assert [role for role in incident.roles if role is Role.COMMANDER] == [Role.COMMANDER]
    assert incident.roles_of(ALICE) == set()
    assert incident.roles_of(BOB) == set()
    assert incident.participants == [ALICE, BOB, CAROL]


def test_giving_a_role_to_its_holder_is_refused() -> None:
    """Naming the person who already holds the role is refused, naming both."""
    incident = new()
    with pytest.raises(InvalidTransition, match=r"^alice is already commander of INC-1\.$"):
        incident.assign_role(ALICE, Role.COMMANDER, ALICE, at(1))


def test_one_person_may_hold_several_roles_and_each_role_one_person() -> None:
    """bob may be deputy and scribe at once; giving scribe to carol takes it from bob."""
    incident = new()
    [entry] = incident.assign_role(ALICE, Role.DEPUTY, BOB, at(1))
    assert "previous" not in entry.data
    assert entry.text == "alice made bob deputy"
    incident.assign_role(ALICE, Role.SCRIBE, BOB, at(2))
    assert incident.roles_of(BOB) == {Role.DEPUTY, Role.SCRIBE}
    incident.assign_role(ALICE, Role.SCRIBE, CAROL, at(3))
    assert incident.roles_of(BOB) == {Role.DEPUTY}
    assert incident.roles[Role.SCRIBE] == CAROL


def test_roles_follow_the_actor_key_not_the_display_name() -> None:
    """The same platform user under another display name holds the same roles."""
    incident = new()
    assert incident.roles_of(Actor("slack", "U0ALICE", "Alice Liddell")) == {Role.COMMANDER}
    assert incident.roles_of(Actor("discord", "U0ALICE", "alice")) == set()


# --- participants, acknowledgement ---------------------------------------------------------------
def test_join_adds_a_participant_once() -> None:
    """join adds the actor; joining again is refused with a message naming them."""
    incident = new()
    [entry] = incident.join(BOB, at(1))
    assert entry.kind is EntryKind.JOINED
    assert incident.participants == [ALICE, BOB]
    with pytest.raises(InvalidTransition, match=r"^bob is already in INC-1\.$"):
        incident.join(BOB, at(2))
    with pytest.raises(InvalidTransition, match=r"^alice is already in INC-1\.$"):
        incident.join(ALICE, at(2))


def test_only_the_first_acknowledgement_sets_the_time() -> None:
    """The first ack sets acknowledged_at and says so in its data; later acks are recorded
    but keep the first time. Acknowledging makes the actor a participant."""
    incident = new()
    [first] = incident.acknowledge(BOB, at(2))
    [second] = incident.acknowledge(CAROL, at(3))
    assert incident.acknowledged_at == at(2)
    assert (first.data, second.data) == ({"first": True}, {"first": False})
    assert incident.participants == [ALICE, BOB, CAROL]


# --- updates, notes, action items ----------------------------------------------------------------
def test_update_records_the_text_and_the_time_of_the_last_update() -> None:
    """An update is a stripped UPDATE entry and moves last_update_at."""
    incident = new()
    [entry] = incident.post_update(BOB, "  Rolling back  ", at(4))
    assert (entry.kind, entry.text, entry.actor) == (EntryKind.UPDATE, "Rolling back", BOB)
    assert incident.last_update_at == at(4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: i.post_update(ALICE, "  ", at(1)), "An update needs some text."),
        (lambda i: i.add_note(ALICE, "", at(1)), "A note needs some text."),
        (lambda i: i.add_action(ALICE, "\n", None, at(1)), "An action item needs some text."),
    ],
)
def test_empty_texts_are_refused(change: object, message: str) -> None:
    """Updates, notes and action items need text; the message says which."""
    incident = new()
    with pytest.raises(InvalidTransition) as caught:
        change(incident)  # type: ignore[operator]
    assert str(caught.value) == message
    assert incident.last_update_at is None
    assert incident.action_items == []


def test_action_items_are_numbered_with_owner_and_author() -> None:
    """Action items count 1, 2, ...; each keeps its text, owner (optional), author and time."""
    incident = new()
    [first] = incident.add_action(BOB, "Add an alert on queue depth", DAN, at(5))
    [second] = incident.add_action(CAROL, "Write the runbook", None, at(6))
    assert [a.number for a in incident.action_items] == [1, 2]
    item = incident.action_items[0]
    assert (item.text, item.owner, item.created_by, item.created_at) == (
        "Add an alert on queue depth",
        DAN,
        BOB,
        at(5),
    )
    assert not item.done
    assert first.text == "Action 1: Add an alert on queue depth (owner dan)"
    assert first.data["owner"] == DAN.to_dict()
    assert second.text == "Action 2: Write the runbook"
    assert "owner" not in second.data


# --- actors --------------------------------------------------------------------------------------
def test_actor_identity_is_platform_and_user_id() -> None:
    """key is platform:user_id; from_key parses it back; a bad key is refused; the display
    name defaults to the user id and survives to_dict/from_dict."""
    assert ALICE.key == "slack:U0ALICE"
    assert Actor.from_key("slack:U0ALICE", "alice") == ALICE
    assert Actor.from_key("discord:700000000000000003").same_person(CAROL)
    assert not ALICE.same_person(None)
    assert DAN.name == "dan"
    assert Actor.from_dict(CAROL.to_dict()) == CAROL
    with pytest.raises(ValueError, match="platform:user_id"):
        Actor.from_key("U0ALICE")


def test_status_order_follows_the_lifecycle() -> None:
    """Statuses use Statuspage's words, in lifecycle order."""
    assert [s.value for s in sorted(Status, key=lambda s: s.order)] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
