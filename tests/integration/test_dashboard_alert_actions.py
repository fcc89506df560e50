"""The Alerts page's buttons over HTTP against the real app and database (SQLite, and
PostgreSQL when configured): Acknowledge, Silence (1h / 4h / 24h) and Declare incident are
CSRF-checked forms that run the same use cases as the CLI and the API (services/alerts/groups.py),
so the policy's permissions apply and every attempt is audited; the answer is a flash message."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from conftest import Clock
from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from integration.test_api_dashboard import csrf_of, make_client, quick_hashes, sign_in, users
from tocsin.domain.policy_file import parse_policy
from tocsin.services.alerts.silences import list_silences
from tocsin.services.context import Context
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.uow import UnitOfWork

__all__ = ["quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
FLASH_RE = re.compile(r'<div class="flash flash-(\w+)"[^>]*>([^<]*)</div>')


async def _fire(ctx: Context, *bodies: bytes) -> list[StoredGroup]:
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        for body in bodies:
            assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(ctx).fire_due()
    return sorted(await groups(ctx), key=lambda kept: kept.group.group_key)


async def _group(ctx: Context, group_id: int) -> StoredGroup:
    [kept] = [kept for kept in await groups(ctx) if kept.id == group_id]
    return kept


async def _audit(ctx: Context) -> list[tuple[str, str, str]]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        entries = await uow.audit.recent(limit=50)
    return [(e.record.command, e.record.decision, e.record.actor_name) for e in entries]


async def _act(
    client: httpx.AsyncClient, group_id: int, act: str, **fields: str
) -> tuple[httpx.Response, tuple[str, str] | None]:
    """Press a button: the form's answer, and the flash message the page it leads to shows."""
    token = await csrf_of(client, "/alert-groups")
    answer = await client.post(f"/alert-groups/{group_id}/{act}", data={"csrf": token, **fields})
    if answer.status_code != 303:
        return answer, None
    landed = await client.get(answer.headers["location"])
    found = FLASH_RE.search(landed.text)
    return answer, (found[1], found[2]) if found else None


@pytest.fixture
async def client(ctx: Context, users: None) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ctx) as http:
        await sign_in(http, "alice")
        yield http


async def test_each_firing_group_has_its_buttons(ctx: Context, client: httpx.AsyncClient) -> None:
    """A firing group offers Acknowledge, Silence with the 1h/4h/24h choice and Declare, each a
    POST form carrying the session's CSRF token; the live rows get the token and the choices."""
    [kept] = await _fire(ctx, generic("disk", title="Disk full"))
    page = (await client.get("/alert-groups")).text
    token = await csrf_of(client, "/alert-groups")
    for act in ("ack", "silence", "declare"):
        assert f'action="/alert-groups/{kept.id}/{act}"' in page
    assert page.count(f'name="csrf" value="{token}"') >= 4  # the sign-out form and three here
    assert re.findall(r'<option value="(\d+)">', page) == ["1", "4", "24"]
    assert f'data-csrf="{token}"' in page
    assert 'data-hours="1,4,24"' in page
    script = (await client.get("/assets/alerts.js")).text
    assert "data-csrf" in script
    assert "innerHTML" not in script


async def test_acknowledge_then_again(ctx: Context, client: httpx.AsyncClient) -> None:
    """Acknowledge marks the group acknowledged as alice (audited as allowed) and says so; the
    row then offers no Acknowledge; pressing it again (a stale page) says who has it already."""
    [kept] = await _fire(ctx, generic("disk", title="Disk full"))
    answer, shown = await _act(client, kept.id, "ack")
    assert answer.headers["location"] == "/alert-groups"
    done = f"Alert group #{kept.id} is acknowledged: its paging stops. (Disk full)"
    assert shown == ("info", done)
    now = await _group(ctx, kept.id)
    assert now.group.status.value == "acknowledged"
    assert now.group.acknowledged_by == "alice"
    assert ("alert_ack", "allowed", "alice") in await _audit(ctx)
    assert f'action="/alert-groups/{kept.id}/ack"' not in (await client.get("/alert-groups")).text
    _, again = await _act(client, kept.id, "ack")
    assert again == ("error", f"Alert group #{kept.id} is already acknowledged by alice.")


async def test_silence_for_the_chosen_hours(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Silence with 4h makes a silence of that group from now for 4 hours and marks it
    silenced; a length that is not one of the choices is refused and silences nothing."""
    [kept] = await _fire(ctx, generic("disk", title="Disk full"))
    _, shown = await _act(client, kept.id, "silence", hours="7")
    assert shown == ("error", "Choose how long to silence it for: 1h, 4h, 24h.")
    assert await list_silences(ctx) == []
    _, shown = await _act(client, kept.id, "silence", hours="4")
    assert shown == ("info", f"Alert group #{kept.id} is silenced for 4h. (Disk full)")
    [made] = await list_silences(ctx)
    assert made.silence.group_id == kept.id
    assert made.silence.ends_at - made.silence.starts_at == timedelta(hours=4)
    assert made.silence.created_by.endswith("alice")
    assert (await _group(ctx, kept.id)).group.status.value == "silenced"


async def test_declare_opens_an_incident_and_the_row_links_it(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """Declare declares an incident for the group (as ``tocsin alerts declare`` does: titled
    after it, the group attached) and lands on the incident's page; the row then links the
    incident instead of offering Declare, and declaring again is refused while it is open."""
    [kept] = await _fire(ctx, generic("disk", title="Disk full"))
    answer, shown = await _act(client, kept.id, "declare")
    assert answer.headers["location"] == "/incidents/1"
    assert shown == ("info", f"INC-1 declared for alert group #{kept.id}.")
    assert (await _group(ctx, kept.id)).incident == 1
    page = (await client.get("/alert-groups")).text
    assert '<a class="button" href="/incidents/1">Open INC-1</a>' in page
    assert f'action="/alert-groups/{kept.id}/declare"' not in page
    _, again = await _act(client, kept.id, "declare")
    assert again == ("error", f"alert group #{kept.id} is already on INC-1")


async def test_refusals_change_nothing(ctx: Context, client: httpx.AsyncClient) -> None:
    """Without the CSRF token: 403, nothing changed. An unknown group: the 404 page. A group
    that has resolved meanwhile: a message saying so, and nothing done. An unknown action: 404."""
    cpu, disk = await _fire(
        ctx, generic("cpu", title="CPU hot"), generic("disk"), generic("cpu", "resolved")
    )
    refused = await client.post(f"/alert-groups/{disk.id}/ack", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert "security token" in refused.text
    assert (await _group(ctx, disk.id)).group.status.value == "firing"
    missing, _ = await _act(client, 999, "ack")
    assert missing.status_code == 404
    assert "There is no alert group #999." in missing.text
    for act in ("ack", "silence", "declare"):
        _, shown = await _act(client, cpu.id, act, hours="1")
        assert shown is not None
        assert shown[0] == "error"
        assert f"Alert group #{cpu.id} has resolved" in shown[1]
    assert (await _group(ctx, cpu.id)).incident is None
    assert await list_silences(ctx) == []
    odd, _ = await _act(client, disk.id, "explode")
    assert odd.status_code == 404


async def test_the_policy_refuses_with_its_reason(ctx: Context, users: None) -> None:
    """With ``alerts = ["admin"]`` and ``declare = ["admin"]``, alice's Acknowledge, Silence and
    Declare are refused with the policy's reason as the flash, audited as denied, and change
    nothing; root (a dashboard admin) may acknowledge."""
    text = '[permissions]\nalerts = ["admin"]\ndeclare = ["admin"]\n'
    strict = ctx.with_policy(parse_policy(tomllib.loads(text), "policy.toml"))
    [kept] = await _fire(strict, generic("disk", title="Disk full"))
    async with make_client(strict) as client:
        await sign_in(client, "alice")
        for act in ("ack", "silence", "declare"):
            _, shown = await _act(client, kept.id, act, hours="1")
            assert shown is not None
            assert shown[0] == "error"
            assert "admin" in shown[1]
    now = await _group(ctx, kept.id)
    assert now.group.status.value == "firing"
    assert now.incident is None
    audited = await _audit(ctx)
    for command in ("alert_ack", "alert_silence", "declare"):
        assert (command, "denied", "alice") in audited
    async with make_client(strict) as client:
        await sign_in(client, "root")
        _, shown = await _act(client, kept.id, "ack")
    assert shown is not None
    assert shown[0] == "info"
