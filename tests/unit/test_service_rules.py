"""The incident command path's rules, through ``dispatch.execute`` on the in-memory unit of work
(``tests/fakes/uow.py``): no database. What is saved, audited and queued for each command, what a
refusal leaves behind, and how a severity change re-routes. The same path on SQLite and
PostgreSQL is pinned by tests/integration/test_services.py."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.uow import FakeData, fake_context
from tocsin.domain.commands import parse
from tocsin.domain.errors import InvalidTransition, NotFound, PermissionDenied
from tocsin.domain.model import Actor, EntryKind, Severity, Status
from tocsin.domain.policy_file import parse_policy
from tocsin.services.audit_check import check_audit
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute

ALICE = Actor("slack", "U0ALICE", "alice")
EVE = Actor("slack", "U0EVE", "eve")
POLICY = parse_policy({"admins": {"slack": ["U0ADMIN"]}})
EVERYWHERE = frozenset({"slack", "pagerduty"})


@pytest.fixture
def svc(clock: Any) -> tuple[Context, FakeData]:
    """The services on an in-memory unit of work, Slack and PagerDuty switched on."""
    return fake_context(POLICY, clock=clock, destinations=EVERYWHERE)


async def run(ctx: Context, actor: Actor, text: str) -> Outcome:
    return await execute(ctx, actor, parse(text))


def kinds(data: FakeData, since: int = 0) -> list[tuple[str, str]]:
    """(destination, kind) of the effects queued after the first ``since``."""
    return [(e.destination, e.kind) for e in data.effects()[since:]]


async def test_declare_saves_the_incident_its_timeline_audit_and_routed_effects(
    svc: tuple[Context, FakeData],
) -> None:
    """A P2 declare takes INC-1, records the declaration, audits it as allowed and queues the
    channel, the announcement and a page, in one commit."""
    ctx, data = svc
    outcome = await run(ctx, ALICE, 'declare "Checkout is down" P2')
    assert outcome.incident is not None
    assert outcome.incident.ref == "INC-1"
    assert data.incidents[1].title == "Checkout is down"
    assert [e.kind for _, e in data.timeline] == [EntryKind.DECLARED]
    assert [(a.record.command, a.record.decision) for a in data.audit] == [("declare", "allowed")]
    assert kinds(data) == [
        ("slack", "open_channel"),
        ("slack", "announce"),
        ("pagerduty", "trigger"),
    ]
    assert data.commits == 1


async def test_denied_change_is_audited_and_nothing_else_is_saved(
    svc: tuple[Context, FakeData],
) -> None:
    """Someone without a role may not resolve: the refusal is audited with its reason and the
    incident, its timeline, the outbox and the timers stay as they were."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P2')
    before = (
        data.incidents[1].status,
        data.incidents[1].version,
        list(data.timeline),
        data.effects(),
        dict(data.timers),
    )
    with pytest.raises(PermissionDenied) as refused:
        await run(ctx, EVE, "resolve INC-1 fixed it")
    after = (
        data.incidents[1].status,
        data.incidents[1].version,
        data.timeline,
        data.effects(),
        data.timers,
    )
    assert after == before
    last = data.audit[-1].record
    assert (last.command, last.decision, last.actor_id) == ("resolve", "denied", "U0EVE")
    assert last.reason == refused.value.message
    assert "commander" in last.reason


async def test_denied_declare_takes_no_number(clock: Any) -> None:
    """Where only admins may declare, a refused declare is audited and takes no incident
    number: the next allowed declare is still INC-1."""
    policy = parse_policy({"admins": {"slack": ["U0ADMIN"]}, "permissions": {"declare": ["admin"]}})
    ctx, data = fake_context(policy, clock=clock)
    with pytest.raises(PermissionDenied):
        await run(ctx, EVE, 'declare "Checkout is down" P2')
    assert data.incidents == {}
    assert data.timeline == []
    assert data.effects() == []
    assert [(a.record.command, a.record.decision) for a in data.audit] == [("declare", "denied")]
    admin = Actor("slack", "U0ADMIN", "admin")
    made = await run(ctx, admin, 'declare "Checkout is down" P2')
    assert made.incident is not None
    assert made.incident.ref == "INC-1"


async def test_note_appends_to_the_timeline_and_queues_a_post(
    svc: tuple[Context, FakeData],
) -> None:
    """Anyone may add a note: it lands on the timeline with its author, is audited, and is
    posted to the chat channel; a note does not refresh the announcement or page."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P2')
    queued = len(data.effects())
    await run(ctx, EVE, "note INC-1 deploy 4711 went out at 08:55")
    number, entry = data.timeline[-1]
    assert (number, entry.kind, entry.text, entry.actor) == (
        1,
        EntryKind.NOTE,
        "deploy 4711 went out at 08:55",
        EVE,
    )
    assert kinds(data, queued) == [("slack", "post")]
    assert data.effects()[-1].payload["text"] == "deploy 4711 went out at 08:55"
    assert (data.audit[-1].record.command, data.audit[-1].record.decision) == ("note", "allowed")


async def test_raising_severity_reroutes_announces_and_pages(
    svc: tuple[Context, FakeData],
) -> None:
    """A P4 is neither announced nor paged; raised to P1 it is announced for the first time
    and PagerDuty is triggered, and an escalation timer is armed."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is slow" P4')
    assert kinds(data) == [("slack", "open_channel")]
    assert not [t for t in data.timers.values() if t.kind == "escalation"]
    queued = len(data.effects())
    await run(ctx, ALICE, "severity INC-1 P1")
    assert data.incidents[1].severity is Severity.P1
    assert kinds(data, queued) == [
        ("slack", "post"),
        ("slack", "announce"),
        ("pagerduty", "trigger"),
    ]
    assert [t.state for t in data.timers.values() if t.kind == "escalation"] == ["pending"]


async def test_lowering_severity_below_paging_resolves_the_page(
    svc: tuple[Context, FakeData],
) -> None:
    """P1 down to P3: still announced (the announcement is refreshed, not made again) and the
    PagerDuty alert is resolved, since P3 does not page."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P1')
    queued = len(data.effects())
    await run(ctx, ALICE, "severity INC-1 P3")
    assert kinds(data, queued) == [
        ("slack", "post"),
        ("slack", "refresh_announcement"),
        ("pagerduty", "resolve"),
    ]


async def test_status_and_ack_reach_chat_and_pagerduty(svc: tuple[Context, FakeData]) -> None:
    """The commander's status change refreshes the announcement; an acknowledgement (anyone)
    acknowledges the PagerDuty alert."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P1')
    queued = len(data.effects())
    await run(ctx, ALICE, "status INC-1 identified")
    assert data.incidents[1].status is Status.IDENTIFIED
    assert kinds(data, queued) == [("slack", "post"), ("slack", "refresh_announcement")]
    queued = len(data.effects())
    await run(ctx, EVE, "ack INC-1")
    assert ("pagerduty", "acknowledge") in kinds(data, queued)


async def test_resolve_closes_the_page_and_cancels_the_timers(
    svc: tuple[Context, FakeData],
) -> None:
    """Resolving resolves the PagerDuty alert and cancels the escalation, reminder and nag
    timers (only the metrics timers stay pending); resolving again is a refused transition
    that changes nothing and is not audited."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P1')
    pending = {t.kind for t in data.timers.values() if t.state == "pending"}
    assert {"escalation", "update_reminder"} <= pending
    queued = len(data.effects())
    await run(ctx, ALICE, "resolve INC-1 rolled back")
    assert data.incidents[1].status is Status.RESOLVED
    assert ("pagerduty", "resolve") in kinds(data, queued)
    assert {t.kind for t in data.timers.values() if t.state == "pending"} == {"incident_metrics"}
    audited, commits = len(data.audit), data.commits
    with pytest.raises(InvalidTransition):
        await run(ctx, ALICE, "resolve INC-1 again")
    assert (len(data.audit), data.commits) == (audited, commits)


async def test_unknown_incident_commits_nothing(svc: tuple[Context, FakeData]) -> None:
    """A note on an incident that does not exist is NotFound and commits nothing."""
    ctx, data = svc
    with pytest.raises(NotFound):
        await run(ctx, EVE, "note INC-9 hello")
    assert data.commits == 0
    assert data.audit == []


async def test_the_audit_chain_the_commands_write_verifies(svc: tuple[Context, FakeData]) -> None:
    """Allowed and denied commands chain one audit log that check_audit accepts end to end."""
    ctx, _data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P2')
    await run(ctx, EVE, "note INC-1 looking")
    with pytest.raises(PermissionDenied):
        await run(ctx, EVE, "severity INC-1 P1")
    assert await check_audit(ctx) == (None, 3)


async def test_roles_decide_who_may_change_the_incident(svc: tuple[Context, FakeData]) -> None:
    """The commander names a deputy; the deputy may then post an update but not resolve, and
    the refusal names who may."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P2')
    with pytest.raises(PermissionDenied):
        await run(ctx, EVE, "update INC-1 payments failing")
    await run(ctx, ALICE, "role INC-1 deputy <@U0EVE|eve>")
    await run(ctx, EVE, "update INC-1 payments failing")
    assert data.timeline[-1][1].kind is EntryKind.UPDATE
    with pytest.raises(PermissionDenied, match="commander"):
        await run(ctx, EVE, "resolve INC-1 fixed")
    decisions = [(a.record.command, a.record.decision) for a in data.audit]
    assert decisions[-4:] == [
        ("update", "denied"),
        ("role", "allowed"),
        ("update", "allowed"),
        ("resolve", "denied"),
    ]
    assert data.incidents[1].status is not Status.RESOLVED


async def test_reopening_pages_again(svc: tuple[Context, FakeData]) -> None:
    """A resolved P1 reopened by its commander triggers PagerDuty again and re-arms the
    escalation."""
    ctx, data = svc
    await run(ctx, ALICE, 'declare "Checkout is down" P1')
    await run(ctx, ALICE, "resolve INC-1 rolled back")
    queued = len(data.effects())
    await run(ctx, ALICE, "reopen INC-1")
    assert data.incidents[1].status is not Status.RESOLVED
    assert ("pagerduty", "trigger") in kinds(data, queued)
    escalation = [t for t in data.timers.values() if t.kind == "escalation"]
    assert [t.state for t in escalation] == ["pending"]
