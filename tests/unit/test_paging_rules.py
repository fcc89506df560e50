"""Paging decisions (pure): which timers a change arms or cancels, the escalation step machine,
what a page sends, and the PagerDuty event bodies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tocsin.domain.model import Actor, EntryKind, Incident, Role, Severity, Status, TimelineEntry
from tocsin.domain.paging import (
    ESCALATION,
    NAG,
    OBSERVE,
    REMINDER,
    Step,
    TimerOp,
    needs_commander,
    next_step,
    page_effects,
    page_note,
    page_text,
    plan_timers,
    remind_effects,
    stop_reason,
)
from tocsin.domain.policy import Escalation, Policy, default_policy
from tocsin.domain.routing import snapshot
from tocsin.platforms.pagerduty.sender import dedup_key, event_body

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOT = Actor("api", "alertmanager", "alertmanager")
LADDER = Escalation("default", (("schedule:primary",), ("slack:U0LEAD",)), 5, 1)
POLICY: Policy = replace(default_policy(), escalations=(LADDER,))


def declared(
    severity: Severity = Severity.P1, actor: Actor = ALICE
) -> tuple[Incident, list[TimelineEntry]]:
    return Incident.declare(1, "Checkout is down", severity, actor, T0)


def by_kind(ops: list[TimerOp]) -> dict[str, TimerOp]:
    return {op.kind: op for op in ops}


def test_declaring_a_p1_starts_paging_now_and_arms_the_update_reminder() -> None:
    """P1: the escalation's first step is due at once; the reminder 15 minutes later."""
    incident, entries = declared()
    ops = by_kind(plan_timers(incident, entries, POLICY, T0))
    assert set(ops) == {ESCALATION, REMINDER}
    assert ops[ESCALATION].due == T0
    assert Step.from_payload(ops[ESCALATION].payload) == Step("default", T0)
    assert ops[ESCALATION].key == "escalation:INC-1"
    assert ops[REMINDER].due == T0 + timedelta(minutes=15)


def test_p3_reminds_but_does_not_page_and_p4_does_neither() -> None:
    """The severity table (docs/policy.md): P3 no paging, reminder every 60 minutes; P4 nothing."""
    incident, entries = declared(Severity.P3)
    ops = by_kind(plan_timers(incident, entries, POLICY, T0))
    assert set(ops) == {REMINDER}
    assert ops[REMINDER].due == T0 + timedelta(minutes=60)
    incident, entries = declared(Severity.P4)
    assert [op.cancel for op in plan_timers(incident, entries, POLICY, T0)] == [True]


def test_a_downgrade_below_paging_cancels_the_escalation() -> None:
    """P1 → P3: paging stops; the reminder follows P3's cadence from the last update."""
    incident, _ = declared()
    later = T0 + timedelta(minutes=10)
    entries = incident.change_severity(ALICE, Severity.P3, later)
    ops = by_kind(plan_timers(incident, entries, POLICY, later, previous_severity=Severity.P1))
    assert ops[ESCALATION].cancel
    assert ops[REMINDER].due == T0 + timedelta(minutes=60)


def test_an_upgrade_starts_paging_unless_someone_already_acknowledged() -> None:
    """P3 → P1 pages; after an acknowledgement it does not (someone is on it)."""
    incident, _ = declared(Severity.P3)
    later = T0 + timedelta(minutes=3)
    entries = incident.change_severity(ALICE, Severity.P1, later)
    ops = by_kind(plan_timers(incident, entries, POLICY, later, previous_severity=Severity.P3))
    assert ops[ESCALATION].due == later
    acked, _ = declared(Severity.P3)
    acked.acknowledge(ALICE, later)
    entries = acked.change_severity(ALICE, Severity.P1, later)
    ops = by_kind(plan_timers(acked, entries, POLICY, later, previous_severity=Severity.P3))
    assert ESCALATION not in ops


def test_p2_to_p1_with_the_same_escalation_keeps_the_run_going() -> None:
    """Both levels page through "default": nothing to restart."""
    incident, _ = declared(Severity.P2)
    entries = incident.change_severity(ALICE, Severity.P1, T0)
    ops = by_kind(plan_timers(incident, entries, POLICY, T0, previous_severity=Severity.P2))
    assert ESCALATION not in ops


def test_an_incident_with_its_own_escalation_pages_through_it_at_any_severity() -> None:
    """An alert route's escalation (``Incident.escalation``) replaces the severity's: declaring
    starts it, a change between two paging severities keeps the run going, and a run of it is
    not stopped as "now pages through default"; a severity that does not page still stops it."""
    incident, entries = Incident.declare(1, "DB down", Severity.P1, ALICE, T0, escalation="db")
    ops = by_kind(plan_timers(incident, entries, POLICY, T0))
    assert Step.from_payload(ops[ESCALATION].payload) == Step("db", T0)
    assert stop_reason(incident, POLICY, Step("db", T0)) is None
    assert stop_reason(incident, POLICY, Step("default", T0)) is not None
    entries = incident.change_severity(ALICE, Severity.P2, T0)
    ops = by_kind(plan_timers(incident, entries, POLICY, T0, previous_severity=Severity.P1))
    assert ESCALATION not in ops
    entries = incident.change_severity(ALICE, Severity.P3, T0)
    ops = by_kind(plan_timers(incident, entries, POLICY, T0, previous_severity=Severity.P2))
    assert ops[ESCALATION].cancel
    assert stop_reason(incident, POLICY, Step("db", T0)) == "P3 does not page"


def test_acknowledging_stops_paging_and_records_time_to_acknowledge_once() -> None:
    """ack cancels the escalation and queues the metric, from the real timestamps."""
    incident, _ = declared()
    later = T0 + timedelta(minutes=4)
    ops = by_kind(plan_timers(incident, incident.acknowledge(ALICE, later), POLICY, later))
    assert ops[ESCALATION].cancel
    assert ops[OBSERVE].payload == {"metric": "acknowledged", "severity": "P1", "seconds": 240.0}
    assert ops[OBSERVE].replace is False
    again_at = later + timedelta(minutes=1)
    entries = incident.acknowledge(ALICE, again_at)
    again = by_kind(plan_timers(incident, entries, POLICY, again_at))
    assert OBSERVE not in again  # the second acknowledgement is not the first


def test_a_status_move_counts_as_acknowledging() -> None:
    """Moving to identified stamps acknowledged_at (the model's rule), so paging stops."""
    incident, _ = declared()
    later = T0 + timedelta(minutes=2)
    entries = incident.set_status(ALICE, Status.IDENTIFIED, later)
    ops = by_kind(plan_timers(incident, entries, POLICY, later))
    assert ops[ESCALATION].cancel
    assert ops[OBSERVE].payload["seconds"] == 120.0


def test_resolving_stops_everything_and_records_time_to_resolve() -> None:
    """Resolve cancels escalation, reminder and nag, and queues both metrics."""
    incident, _ = declared(actor=BOT)
    later = T0 + timedelta(hours=2)
    ops = plan_timers(incident, incident.resolve(ALICE, "fixed", later), POLICY, later)
    cancelled = {op.kind for op in ops if op.cancel}
    assert cancelled == {ESCALATION, REMINDER, NAG}
    observed = [op.payload["metric"] for op in ops if op.kind == OBSERVE]
    assert observed == ["acknowledged", "resolved"]
    resolved = next(op for op in ops if op.kind == OBSERVE and op.payload["metric"] == "resolved")
    assert resolved.payload["seconds"] == 7200.0


def test_an_update_rearms_the_reminder_a_full_cadence_later() -> None:
    """Posting an update pushes the next reminder to 15 minutes after it."""
    incident, _ = declared()
    later = T0 + timedelta(minutes=12)
    ops = by_kind(plan_timers(incident, incident.post_update(ALICE, "on it", later), POLICY, later))
    assert ops[REMINDER].due == later + timedelta(minutes=15)
    assert ops[REMINDER].replace


def test_nag_while_a_machine_holds_command_and_stop_when_a_person_takes_it() -> None:
    """Declared by an API token (commander = the token): nag; a person taking command stops it."""
    incident, entries = declared(actor=BOT)
    assert needs_commander(incident)
    ops = by_kind(plan_timers(incident, entries, POLICY, T0))
    assert ops[NAG].due == T0
    later = T0 + timedelta(minutes=7)
    entries = incident.assign_role(BOT, Role.COMMANDER, ALICE, later)
    assert by_kind(plan_timers(incident, entries, POLICY, later))[NAG].cancel
    person, entries = declared()
    assert NAG not in by_kind(plan_timers(person, entries, POLICY, T0))


def test_steps_walk_levels_then_rounds_then_stop() -> None:
    """Two levels, repeat 1: L1, L2, L1 again, L2 again, then exhausted."""
    step = Step("default", T0)
    seen = [(step.level, step.round)]
    while not step.exhausted:
        step = next_step(LADDER, step)
        seen.append((step.level, step.round) if not step.exhausted else ("done", step.round))
    assert seen == [(0, 0), (1, 0), (0, 1), (1, 1), ("done", 1)]
    assert Step.from_payload(step.to_payload()) == step


def test_stop_reasons() -> None:
    """A run ends on resolve, on a severity that no longer pages, on an acknowledgement made
    after the run started (not an old one from before a reopen)."""
    incident, _ = declared()
    step = Step("default", T0)
    assert stop_reason(incident, POLICY, step) is None
    incident.acknowledged_at = T0 - timedelta(days=1)
    assert stop_reason(incident, POLICY, step) is None
    incident.acknowledged_at = T0 + timedelta(minutes=1)
    assert stop_reason(incident, POLICY, step) == "the page was acknowledged"
    incident.acknowledged_at = None
    incident.severity = Severity.P3
    assert stop_reason(incident, POLICY, step) == "P3 does not page"
    incident.severity = Severity.P1
    incident.resolve(ALICE, "", T0)
    assert stop_reason(incident, POLICY, step) == "the incident is resolved"


def test_a_page_is_a_dm_per_person_on_their_platform_and_one_webhook() -> None:
    """Slack and Discord people get a ``page_dm`` with an Acknowledge button (only where the
    platform is on), the webhook one event listing everyone; keys are unique per step."""
    incident, _ = declared()
    targets = ["slack:U0ALICE", "discord:700000000000000005", "slack:U0BOB"]
    snap = snapshot(incident)
    effects = page_effects(
        incident, snap, LADDER, Step("default", T0), targets, {"slack", "webhook"}
    )
    dms = [e for e in effects if e.kind == "page_dm"]
    assert [e.payload["person"]["user_id"] for e in dms] == ["U0ALICE", "U0BOB"]
    assert all(e.destination == "slack" and e.payload["buttons"] == ["ack"] for e in dms)
    assert dms[0].ordering_key == "slack:page:slack:U0ALICE"  # not queued behind channel posts
    hook = next(e for e in effects if e.destination == "webhook")
    assert hook.payload["targets"] == targets
    assert hook.payload["level"] == 1
    later = page_effects(incident, snap, LADDER, Step("default", T0, 1), targets, {"slack"})
    assert {e.key for e in later}.isdisjoint(e.key for e in effects)


def test_page_texts_say_what_happens_next() -> None:
    """The DM says who commands and when the next level is paged; the note names who was paged
    or explains why nobody was."""
    incident, _ = declared()
    first = page_text(incident, LADDER, Step("default", T0))
    assert "INC-1 (P1, critical): Checkout is down" in first
    assert "within 5 min, tocsin pages the next level" in first
    assert "last round" in page_text(incident, LADDER, Step("default", T0, 1, 1))
    note = page_note(incident, LADDER, Step("default", T0), ["slack:U0ALICE"], T0)
    assert note.kind is EntryKind.NOTE
    assert note.text.startswith("Paged slack:U0ALICE (level 1 of 2, round 1 of 2")
    assert "nobody" in page_note(incident, LADDER, Step("default", T0), [], T0).text.lower()
    empty = Escalation("default", ())
    assert "has no levels" in page_note(incident, empty, Step("default", T0), [], T0).text
    done = page_note(incident, LADDER, Step("default", T0, 1, 1, exhausted=True), [], T0)
    assert "stopped paging" in done.text


def test_reminders_go_to_each_chat_channel_with_a_post_update_button() -> None:
    """``remind`` effects mention the commander and offer the Post update button; nags do not."""
    incident, _ = declared()
    effects = remind_effects(incident, snapshot(incident), "update", "x", {"slack", "discord"}, T0)
    assert [(e.destination, e.kind) for e in effects] == [
        ("slack", "remind"),
        ("discord", "remind"),
    ]
    assert effects[0].payload["buttons"] == ["update"]
    assert effects[0].payload["person"]["user_id"] == "U0ALICE"
    nag = remind_effects(incident, snapshot(incident), "commander", "y", {"slack"}, T0)
    assert nag[0].payload["buttons"] == []
    assert nag[0].payload["person"] is None


def test_pagerduty_events_share_one_dedup_key_per_incident() -> None:
    """trigger carries the summary and severity; acknowledge and resolve only the key."""
    incident, _ = declared()
    payload = {"incident": snapshot(incident, "https://tocsin.example"), "text": "x", "at": ""}
    trigger = event_body("R0UTING", "trigger", payload)
    assert trigger["dedup_key"] == dedup_key(1) == "tocsin-INC-1"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["summary"] == "INC-1 (P1): Checkout is down"
    assert trigger["links"][0]["href"] == "https://tocsin.example/incidents/1"
    assert event_body("R0UTING", "resolve", payload) == {
        "routing_key": "R0UTING", "event_action": "resolve", "dedup_key": "tocsin-INC-1",
    }  # fmt: skip
