"""The dashboard over HTTP against the real app and database: sign-in and sessions, CSRF,
security headers, escaping, forms that run the shared services, permissions shown and enforced,
the admin-only audit page, post-mortem download and the live timeline stream."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher

from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.dashboard.session import Deps
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Status
from tocsin.observability.metrics import create_metrics
from tocsin.services.access import users as users_module
from tocsin.services.access.users import create_user
from tocsin.services.context import Context
from tocsin.services.dispatch import execute

OPERATOR = Actor("cli", "root", "root")
PASSWORD = "a long enough secret"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def make_client(
    ctx: Context, *, secure: bool = False, deps: Deps | None = None
) -> httpx.AsyncClient:
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=secure, deps=deps)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 50000))
    scheme = "https" if secure else "http"  # a Secure cookie only comes back over https
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://tocsin.test")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the same code path, a fraction of the CPU time."""
    monkeypatch.setattr(users_module, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
async def users(ctx: Context) -> None:
    await create_user(ctx, OPERATOR, "alice", PASSWORD)
    await create_user(ctx, OPERATOR, "bob", PASSWORD)
    await create_user(ctx, OPERATOR, "root", PASSWORD, admin=True)


@pytest.fixture
async def client(ctx: Context, users: None) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ctx) as http:
        yield http


async def csrf_of(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    match = CSRF_RE.search(page.text)
    assert match is not None, page.text
    return match[1]


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    token = await csrf_of(client, "/login")
    return await client.post(
        "/login", data={"csrf": token, "username": name, "password": password, "next": "/"}
    )


async def declare(client: httpx.AsyncClient, title: str, severity: str = "P2") -> httpx.Response:
    token = await csrf_of(client, "/declare")
    return await client.post("/declare", data={"csrf": token, "title": title, "severity": severity})


async def test_pages_need_a_login(client: httpx.AsyncClient) -> None:
    """Signed out, pages redirect to /login with the page to come back to; the stream says 401."""
    answer = await client.get("/incidents/3?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fincidents%2F3%3Fx%3D1"
    assert (await client.get("/incidents/3/events")).status_code == 401


async def test_session_cookie_is_signed_http_only_and_lax(ctx: Context, users: None) -> None:
    """Signing in sets an HttpOnly, SameSite=Lax session cookie, Secure behind https; signing
    out needs the CSRF token and ends the session."""
    async with make_client(ctx, secure=True) as client:
        signed_in = await sign_in(client, "alice")
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/"
        cookie = signed_in.headers["set-cookie"].lower()
        assert "tocsin_session=" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" in cookie
    async with make_client(ctx) as client:
        plain = await sign_in(client, "alice")
        assert "secure" not in plain.headers["set-cookie"].lower()
        page = await client.get("/")
        assert page.status_code == 200
        assert "alice" in page.text
        assert (await client.post("/logout", data={"csrf": "forged"})).status_code == 403
        out = await client.post("/logout", data={"csrf": CSRF_RE.search(page.text)[1]})  # type: ignore[index]
        assert out.status_code == 303
        assert (await client.get("/")).status_code == 303


async def test_wrong_password_and_rate_limit(ctx: Context, users: None) -> None:
    """A wrong password says so (401) without telling whether the user exists; after the allowed
    failures the address gets 429 with Retry-After, even with the right password."""
    deps = Deps(ctx, MemoryLimiter(2, 0.01))
    async with make_client(ctx, deps=deps) as client:
        wrong = await sign_in(client, "alice", "not the password")
        assert wrong.status_code == 401
        assert "do not match" in wrong.text
        unknown = await sign_in(client, "nobody", "not the password")
        assert unknown.status_code == 401
        assert "do not match" in unknown.text
        blocked = await sign_in(client, "alice")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert "Too many failed sign-ins" in blocked.text


async def test_forms_without_the_csrf_token_are_refused(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A POST without the session's CSRF token (or with another) is 403 and changes nothing."""
    await sign_in(client, "alice")
    forged = await client.post("/declare", data={"title": "Forged", "severity": "P1"})
    assert forged.status_code == 403
    assert "security token" in forged.text
    wrong = await client.post("/declare", data={"csrf": "x" * 43, "title": "Forged"})
    assert wrong.status_code == 403
    as_json = await client.post("/declare", json={"title": "Forged"})
    assert as_json.status_code == 403
    assert (
        await client.post("/login", data={"username": "alice", "password": PASSWORD})
    ).status_code == 403
    async with ctx.uow(read_only=True) as uow:
        assert await uow.incidents.list(open_only=False) == []


async def test_security_headers(client: httpx.AsyncClient) -> None:
    """Pages carry a CSP without inline script, framing is refused, and types are not sniffed."""
    page = await client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text
    assert ' style="' not in page.text
    css = await client.get("/assets/app.css")
    assert css.status_code == 200
    assert css.headers["x-content-type-options"] == "nosniff"


async def test_user_text_is_escaped(client: httpx.AsyncClient) -> None:
    """An incident titled <script>alert(1)</script> shows as text on the list and its page."""
    await sign_in(client, "alice")
    title = "<script>alert(1)</script>"
    made = await declare(client, title)
    assert made.status_code == 303
    for path in ("/", made.headers["location"]):
        html = (await client.get(path)).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert title not in html


async def test_declare_note_and_resolve_as_commander(client: httpx.AsyncClient) -> None:
    """The declarer sees the commander actions; the note and resolve forms run the services and
    the answer comes back as a message on the incident page."""
    await sign_in(client, "alice")
    made = await declare(client, "Checkout is failing", "P1")
    assert made.headers["location"] == "/incidents/1"
    page = await client.get("/incidents/1")
    assert "Commander actions" in page.text
    assert "INC-1 declared" in page.text
    token = CSRF_RE.search(page.text)[1]  # type: ignore[index]
    noted = await client.post("/incidents/1/note", data={"csrf": token, "text": "Rolled back"})
    assert noted.status_code == 303
    assert "Rolled back" in (await client.get("/incidents/1")).text
    await client.post("/incidents/1/resolve", data={"csrf": token, "text": "Fixed"})
    resolved = await client.get("/incidents/1")
    assert "alice resolved INC-1: Fixed" in resolved.text
    assert "status-resolved" in resolved.text
    listing = await client.get("/?status=resolved")
    assert "Checkout is failing" in listing.text


async def test_someone_else_is_refused_commander_actions(ctx: Context, users: None) -> None:
    """Bob, not the commander, sees no commander actions, and a resolve he posts anyway is refused
    with the policy's reason; the incident stays open."""
    async with make_client(ctx) as alice:
        await sign_in(alice, "alice")
        await declare(alice, "Search is slow")
    async with make_client(ctx) as bob:
        await sign_in(bob, "bob")
        page = await bob.get("/incidents/1")
        assert "Commander actions" not in page.text
        assert "Timeline note" in page.text
        token = CSRF_RE.search(page.text)[1]  # type: ignore[index]
        await bob.post("/incidents/1/resolve", data={"csrf": token, "text": "mine now"})
        after = await bob.get("/incidents/1")
        assert "Only the commander of INC-1 (alice)" in after.text
    async with ctx.uow(read_only=True) as uow:
        incident = await uow.incidents.get(1)
    assert incident is not None
    assert incident.is_open


async def test_invalid_form_values_are_explained(client: httpx.AsyncClient) -> None:
    """A blank title or an unknown severity re-shows the declare form with the validator's
    messages (422) and declares nothing; an unknown severity or command on the incident page
    comes back as a message, not an error page."""
    await sign_in(client, "alice")
    blank = await declare(client, "   ", severity="P9")
    assert blank.status_code == 422
    assert "Give the incident a title" in blank.text
    assert "Choose a severity from P1 (critical) to P4 (low)." in blank.text
    unknown = await declare(client, "Real one", severity="P9")
    assert unknown.status_code == 422
    assert "Choose a severity" in unknown.text
    await declare(client, "Real one")
    token = await csrf_of(client, "/incidents/1")
    await client.post("/incidents/1/severity", data={"csrf": token, "severity": "P9"})
    assert "Choose a severity" in (await client.get("/incidents/1")).text
    await client.post("/incidents/1/explode", data={"csrf": token})
    assert "not something this page can do" in (await client.get("/incidents/1")).text
    assert (await client.get("/incidents/42")).status_code == 404


async def test_audit_page_is_for_admins(ctx: Context, users: None) -> None:
    """A regular user gets 403 on /audit and no link to it; an admin sees the entries."""
    async with make_client(ctx) as alice:
        await sign_in(alice, "alice")
        await declare(alice, "Audited")
        assert 'href="/audit"' not in (await alice.get("/")).text
        assert (await alice.get("/audit")).status_code == 403
    async with make_client(ctx) as root:
        await sign_in(root, "root")
        page = await root.get("/audit")
        assert page.status_code == 200
        assert "declare" in page.text
        assert "alice" in page.text


async def test_postmortem_view_and_download(client: httpx.AsyncClient) -> None:
    """The post-mortem page shows the Markdown; the .md link downloads it as an attachment."""
    await sign_in(client, "alice")
    await declare(client, "Disk full")
    view = await client.get("/incidents/1/postmortem")
    assert view.status_code == 200
    assert "Disk full" in view.text
    download = await client.get("/incidents/1/postmortem.md")
    assert download.headers["content-type"].startswith("text/markdown")
    assert download.headers["content-disposition"] == 'attachment; filename="INC-1-postmortem.md"'
    assert "Disk full" in download.text


async def test_open_redirects_are_refused(client: httpx.AsyncClient) -> None:
    """After sign-in only local paths are followed; //elsewhere goes to the dashboard."""
    token = await csrf_of(client, "/login")
    answer = await client.post(
        "/login",
        data={"csrf": token, "username": "alice", "password": PASSWORD, "next": "//evil.test/"},
    )
    assert answer.headers["location"] == "/"


async def test_live_timeline_stream(ctx: Context, users: None) -> None:
    """The events stream sends timeline rows added by another actor while it is open, with their
    ids, and an incident event when the status changes; Last-Event-ID resumes after a row."""
    deps = Deps(ctx, MemoryLimiter(), poll_seconds=0.05, stream_seconds=1.0)
    async with make_client(ctx, deps=deps) as client:
        await sign_in(client, "alice")
        await declare(client, "Live one")
        other = Actor("slack", "U0BOB", "bob")

        async def later() -> None:
            await asyncio.sleep(0.3)
            await execute(ctx, other, Command("note", incident=1, text="Seen from Slack"))
            await execute(
                ctx,
                Actor("web", "alice", "alice"),
                Command("status", incident=1, status=Status.IDENTIFIED),
            )  # type: ignore[arg-type]

        stream, _ = await asyncio.gather(
            client.get("/incidents/1/events?after=1&version=1"), later()
        )
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = stream.text
        assert "event: entry" in body
        assert "Seen from Slack" in body
        assert "declared" not in body.split("Seen from Slack")[0]  # after=1 skips row 1
        assert "event: incident" in body
        assert '"status":"identified"' in body
        ids = [int(i) for i in re.findall(r"^id: (\d+)$", body, re.MULTILINE)]
        assert ids == sorted(ids)
        assert len(ids) == 2
        resumed = await client.get("/incidents/1/events", headers={"Last-Event-ID": str(ids[0])})
        assert "Seen from Slack" not in resumed.text
        assert "identified" in resumed.text
    assert deps.streams.open == 0
