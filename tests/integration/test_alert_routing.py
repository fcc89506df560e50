"""What tocsin does with an alert group, by its route, on the real database: declare an incident
(joined again while open, noted and auto-resolved when the group resolves), propose it in the
announce channel, page on-call without an incident, ignore it; silenced groups act on nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, routed, runner
from tocsin.domain.model import Status
from tocsin.services.alerts.groups import ack_group, declare_group, silence_group
from tocsin.services.alerts.process import ALERTS
from tocsin.services.context import Context
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ONCALL = [{"name": "default", "levels": [["slack:U0ONCALL"]]}]


def _ctx(db: Database, clock: object, *routes: dict[str, object]) -> Context:
    policy = routed(*routes, escalation=ONCALL)
    return Context(db, policy, clock=clock, destinations=frozenset({"slack"}))  # type: ignore[arg-type]


async def _post(ctx: Context, path: str, *bodies: bytes) -> None:
    """Post each body a second after the last (generic alerts are ordered by arrival), then
    process the inbox."""
    async with intake_client(ctx) as client:
        for body in bodies:
            ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # the tests' Clock
            assert (await client.post(path, content=body)).status_code == 202
    await runner(ctx).fire_due()


async def _outbox_kinds(db: Database) -> list[tuple[str, str, int | None]]:
    async with UnitOfWork(db, read_only=True) as uow:
        rows = await uow.outbox.rows(("pending",), limit=500)
    return [(row.destination, row.kind, row.incident) for row in rows]


@pytest.fixture
def declaring(db: Database, clock: object) -> Context:
    return _ctx(
        db,
        clock,
        {"match": {"team": "db"}, "action": "declare", "severity": "P2", "auto_resolve": True},
    )


async def test_declare_opens_an_incident_with_on_call_as_commander(declaring: Context) -> None:
    """A ``declare`` route declares an incident at its severity, commanded by whoever is on call,
    and attaches the group to it."""
    made = await integration(declaring)
    await _post(declaring, path_of(made), generic("disk", labels={"team": "db"}))
    [kept] = await groups(declaring)
    assert kept.incident == 1
    async with UnitOfWork(declaring.db, read_only=True) as uow:
        incident = await uow.incidents.get(1)
    assert incident is not None
    assert (incident.title, incident.severity.value) == ("disk is down", "P2")
    assert incident.commander is not None
    assert incident.commander.key == "slack:U0ONCALL"


async def test_a_group_firing_again_joins_its_open_incident(db: Database, clock: object) -> None:
    """Without auto-resolve: fire, resolve, fire again while the incident is open gives one
    incident, with notes on its timeline for the resolve and for the new firing."""
    ctx = _ctx(db, clock, {"match": {"team": "db"}, "action": "declare", "severity": "P2"})
    made = await integration(ctx)
    path = path_of(made)
    await _post(ctx, path, generic("disk", labels={"team": "db"}))
    await _post(ctx, path, generic("disk", "resolved"))
    await _post(ctx, path, generic("disk", labels={"team": "db"}))
    async with UnitOfWork(db, read_only=True) as uow:
        assert [i.number for i in await uow.incidents.list(open_only=False)] == [1]
        notes = [entry.text for entry in await uow.timeline.list(1)]
    assert any("(disk is down) resolved" in text for text in notes)
    assert any("(disk is down) is firing again" in text for text in notes)
    [kept] = await groups(ctx)
    assert (kept.incident, kept.group.status.value) == (1, "firing")


async def test_auto_resolve_resolves_the_incident_when_its_groups_resolve(
    declaring: Context,
) -> None:
    """With ``auto_resolve``, the incident resolves once its (only) group resolves."""
    made = await integration(declaring)
    await _post(declaring, path_of(made), generic("disk", labels={"team": "db"}))
    await _post(declaring, path_of(made), generic("disk", "resolved"))
    async with UnitOfWork(declaring.db, read_only=True) as uow:
        incident = await uow.incidents.get(1)
    assert incident is not None
    assert incident.status is Status.RESOLVED
    [kept] = await groups(declaring)
    assert kept.group.status.value == "resolved"


async def test_propose_posts_the_group_to_the_announce_channel(db: Database, clock: object) -> None:
    """No route matches: the default proposes, as one outbox row per chat platform, no incident;
    a redelivered firing proposes nothing more."""
    ctx = _ctx(db, clock)
    made = await integration(ctx)
    await _post(ctx, path_of(made), generic("disk"))
    await _post(ctx, path_of(made), generic("disk", description="still"))
    assert await _outbox_kinds(db) == [("slack", "propose_alert", None)]
    [kept] = await groups(ctx)
    assert (kept.incident, kept.action) == (None, "propose")


async def test_page_pages_on_call_once_per_firing_without_an_incident(
    db: Database, clock: object
) -> None:
    """A ``page`` route sends the on-call person one page per firing of the group; no incident."""
    ctx = _ctx(db, clock, {"match": {"team": "db"}, "action": "page", "severity": "P1"})
    made = await integration(ctx)
    path = path_of(made)
    await _post(ctx, path, generic("disk", labels={"team": "db"}))
    await _post(ctx, path, generic("disk", labels={"team": "db"}, description="again"))
    assert await _outbox_kinds(db) == [("slack", "page_dm", None)]
    async with UnitOfWork(db, read_only=True) as uow:
        assert await uow.incidents.list(open_only=False) == []


async def test_page_walks_the_escalation_until_someone_acknowledges(
    db: Database, clock: object
) -> None:
    """Nobody acknowledges: after ``escalate_after_minutes`` the next level is paged (once, on
    the timer's own schedule); once the group is acknowledged paging stops."""
    ladder = [{"name": "default", "levels": [["slack:U0FIRST"], ["slack:U0SECOND"]],
               "escalate_after_minutes": 5, "repeat": 1}]  # fmt: skip
    policy = routed({"match": {"team": "db"}, "action": "page", "severity": "P1"},
                    escalation=ladder)  # fmt: skip
    ctx = Context(db, policy, clock=clock, destinations=frozenset({"slack"}))  # type: ignore[arg-type]
    made = await integration(ctx)
    await _post(ctx, path_of(made), generic("disk", labels={"team": "db"}))

    async def paged() -> list[str]:
        async with UnitOfWork(db, read_only=True) as uow:
            rows = await uow.outbox.rows(("pending",), limit=50)
        return [row.payload["person"]["user_id"] for row in rows if row.kind == "page_dm"]

    assert await paged() == ["U0FIRST"]
    clock.advance(minutes=4)  # type: ignore[attr-defined]
    assert await runner(ctx).fire_due() == 0
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert await runner(ctx).fire_due() == 1
    assert sorted(await paged()) == ["U0FIRST", "U0SECOND"]
    [kept] = await groups(ctx)
    await ack_group(ctx, ALERTS, kept.id)
    clock.advance(minutes=5)  # type: ignore[attr-defined]
    await runner(ctx).fire_due()
    assert sorted(await paged()) == ["U0FIRST", "U0SECOND"]  # acknowledged: no third page


async def test_ignore_and_silence_store_but_act_on_nothing(db: Database, clock: object) -> None:
    """``ignore`` keeps the group and does nothing; a silenced group fires without a proposal."""
    ctx = _ctx(db, clock, {"match": {"team": "noise"}, "action": "ignore"})
    made = await integration(ctx)
    path = path_of(made)
    await _post(ctx, path, generic("noisy", labels={"team": "noise"}))
    await _post(ctx, path, generic("disk"))
    disk = next(g for g in await groups(ctx) if g.group.group_key == "disk")
    await silence_group(ctx, ALERTS, disk.id, timedelta(hours=1))
    await _post(ctx, path, generic("disk", "resolved"), generic("disk"))
    assert await _outbox_kinds(db) == [("slack", "propose_alert", None)]  # the first firing only
    statuses = {g.group.group_key: g.group.status.value for g in await groups(ctx)}
    assert statuses == {"noisy": "firing", "disk": "silenced"}


async def test_ack_and_declare_by_hand(db: Database, clock: object) -> None:
    """``alerts ack`` marks the group acknowledged; ``alerts declare`` declares an incident for a
    proposed group, and refuses a second one while it is open."""
    ctx = _ctx(db, clock)
    made = await integration(ctx)
    await _post(ctx, path_of(made), generic("disk"))
    [kept] = await groups(ctx)
    assert (await ack_group(ctx, ALERTS, kept.id)).group.status.value == "acknowledged"
    declared = await declare_group(ctx, ALERTS, kept.id)
    assert declared.incident == 1
    with pytest.raises(Exception, match="already on INC-1"):
        await declare_group(ctx, ALERTS, kept.id)


async def test_the_slack_sender_posts_a_proposed_group_in_the_announce_channel(
    db: Database, clock: object
) -> None:
    """The outbox row a proposal writes is posted by the real Slack sender (against the Slack
    fake) in the announce channel: the group's title and its alerts, with their links."""
    from fakes.slack_api import BOT_TOKEN, FakeSlack
    from tocsin.delivery.base import Delivery
    from tocsin.platforms.slack.sender import SlackSender
    from tocsin.platforms.slack.webapi import SlackApi

    ctx = _ctx(db, clock)
    made = await integration(ctx)
    await _post(ctx, path_of(made), generic("disk", link="https://grafana.example.com/d/1"))
    async with UnitOfWork(db, read_only=True) as uow:
        [row] = await uow.outbox.rows(("pending",))
    with FakeSlack() as slack:
        announce = slack.add_channel("incidents")
        sender = SlackSender(
            SlackApi(BOT_TOKEN, slack.api_url, timeout=1.0),
            policy=ctx.policy,
            announce_channel=announce,
        )
        try:
            delivery = Delivery(
                row.id, None, "slack", row.kind, row.payload, row.idempotency_key, 0
            )
            await sender.send(delivery, {})  # type: ignore[arg-type]  # no refs for a group
        finally:
            await sender.aclose()
        [message] = slack.messages[announce]
        assert slack.violations == []
    assert "disk is down" in message["text"]
    assert "https://grafana.example.com/d/1" in str(message["blocks"])
