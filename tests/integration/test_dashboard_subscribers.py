"""The dashboard's Subscribers page against the real database and app: admins list and remove
status-page subscribers through a CSRF-checked form (audited); anyone else is refused."""

from __future__ import annotations

import httpx

from integration.test_api_dashboard import client, csrf_of, quick_hashes, sign_in, users
from tocsin.domain.model import Actor
from tocsin.services import subscribers as service
from tocsin.services.context import Context

__all__ = ["client", "quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
ROOT = Actor("cli", "root", "root")


async def test_an_admin_lists_and_removes_subscribers(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """The admin sees both subscribers (address, kind, state) and removes one with the form;
    the removal is audited and the page no longer lists it; a second removal says it is gone."""
    await service.add_subscriber(ctx, ROOT, "ann@example.test")
    hook = await service.add_subscriber(ctx, ROOT, "http://127.0.0.1:9/hook")
    await sign_in(client, "root")
    page = (await client.get("/subscribers")).text
    assert "ann@example.test" in page
    assert "http://127.0.0.1:9/hook" in page
    assert "confirmed" in page
    token = await csrf_of(client, "/subscribers")
    number = hook.subscriber.id
    removed = await client.post(f"/subscribers/{number}/remove", data={"csrf": token})
    assert (removed.status_code, removed.headers["location"]) == (303, "/subscribers")
    page = (await client.get("/subscribers")).text
    assert f"Subscriber #{number} is removed." in page
    assert "127.0.0.1:9/hook" not in page
    async with ctx.uow(read_only=True) as uow:
        records = [e.record async for e in uow.audit.entries()]
    assert any(r.command == "subscriber" and r.actor_id == "root" and r.platform == "web"
               for r in records)  # fmt: skip
    again = await client.post(f"/subscribers/{number}/remove", data={"csrf": token})
    assert again.status_code == 303
    assert f"There is no subscriber #{number}." in (await client.get("/subscribers")).text


async def test_others_are_refused_and_forged_forms_change_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A non-admin gets 403 on the page and on the form; an admin's form without the CSRF
    token is 403 too; the subscriber stays."""
    added = await service.add_subscriber(ctx, ROOT, "ann@example.test")
    number = added.subscriber.id
    await sign_in(client, "alice")
    assert (await client.get("/subscribers")).status_code == 403
    token = await csrf_of(client, "/")
    refused = await client.post(f"/subscribers/{number}/remove", data={"csrf": token})
    assert refused.status_code == 403
    await client.post("/logout", data={"csrf": token})
    await sign_in(client, "root")
    assert (await client.post(f"/subscribers/{number}/remove", data={})).status_code == 403
    assert [s.id for s in await service.list_subscribers(ctx, ROOT)] == [number]
