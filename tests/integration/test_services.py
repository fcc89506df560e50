"""Every subcommand through ``dispatch.execute`` as various actors, on SQLite and PostgreSQL:
what is allowed, what is denied (audited, nothing else changes), refused transitions (nothing
changes, not audited), unknown incidents, a missing reference, and the outbox rows planned."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from tocsin.domain.commands import parse
from tocsin.domain.errors import InvalidTransition, NotFound, ParseError, PermissionDenied
from tocsin.domain.model import Actor, EntryKind, Role, Severity, Status
from tocsin.domain.policy_file import parse_policy
from tocsin.services.audit_check import check_audit
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute
from tocsin.services.postmortem import postmortem
from tocsin.storage import tables as t
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")
CAROL = Actor("slack", "U0CAROL", "carol")
DAN = Actor("slack", "U0DAN", "dan")
EVE = Actor("slack", "U0EVE", "eve")
ADMIN = Actor("slack", "U0ADMIN", "admin")
OPERATOR = Actor("cli", "ops", "ops")
POLICY = parse_policy({"admins": {"slack": ["U0ADMIN"]}})


@pytest.fixture
def svc(db: Database, clock: Any) -> Context:
    """The services on a migrated database with an admin listed for Slack, no destinations."""
    return Context(db=db, policy=POLICY, clock=clock)


async def run(ctx: Context, actor: Actor, text: str, channel: int | None = None) -> Outcome:
    return await execute(ctx, actor, parse(text), channel_incident=channel)


async def staffed(ctx: Context) -> None:
    """INC-1 (P2): alice commands, bob is deputy, carol comms, dan scribe."""
    await run(ctx, ALICE, 'declare "Checkout is down" P2')
    await run(ctx, ALICE, "role INC-1 deputy <@U0BOB|bob>")
    await run(ctx, ALICE, "role INC-1 comms <@U0CAROL|carol>")
    await run(ctx, ALICE, "role INC-1 scribe <@U0DAN|dan>")


async def snapshot(db: Database) -> dict[str, Any]:
    """Every row tocsin keeps, except the audit log (compared separately)."""
    result: dict[str, Any] = {}
    async with db.engine.connect() as conn:
        for table in (t.incidents, t.timeline, t.action_items, t.outbox, t.counters):
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            result[table.name] = [dict(row) for row in rows.mappings()]
    return result


async def audit_log(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.seq))
        return [dict(row) for row in rows.mappings()]


# --- the happy path ------------------------------------------------------------------------------
async def test_every_subcommand_runs_through_execute(svc: Context) -> None:
    """The whole vocabulary, each as someone allowed to run it: every state change lands on the
    incident and its timeline and is audited as allowed; reads and help are not audited."""
    assert "declare" in (await run(svc, EVE, "help")).message
    declared = await run(svc, ALICE, 'declare "Checkout is down" P2')
    assert declared.incident is not None
    assert declared.incident.ref == "INC-1"
    assert [i.ref for i in (await run(svc, EVE, "list")).incidents] == ["INC-1"]
    await run(svc, ALICE, "update INC-1 Payments fail; rolling back")
    await run(svc, EVE, "note INC-1 deploy 4711 went out at 08:55")
    await run(svc, ALICE, "severity INC-1 P1")
    await run(svc, ALICE, "status INC-1 identified")
    await run(svc, ALICE, "role INC-1 scribe <@U0DAN|dan>")
    await run(svc, ALICE, "commander INC-1 <@U0BOB|bob>")
    await run(svc, EVE, "join INC-1")
    await run(svc, CAROL, "ack INC-1")
    await run(svc, EVE, "action INC-1 Alert on queue depth <@U0DAN|dan>")
    await run(svc, BOB, "status INC-1 monitoring")
    await run(svc, BOB, "resolve INC-1 Rolled back deploy 4711")
    await run(svc, BOB, "reopen INC-1")
    await run(svc, BOB, "resolve INC-1")
    pm = await run(svc, EVE, "postmortem INC-1")
    assert "## Timeline" in pm.document
    assert "Alert on queue depth" in pm.document

    shown = await run(svc, EVE, "show INC-1")
    incident = shown.incident
    assert incident is not None
    assert (incident.severity, incident.status) == (Severity.P1, Status.RESOLVED)
    assert incident.summary == "Rolled back deploy 4711"
    assert incident.roles == {Role.COMMANDER: BOB, Role.SCRIBE: DAN}
    assert {p.key for p in incident.participants} == {a.key for a in (ALICE, BOB, CAROL, DAN, EVE)}
    assert [(a.text, a.owner) for a in incident.action_items] == [("Alert on queue depth", DAN)]
    assert incident.acknowledged_at is not None
    assert [e.kind for e in shown.timeline] == [
        EntryKind.DECLARED, EntryKind.UPDATE, EntryKind.NOTE, EntryKind.SEVERITY,
        EntryKind.STATUS, EntryKind.ROLE, EntryKind.ROLE, EntryKind.JOINED,
        EntryKind.ACKNOWLEDGED, EntryKind.ACTION, EntryKind.STATUS, EntryKind.RESOLVED,
        EntryKind.REOPENED, EntryKind.RESOLVED, EntryKind.POSTMORTEM,
    ]  # fmt: skip

    entries = await audit_log(svc.db)
    assert [e["command"] for e in entries] == [
        "declare", "update", "note", "severity", "status", "role", "commander", "join", "ack",
        "action", "status", "resolve", "reopen", "resolve", "postmortem",
    ]  # fmt: skip
    assert {e["decision"] for e in entries} == {"allowed"}
    assert all(e["incident"] == 1 for e in entries)
    assert await check_audit(svc) == (None, 15)


async def test_declare_defaults_and_named_commander(svc: Context) -> None:
    """Without a severity the policy's default (P3) applies; a mentioned commander commands,
    on the declarer's platform."""
    outcome = await run(svc, ALICE, "declare Search is slow <@U0BOB|bob>")
    assert outcome.incident is not None
    assert outcome.incident.severity is Severity.P3
    assert outcome.incident.commander == BOB
    assert "INC-1" in outcome.message


async def test_the_channel_implies_the_incident(svc: Context) -> None:
    """Inside an incident's channel the reference may be left out."""
    await run(svc, ALICE, "declare One")
    await run(svc, ALICE, "declare Two")
    outcome = await run(svc, ALICE, "note from the channel", channel=1)
    assert outcome.incident is not None
    assert outcome.incident.number == 1
    assert outcome.timeline[0].text == "from the channel"


ALLOWED = [
    (BOB, "update INC-1 mitigated", "deputy"),
    (CAROL, "update INC-1 mitigated", "comms"),
    (EVE, "note INC-1 seen it too", "anyone"),
    (ADMIN, "severity INC-1 P1", "admin"),
    (OPERATOR, "commander INC-1 @slack:U0EVE", "admin"),
    (ADMIN, "resolve INC-1 done", "admin"),
]


async def test_roles_and_admins_are_allowed_what_the_table_says(svc: Context) -> None:
    """Deputy and comms may post updates, anyone may note; a policy admin and the CLI operator
    may run commander-only commands; each audit entry records what allowed it."""
    await staffed(svc)
    for actor, text, reason in ALLOWED:
        await run(svc, actor, text)
        last = (await audit_log(svc.db))[-1]
        assert (last["command"], last["decision"], last["reason"]) == (
            parse(text).name,
            "allowed",
            reason,
        ), text
        assert (last["platform"], last["actor_id"]) == (actor.platform, actor.user_id)
    shown = await run(svc, EVE, "show INC-1")
    assert shown.incident is not None
    assert shown.incident.status is Status.RESOLVED
    commander = shown.incident.commander
    assert commander is not None
    assert commander.key == EVE.key  # "@slack:U0EVE" from the CLI names a Slack user


# --- denials -------------------------------------------------------------------------------------
DENIED = [
    (EVE, "update INC-1 all good"),
    (DAN, "update INC-1 all good"),
    (EVE, "severity INC-1 P1"),
    (BOB, "severity INC-1 P1"),
    (EVE, "status INC-1 identified"),
    (CAROL, "resolve INC-1 done"),
    (EVE, "commander INC-1 <@U0EVE|eve>"),
    (BOB, "role INC-1 scribe <@U0BOB|bob>"),
]


async def test_denied_commands_are_audited_and_change_nothing_else(svc: Context) -> None:
    """Someone without the role is told who may, the attempt is audited as denied (actor,
    platform, command, incident, reason), and no incident, timeline, outbox or counter row
    changes."""
    await staffed(svc)
    before = await snapshot(svc.db)
    for actor, text in DENIED:
        audit_before = await audit_log(svc.db)
        with pytest.raises(PermissionDenied) as caught:
            await run(svc, actor, text)
        message = str(caught.value)
        assert message.startswith("Only the commander of INC-1 (alice)"), text
        assert " or an admin may " in message
        assert await snapshot(svc.db) == before, text
        audit_after = await audit_log(svc.db)
        assert audit_after[:-1] == audit_before
        last = audit_after[-1]
        assert (last["decision"], last["command"], last["incident"]) == (
            "denied",
            parse(text).name,
            1,
        ), text
        assert (last["platform"], last["actor_id"], last["actor_name"]) == (
            "slack",
            actor.user_id,
            actor.name,
        )
        assert last["reason"] == message
    assert await check_audit(svc) == (None, 4 + len(DENIED))


async def test_reopen_by_someone_else_is_denied(svc: Context) -> None:
    """Only the commander (or an admin) may reopen; the refusal is audited and the incident
    stays resolved."""
    await run(svc, ALICE, "declare Gone")
    await run(svc, ALICE, "resolve INC-1")
    with pytest.raises(PermissionDenied, match=r"^Only the commander of INC-1 \(alice\)"):
        await run(svc, EVE, "reopen INC-1")
    shown = await run(svc, EVE, "show INC-1")
    assert shown.incident is not None
    assert shown.incident.status is Status.RESOLVED
    assert [e["decision"] for e in await audit_log(svc.db)][-1] == "denied"


# --- refused transitions -------------------------------------------------------------------------
REFUSED = [
    ("status INC-1 investigating", "INC-1 is already investigating."),
    ("severity INC-1 P2", "INC-1 is already P2."),
    ("reopen INC-1", "INC-1 is not resolved, so it cannot be reopened."),
    ("join INC-1", "alice is already in INC-1."),
    ("role INC-1 deputy <@U0BOB|bob>", "bob is already deputy of INC-1."),
    ("commander INC-1 <@U0ALICE|alice>", "alice is already commander of INC-1."),
]


async def test_invalid_transitions_change_nothing_and_are_not_audited(svc: Context) -> None:
    """A change the incident cannot make is refused with a plain message; no row changes and
    nothing is added to the audit log."""
    await staffed(svc)
    before, audit_before = await snapshot(svc.db), await audit_log(svc.db)
    for text, message in REFUSED:
        with pytest.raises(InvalidTransition) as caught:
            await run(svc, ALICE, text)
        assert str(caught.value) == message
        assert await snapshot(svc.db) == before, text
        assert await audit_log(svc.db) == audit_before, text


async def test_changes_to_a_resolved_incident_are_refused_until_reopened(svc: Context) -> None:
    """After resolve, update/severity/status are refused saying to reopen first; after reopen
    they work again."""
    await run(svc, ALICE, "declare Gone P2")
    await run(svc, ALICE, "resolve INC-1")
    for text in ("update INC-1 x", "severity INC-1 P1", "status INC-1 identified"):
        with pytest.raises(InvalidTransition, match=r"^INC-1 is resolved; reopen it before"):
            await run(svc, ALICE, text)
    with pytest.raises(InvalidTransition, match=r"^INC-1 is already resolved\.$"):
        await run(svc, ALICE, "resolve INC-1")
    await run(svc, ALICE, "reopen INC-1")
    outcome = await run(svc, ALICE, "severity INC-1 P1")
    assert outcome.incident is not None
    assert outcome.incident.severity is Severity.P1


# --- unknown and missing incidents ---------------------------------------------------------------
UNKNOWN = (
    "show INC-99",
    "note INC-99 hello",
    "update INC-99 hi",
    "resolve INC-99",
    "postmortem INC-99",
    "join INC-99",
)


async def test_an_unknown_incident_is_not_found_with_a_helpful_message(svc: Context) -> None:
    """Naming an incident that does not exist says so and how to find the right one, and
    changes nothing (not even the audit log)."""
    await run(svc, ALICE, "declare Real one")
    before, audit_before = await snapshot(svc.db), await audit_log(svc.db)
    for text in UNKNOWN:
        with pytest.raises(NotFound) as caught:
            await run(svc, ALICE, text)
        assert "There is no INC-99." in str(caught.value), text
        assert "list all" in str(caught.value)
    assert await snapshot(svc.db) == before
    assert await audit_log(svc.db) == audit_before


async def test_a_missing_reference_outside_a_channel_lists_open_incidents(svc: Context) -> None:
    """Without INC-n and outside an incident channel, the error asks which incident, shows how
    to name one, and lists the open incidents (newest first, resolved ones left out)."""
    for title in ("One", "Two", "Three"):
        await run(svc, ALICE, f"declare {title}")
    await run(svc, ALICE, "resolve INC-2")
    with pytest.raises(ParseError) as caught:
        await run(svc, ALICE, "note forgot the reference")
    message = str(caught.value)
    assert message.startswith("Which incident?")
    assert "note INC-12" in message
    assert "Open now: INC-3, INC-1." in message


async def test_a_missing_reference_with_nothing_open_says_which_incident(svc: Context) -> None:
    """With no open incidents the question is asked without an empty list."""
    with pytest.raises(ParseError, match=r"^Which incident\?") as caught:
        await run(svc, ALICE, "resolve")
    assert "Open now" not in str(caught.value)


# --- outbox --------------------------------------------------------------------------------------
async def outbox(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.select(t.outbox).order_by(t.outbox.c.id))
        return [dict(row) for row in rows.mappings()]


async def test_a_p1_plans_its_outbox_rows_in_the_same_transaction(db: Database, clock: Any) -> None:
    """Declaring a P1 with Slack, Statuspage and PagerDuty switched on queues: open the channel,
    announce, sync the status page, page on-call; all pending, due now, unique keys. A note
    adds only a Slack post; a denied attempt adds nothing."""
    ctx = Context(
        db=db,
        policy=POLICY,
        clock=clock,
        destinations=frozenset({"slack", "statuspage", "pagerduty"}),
    )
    await run(ctx, ALICE, 'declare "Checkout is down" P1')
    rows = await outbox(db)
    assert Counter((r["destination"], r["kind"]) for r in rows) == Counter(
        {
            ("slack", "open_channel"): 1,
            ("slack", "announce"): 1,
            ("statuspage", "sync"): 1,
            ("pagerduty", "trigger"): 1,
        }
    )
    assert {r["state"] for r in rows} == {"pending"}
    assert {r["incident"] for r in rows} == {1}
    assert {r["attempts"] for r in rows} == {0}
    assert len({r["idempotency_key"] for r in rows}) == len(rows)
    for row in rows:
        assert row["payload"]["incident"]["ref"] == "INC-1"
        assert row["payload"]["incident"]["severity"] == "P1"
        due = row["next_attempt_at"]
        assert due.replace(tzinfo=None) == clock().replace(tzinfo=None)

    await run(ctx, EVE, "note INC-1 seen in eu-west")
    added = (await outbox(db))[len(rows) :]
    assert [(r["destination"], r["kind"]) for r in added] == [("slack", "post")]

    count = len(await outbox(db))
    with pytest.raises(PermissionDenied):
        await run(ctx, EVE, "resolve INC-1")
    assert len(await outbox(db)) == count


async def test_no_destinations_means_no_outbox_rows(svc: Context) -> None:
    """With nothing switched on (no credentials), commands queue no effects at all."""
    await run(svc, ALICE, "declare Quiet one P1")
    await run(svc, ALICE, "update INC-1 still quiet")
    assert await outbox(svc.db) == []


async def test_the_cli_postmortem_only_reads(svc: Context) -> None:
    """Rendering the post-mortem without recording it (``tocsin postmortem``) writes nothing;
    the chat command records a timeline entry and an audit entry."""
    await run(svc, ALICE, "declare Gone P2")
    await run(svc, ALICE, "resolve INC-1 fixed")
    before, audit_before = await snapshot(svc.db), await audit_log(svc.db)
    outcome = await postmortem(svc, OPERATOR, 1, record=False)
    assert outcome.document.startswith("# INC-1: Gone")
    assert await snapshot(svc.db) == before
    assert await audit_log(svc.db) == audit_before
    await run(svc, EVE, "postmortem INC-1")
    assert (await audit_log(svc.db))[-1]["command"] == "postmortem"
