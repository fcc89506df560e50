"""The dashboard's Add and Delete monitor forms against the real database and app: they carry
the session's CSRF token and run ``add_monitor`` / ``delete_monitor`` (services/monitors/manage.py)
like the API and the CLI, so a stored monitor gets its check timer and its audit record, refused
fields come back on the form with the field named and the typed values kept, a user who is not an
admin may not point a monitor at an internal address, and a policy file's monitor is not deleted
here. Names resolve through the context's resolver seam, mapped by the test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from conftest import Clock
from fakes.monitor_target import Resolver
from integration.test_api_dashboard import csrf_of, make_client, quick_hashes, sign_in, users
from tocsin.domain.policy_file import parse_policy
from tocsin.services.address_guard import AddressGuard
from tocsin.services.context import Context
from tocsin.services.monitors.timer import timer_key
from tocsin.storage.db import Database
from tocsin.storage.monitors import StoredDefinition

__all__ = ["quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
PUBLIC = "93.184.216.34"
POLICY = {
    "component": [{"name": "Checkout"}, {"name": "Search"}],
    "monitor": [{"name": "policy-web", "kind": "http", "url": "https://shop.example/health"}],
}
BLANKS = dict.fromkeys(("target", "timeout_seconds", "absent_keyword", "max_response_ms",
                        "tls_expiry_warn_days", "down_after", "up_after"), "")  # fmt: skip


def _ctx(db: Database, clock: Clock, resolver: Resolver, **guard: Any) -> Context:
    resolver.names["shop.example"] = (PUBLIC,)
    guarded = AddressGuard(resolve=resolver, **guard)
    return Context(db, parse_policy(POLICY), clock=clock, address_guard=guarded)


@pytest.fixture
def resolver() -> Resolver:
    return Resolver()


@pytest.fixture
def site(db: Database, clock: Clock, resolver: Resolver) -> Context:
    return _ctx(db, clock, resolver)


@pytest.fixture
async def client(site: Context, users: None) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(site) as http:
        yield http


def _form(**fields: str) -> dict[str, str]:
    """What the browser posts: every field of the form, blank unless given."""
    return {"name": "checkout", "kind": "http", "url": "https://shop.example/health",
            "interval_seconds": "30", "expect_status": "", "keyword": "", "component": "",
            "component_status": "major_outage", **BLANKS, **fields}  # fmt: skip


async def _add(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await csrf_of(client, "/monitors")
    return await client.post("/monitors", data={"csrf": token, **_form(**fields)})


async def _stored(ctx: Context) -> list[StoredDefinition]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.monitors.definitions()


async def _has_timer(ctx: Context, name: str) -> bool:
    async with ctx.uow(read_only=True) as uow:
        return await uow.timers.get(timer_key(name)) is not None


async def _commands(ctx: Context) -> list[str]:
    async with ctx.uow(read_only=True) as uow:
        return [e.record.command for e in await uow.audit.recent()]


async def test_adding_through_the_form_stores_a_checked_api_monitor(
    site: Context, client: httpx.AsyncClient
) -> None:
    """A complete form stores the monitor with source api and the form's values as its keys
    (numbers as numbers, the status codes as a list, the checkbox as true, blanks left out),
    restricted for a user who is not an admin, with its check timer and an audit record; the
    answer is its page with a flash, and the list shows it."""
    await sign_in(client, "alice")
    fields = {
        "expect_status": "200, 204",
        "keyword": "ok",
        "component": "Checkout",
        "component_status": "partial_outage",
        "follow_redirects": "1",
        "down_after": "3",
    }
    made = await _add(client, **fields)
    assert (made.status_code, made.headers["location"]) == (303, "/monitors/checkout")
    [stored] = await _stored(site)
    assert stored.definition == {
        "name": "checkout", "kind": "http", "url": "https://shop.example/health",
        "interval_seconds": 30, "expect_status": [200, 204], "keyword": "ok",
        "component": "Checkout", "component_status": "partial_outage", "down_after": 3,
        "follow_redirects": True,
    }  # fmt: skip
    assert (stored.restricted, stored.created_by) == (True, "web:alice")
    assert await _has_timer(site, "checkout")
    assert (await _commands(site))[0] == "monitor add"
    page = (await client.get("/monitors/checkout")).text
    assert "Monitor &#34;checkout&#34; is added; it is pending until its first check." in page
    assert "status 200 or 204" in page
    assert 'action="/monitors/checkout/delete"' in page
    listed = (await client.get("/monitors")).text
    assert 'href="/monitors/checkout"' in listed
    assert '<option value="Search">Search</option>' in listed


async def test_a_bad_field_comes_back_on_the_form_and_nothing_is_stored(
    site: Context, client: httpx.AsyncClient
) -> None:
    """Fields the rules refuse answer 400 with the form again: each message names its field
    beside the field (marked invalid) and in the summary, the typed values are kept, and no
    monitor or timer is stored; status codes that are not numbers and a field over 2,000
    characters are refused the same way."""
    await sign_in(client, "alice")
    bad = await _add(client, url="ftp://shop.example/", interval_seconds="soon",
                     component="Checkout", follow_redirects="1")  # fmt: skip
    assert bad.status_code == 400
    assert ('<p id="m-url-error" class="field-error">url: expected an http:// or https:// URL, '
            "got &#34;ftp://shop.example/&#34;</p>") in bad.text  # fmt: skip
    assert ("interval_seconds: expected a whole number of seconds from 10 to 86400, "
            "got &#34;soon&#34;") in bad.text  # fmt: skip
    assert '<a href="#m-url">url</a>' in bad.text
    url_input = r'id="m-url"[^>]*value="ftp://shop.example/"[^>]*aria-invalid="true"'
    assert re.search(url_input, bad.text)
    assert 'value="soon"' in bad.text
    assert '<option value="Checkout" selected>' in bad.text
    assert re.search(r'name="follow_redirects" value="1" checked', bad.text)
    codes = await _add(client, expect_status="200, ok")
    assert codes.status_code == 400
    assert "expect_status: expected status codes separated by commas" in codes.text
    long = await _add(client, keyword="k" * 2001)
    assert "keyword: at most 2,000 characters, got 2,001" in long.text
    tcp = await _add(client, kind="tcp", target="db.example", url="")
    assert "target: expected host:port with a port from 1 to 65535" in tcp.text
    assert await _stored(site) == []
    assert not await _has_timer(site, "checkout")


async def test_a_user_who_is_not_an_admin_may_not_target_internal_addresses(
    db: Database, clock: Clock, resolver: Resolver, site: Context, users: None
) -> None:
    """A non-admin's monitor on 127.0.0.1 (or on a name resolving to a private address) is
    refused naming ``url`` (or ``target``) and nothing is stored; an admin user may add it
    (not restricted); with TOCSIN_MONITOR_ALLOW_PRIVATE the non-admin may too."""
    resolver.names["db.example"] = ("10.0.0.7",)
    async with make_client(site) as alice:
        await sign_in(alice, "alice")
        local = await _add(alice, url="http://127.0.0.1:8080/")
        assert local.status_code == 400
        assert ('url: &#34;127.0.0.1&#34; resolves to a private or internal address '
                "(127.0.0.1)") in local.text  # fmt: skip
        tcp = await _add(alice, kind="tcp", url="", target="db.example:5432")
        assert "target: &#34;db.example&#34; resolves to a private" in tcp.text
        assert await _stored(site) == []
    async with make_client(site) as root:
        await sign_in(root, "root")
        assert (await _add(root, url="http://127.0.0.1:8080/")).status_code == 303
    allowing = _ctx(db, clock, resolver, allow_private=True)
    async with make_client(allowing) as alice:
        await sign_in(alice, "alice")
        assert (await _add(alice, name="mine", url="http://127.0.0.1:8080/")).status_code == 303
    stored = {d.name: d.restricted for d in await _stored(site)}
    assert stored == {"checkout": False, "mine": True}


async def test_a_taken_name_is_refused_and_changes_nothing(
    site: Context, client: httpx.AsyncClient
) -> None:
    """A stored monitor's name and the policy file's both answer 409 with the form again,
    the message under ``name``; the stored monitor keeps its definition."""
    await sign_in(client, "alice")
    assert (await _add(client)).status_code == 303
    again = await _add(client, url="https://shop.example/other")
    assert again.status_code == 409
    taken = '<p id="m-name-error" class="field-error">name: a monitor named &#34;checkout&#34;'
    assert taken in again.text
    assert 'value="https://shop.example/other"' in again.text
    policy = await _add(client, name="policy-web")
    assert policy.status_code == 409
    assert "already exists (in the policy file)" in policy.text
    [stored] = await _stored(site)
    assert stored.definition["url"] == "https://shop.example/health"


async def test_forms_without_csrf_or_signed_out_store_nothing(
    site: Context, client: httpx.AsyncClient
) -> None:
    """Add without the session's token or with a forged one is a 403; signed out it leads to
    the sign-in page; Delete without the token leaves the monitor in place."""
    signed_out = await client.post("/monitors", data=_form())
    assert signed_out.headers["location"].startswith("/login?next=")
    await sign_in(client, "alice")
    assert (await client.post("/monitors", data=_form())).status_code == 403
    assert (await client.post("/monitors", data={"csrf": "forged", **_form()})).status_code == 403
    assert await _stored(site) == []
    assert (await _add(client)).status_code == 303
    assert (await client.post("/monitors/checkout/delete", data={})).status_code == 403
    assert [d.name for d in await _stored(site)] == ["checkout"]


async def test_delete_removes_the_monitor_and_its_timer(
    site: Context, client: httpx.AsyncClient
) -> None:
    """Delete on a stored monitor's page removes its definition and its check timer (audited)
    and lands on the list with a flash; an unknown name is the 404 page."""
    await sign_in(client, "alice")
    assert (await _add(client)).status_code == 303
    token = await csrf_of(client, "/monitors/checkout")
    gone = await client.post("/monitors/checkout/delete", data={"csrf": token})
    assert (gone.status_code, gone.headers["location"]) == (303, "/monitors")
    assert await _stored(site) == []
    assert not await _has_timer(site, "checkout")
    assert (await _commands(site))[:2] == ["monitor delete", "monitor add"]
    listed = (await client.get("/monitors")).text
    assert "Monitor &#34;checkout&#34; is deleted" in listed
    assert 'href="/monitors/checkout"' not in listed
    missing = await client.post("/monitors/checkout/delete", data={"csrf": token})
    assert missing.status_code == 404


async def test_a_policy_monitor_offers_no_delete_and_a_forged_post_is_refused(
    site: Context, client: httpx.AsyncClient
) -> None:
    """A policy file's monitor shows a note instead of the Delete button; a POST made anyway
    is refused with a flash pointing at the policy file, and the monitor and its audit trail
    are unchanged."""
    await sign_in(client, "alice")
    page = (await client.get("/monitors/policy-web")).text
    assert "/delete" not in page
    assert 'id="policy-note"' in page
    token = await csrf_of(client, "/monitors/policy-web")
    forged = await client.post("/monitors/policy-web/delete", data={"csrf": token})
    assert (forged.status_code, forged.headers["location"]) == (303, "/monitors/policy-web")
    after = (await client.get("/monitors/policy-web")).text
    assert "is defined in the policy file; remove its [[monitor]] there" in after
    assert "monitor delete" not in await _commands(site)
    assert 'href="/monitors/policy-web"' in (await client.get("/monitors")).text
