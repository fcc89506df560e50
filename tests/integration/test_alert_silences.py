"""Silences by label matchers from the API (``/api/v1/silences``) and the services: a silence
covers the groups whose labels match, lists until it ends, and ``DELETE`` ends it; bad matchers
are a 400 that stores nothing. Acknowledging and silencing are the policy's ``alerts`` permission
(checked by ``decide``, not only the token's scope) and are audited, refusals too."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from fakes.web_app import bearer
from integration.test_api import assert_problem
from tocsin.adapters.web.alerts import alert_intake_routes
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.alerts.groups import ack_group, silence_group
from tocsin.services.alerts.silences import create_silence, expire_silence, list_silences
from tocsin.services.context import Context
from tocsin.storage.uow import UnitOfWork

BOB = Actor("slack", "U0BOB", "bob")
PAYMENTS = 'team="payments",severity=~"crit.*"'


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    routes = [*alert_intake_routes(ctx), *access_routes(ctx, secret="k" * 40, secure_cookies=False)]
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def _audit(ctx: Context) -> list[tuple[str, str]]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        entries = await uow.audit.recent(limit=50)
    return sorted((e.record.command, e.record.decision) for e in entries)


async def test_a_matcher_silence_covers_matching_groups_until_it_ends(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A writer silences team=payments critical alerts: a matching alert arrives silenced, one of
    another team fires; readers list the silence; DELETE ends it (then 404 a second time)."""
    reader = await bearer(ctx, "reader", "read")
    writer = await bearer(ctx, "writer", "write")
    body = {"matchers": PAYMENTS, "minutes": 240, "comment": "deploy window"}
    made = await client.post("/api/v1/silences", json=body, headers=writer)
    assert made.status_code == 201, made.text
    silence = made.json()
    assert silence["matchers"] == PAYMENTS
    assert silence["group"] is None
    assert silence["created_by"] == "api:writer"
    source = await integration(ctx)
    for key, team in (("pay", "payments"), ("web", "web")):
        sent = generic(key, severity="critical", labels={"team": team})
        assert (await client.post(path_of(source), content=sent)).status_code == 202
    await runner(ctx).fire_due()
    status = {kept.group.group_key: kept.group.status.value for kept in await groups(ctx)}
    assert status == {"pay": "silenced", "web": "firing"}
    listed = (await client.get("/api/v1/silences", headers=reader)).json()["items"]
    assert [s["id"] for s in listed] == [silence["id"]]
    assert_problem(await client.delete(f"/api/v1/silences/{silence['id']}", headers=reader), 403)
    ended = await client.delete(f"/api/v1/silences/{silence['id']}", headers=writer)
    assert ended.status_code == 200
    assert (await client.get("/api/v1/silences", headers=reader)).json()["items"] == []
    everything = await client.get("/api/v1/silences?all=true", headers=reader)
    assert [s["id"] for s in everything.json()["items"]] == [silence["id"]]
    assert_problem(await client.delete(f"/api/v1/silences/{silence['id']}", headers=writer), 404)
    assert ("silence", "allowed") in await _audit(ctx)
    assert ("unsilence", "allowed") in await _audit(ctx)


@pytest.mark.parametrize(
    ("matchers", "says"),
    [
        ('team="payments', "unclosed quote"),
        ('team=~"("', "bad regex"),
        ('team=~".*"', "would silence every alert"),
        ("", "matchers"),
    ],
)
async def test_bad_matchers_are_a_400_that_stores_nothing(
    ctx: Context, client: httpx.AsyncClient, matchers: str, says: str
) -> None:
    """A matcher list that does not parse, or would silence everything, is refused naming the
    problem; no silence is stored."""
    writer = await bearer(ctx, "writer", "write")
    answer = await client.post(
        "/api/v1/silences", json={"matchers": matchers, "minutes": 60}, headers=writer
    )
    assert answer.status_code in (400, 422), answer.text
    assert says in answer.text
    assert await list_silences(ctx, expired=True) == []


async def test_a_read_token_may_not_silence(ctx: Context, client: httpx.AsyncClient) -> None:
    """The read scope lists but cannot create: 403, nothing stored."""
    reader = await bearer(ctx, "reader", "read")
    answer = await client.post("/api/v1/silences", json={"matchers": PAYMENTS}, headers=reader)
    assert_problem(answer, 403)
    assert await list_silences(ctx, expired=True) == []


async def test_the_policy_decides_who_acts_on_alerts(ctx: Context) -> None:
    """With ``alerts = ["admin"]`` bob may not acknowledge, silence or make a silence: each is
    refused and audited as denied, and nothing changes; an admin's acknowledgement is audited as
    allowed."""
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        assert (await http.post(path_of(made), content=generic("disk"))).status_code == 202
    await runner(ctx).fire_due()
    [kept] = await groups(ctx)
    text = '[permissions]\nalerts = ["admin"]\n[admins]\nslack = ["U0ADMIN"]\n'
    strict = ctx.with_policy(parse_policy(tomllib.loads(text), "policy.toml"))
    with pytest.raises(PermissionDenied, match="Only an admin"):
        await ack_group(strict, BOB, kept.id)
    with pytest.raises(PermissionDenied):
        await silence_group(strict, BOB, kept.id, timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        await create_silence(strict, BOB, PAYMENTS, timedelta(hours=1))
    assert (await groups(ctx))[0].group.status.value == "firing"
    assert await list_silences(ctx, expired=True) == []
    admin = Actor("slack", "U0ADMIN", "root")
    assert (await ack_group(strict, admin, kept.id)).group.status.value == "acknowledged"
    audited = await _audit(ctx)
    assert audited.count(("alert_ack", "denied")) == 1
    assert ("alert_silence", "denied") in audited
    assert ("silence", "denied") in audited
    assert ("alert_ack", "allowed") in audited


async def test_a_new_silence_marks_the_firing_groups_it_covers(ctx: Context) -> None:
    """A group already firing with team=payments shows as silenced as soon as a matching silence
    is made; one of another team keeps firing."""
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        for key, team in (("pay", "payments"), ("web", "web")):
            sent = generic(key, severity="critical", labels={"team": team})
            assert (await http.post(path_of(made), content=sent)).status_code == 202
    await runner(ctx).fire_due()
    await create_silence(ctx, BOB, PAYMENTS, timedelta(hours=1))
    status = {kept.group.group_key: kept.group.status.value for kept in await groups(ctx)}
    assert status == {"pay": "silenced", "web": "firing"}


async def test_ending_an_unknown_silence_is_not_found(ctx: Context) -> None:
    """unsilence of an id that never existed: NotFound, naming it."""
    with pytest.raises(Exception, match="no active silence #42"):
        await expire_silence(ctx, BOB, 42)
