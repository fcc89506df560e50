"""The REST API against the real app and database (SQLite and PostgreSQL): scopes, problem details,
paging, the incident lifecycle, post-mortems, and the admin-only audit log and deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.web_app import OPERATOR, api_client, bearer
from tocsin.services.context import Context

PROBLEM = "application/problem+json"


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(ctx) as http:
        yield http


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"].startswith("/api/docs#problem-")
    assert body["title"]
    assert body["detail"]
    return dict(body)


async def test_declare_to_resolve_through_the_api(ctx: Context, client: httpx.AsyncClient) -> None:
    """A write token declares (201 + Location), posts an update and a note, resolves as the
    commander, and GET shows the whole timeline in order."""
    auth = await bearer(ctx, "deploy-bot", "write")
    created = await client.post(
        "/api/v1/incidents", json={"title": "Checkout is failing", "severity": "P1"}, headers=auth
    )
    assert created.status_code == 201, created.text
    incident = created.json()["incident"]
    assert incident["id"] == "INC-1"
    assert incident["severity"] == "P1"
    assert incident["roles"]["commander"]["user_id"] == "deploy-bot"
    assert created.headers["location"] == "/api/v1/incidents/1"
    base = "/api/v1/incidents/INC-1"
    update = await client.post(f"{base}/updates", json={"text": "Failing over"}, headers=auth)
    assert update.status_code == 200
    assert update.json()["entries"][0]["kind"] == "update"
    note = await client.post(
        f"{base}/notes", json={"text": "Deploy 4711 rolled back"}, headers=auth
    )
    assert note.status_code == 200
    resolved = await client.post(f"{base}/resolve", json={"summary": "Failed over"}, headers=auth)
    assert resolved.status_code == 200
    assert resolved.json()["incident"]["status"] == "resolved"
    shown = await client.get("/api/v1/incidents/1", headers=auth)
    kinds = [entry["kind"] for entry in shown.json()["timeline"]]
    assert kinds == ["declared", "update", "note", "resolved"]
    assert shown.json()["summary"] == "Failed over"


async def test_commander_commands_through_the_api(ctx: Context, client: httpx.AsyncClient) -> None:
    """Severity, status, roles, ack, join, actions and reopen all run through the services."""
    auth = await bearer(ctx, "ic", "write")
    await client.post("/api/v1/incidents", json={"title": "DB slow"}, headers=auth)
    base = "/api/v1/incidents/1"
    calls = [
        ("severity", {"severity": "P2"}),
        ("status", {"status": "identified"}),
        ("roles", {"role": "scribe", "person": "slack:U0CAROL"}),
        ("ack", None),
        ("actions", {"text": "Add an alert", "owner": "@web:dave"}),
        ("resolve", None),
        ("reopen", {}),
    ]
    for path, body in calls:
        answer = await client.post(f"{base}/{path}", json=body, headers=auth)
        assert answer.status_code == 200, (path, answer.text)
    incident = (await client.get(base, headers=auth)).json()
    assert incident["severity"] == "P2"
    assert incident["status"] == "investigating"
    assert incident["roles"]["scribe"] == {
        "platform": "slack", "user_id": "U0CAROL", "display_name": "",
    }  # fmt: skip
    assert incident["action_items"][0]["owner"]["user_id"] == "dave"
    assert incident["acknowledged_at"] is not None


async def test_read_token_cannot_declare_and_is_audited(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A read-scope token may list but gets 403 on declare; the refusal is in the audit log."""
    reader = await bearer(ctx, "dashboard-tv", "read")
    assert (await client.get("/api/v1/incidents", headers=reader)).status_code == 200
    refused = await client.post("/api/v1/incidents", json={"title": "x"}, headers=reader)
    body = assert_problem(refused, 403)
    assert '"read" scope' in str(body["detail"])
    async with ctx.uow(read_only=True) as uow:
        last = (await uow.audit.recent(1))[0]
    assert last.record.decision == "denied"
    assert last.record.command == "declare"
    assert last.record.actor_id == "dashboard-tv"


async def test_policy_refuses_non_commander(ctx: Context, client: httpx.AsyncClient) -> None:
    """Another write token may add notes but not resolve someone else's incident (403 with the
    policy's reason); an admin-scope token may."""
    owner = await bearer(ctx, "owner", "write")
    other = await bearer(ctx, "other", "write")
    admin = await bearer(ctx, "root-token", "admin")
    await client.post("/api/v1/incidents", json={"title": "Queue backlog"}, headers=owner)
    note = await client.post("/api/v1/incidents/1/notes", json={"text": "seen"}, headers=other)
    assert note.status_code == 200
    refused = await client.post("/api/v1/incidents/1/resolve", headers=other)
    assert "commander" in str(assert_problem(refused, 403)["detail"])
    allowed = await client.post("/api/v1/incidents/1/resolve", headers=admin)
    assert allowed.status_code == 200
    assert allowed.json()["incident"]["status"] == "resolved"


async def test_authentication_problems(ctx: Context, client: httpx.AsyncClient) -> None:
    """No token, a wrong token and a revoked token get 401 with a Bearer challenge."""
    from tocsin.services.access.tokens import revoke_token

    missing = await client.get("/api/v1/incidents")
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await client.get("/api/v1/incidents", headers={"Authorization": "Bearer tocsin_nope"})
    assert "invalid_token" in wrong.headers["www-authenticate"]
    assert_problem(wrong, 401)
    auth = await bearer(ctx, "temp", "read")
    assert (await client.get("/api/v1/me", headers=auth)).json()["scope"] == "read"
    await revoke_token(ctx, OPERATOR, "temp")
    assert_problem(await client.get("/api/v1/me", headers=auth), 401)


async def test_declare_values_are_refused_by_field(ctx: Context, client: httpx.AsyncClient) -> None:
    """A blank title and an unknown severity are one 422 problem naming both fields, with the
    sentences every surface uses, and nothing is declared; no severity means the default."""
    auth = await bearer(ctx, "w", "write")
    bad = await client.post(
        "/api/v1/incidents", json={"title": "  ", "severity": "P9"}, headers=auth
    )
    assert assert_problem(bad, 422)["errors"] == [
        {"field": "title", "message": "Give the incident a title, for example: Checkout is down."},
        {"field": "severity", "message": "Choose a severity from P1 (critical) to P4 (low)."},
    ]
    assert (await client.get("/api/v1/incidents", headers=auth)).json()["total"] == 0
    made = await client.post("/api/v1/incidents", json={"title": "Defaulted"}, headers=auth)
    assert made.json()["incident"]["severity"] == ctx.policy.default_severity.value


async def test_request_problems(ctx: Context, client: httpx.AsyncClient) -> None:
    """Malformed JSON is 400, wrong types 422 with the field named, an unknown incident 404, a
    state conflict 409, an unknown route 404 and a wrong method 405, all as problem details."""
    auth = await bearer(ctx, "w", "write")
    bad_json = await client.post(
        "/api/v1/incidents",
        content=b"{not json",
        headers={**auth, "content-type": "application/json"},
    )
    assert_problem(bad_json, 400)
    wrong_type = await client.post("/api/v1/incidents", json={"title": 12}, headers=auth)
    body = assert_problem(wrong_type, 422)
    assert body["errors"] == [{"field": "title", "message": "Input should be a valid string"}]
    assert_problem(await client.post("/api/v1/incidents", json=[1], headers=auth), 422)
    assert_problem(await client.post("/api/v1/incidents", json={"title": "  "}, headers=auth), 422)
    extra = await client.post("/api/v1/incidents", json={"title": "t", "sev": "P1"}, headers=auth)
    assert assert_problem(extra, 422)["errors"][0]["field"] == "sev"  # type: ignore[index]
    assert_problem(await client.get("/api/v1/incidents/99", headers=auth), 404)
    assert_problem(await client.get("/api/v1/incidents/abc", headers=auth), 404)
    await client.post("/api/v1/incidents", json={"title": "t"}, headers=auth)
    await client.post("/api/v1/incidents/1/resolve", headers=auth)
    conflict = await client.post("/api/v1/incidents/1/resolve", headers=auth)
    assert "already resolved" in str(assert_problem(conflict, 409)["detail"])
    assert_problem(await client.get("/api/v2/nothing", headers=auth), 404)
    assert_problem(await client.delete("/api/v1/incidents", headers=auth), 405)
    form = await client.post("/api/v1/incidents", data={"title": "t"}, headers=auth)
    assert_problem(form, 415)


async def test_list_filters_and_paging(ctx: Context, client: httpx.AsyncClient) -> None:
    """Open incidents come first by severity; status and severity filter; limit/offset page
    through with a total and next_offset; a bad limit is 422."""
    auth = await bearer(ctx, "w", "write")
    for title, severity in [("a", "P3"), ("b", "P1"), ("c", "P2"), ("d", "P1"), ("e", "P4")]:
        await client.post(
            "/api/v1/incidents", json={"title": title, "severity": severity}, headers=auth
        )
    await client.post("/api/v1/incidents/2/resolve", headers=auth)
    everything = (await client.get("/api/v1/incidents?status=all", headers=auth)).json()
    assert [i["title"] for i in everything["items"]] == ["d", "c", "a", "e", "b"]
    open_p1 = (await client.get("/api/v1/incidents?severity=P1", headers=auth)).json()
    assert [i["title"] for i in open_p1["items"]] == ["d"]
    assert open_p1["total"] == 1
    resolved = (await client.get("/api/v1/incidents?status=resolved", headers=auth)).json()
    assert [i["id"] for i in resolved["items"]] == ["INC-2"]
    first = (await client.get("/api/v1/incidents?limit=2", headers=auth)).json()
    assert first["total"] == 4
    assert first["next_offset"] == 2
    assert len(first["items"]) == 2
    last = (await client.get("/api/v1/incidents?limit=2&offset=2", headers=auth)).json()
    assert [i["title"] for i in last["items"]] == ["a", "e"]
    assert last["next_offset"] is None
    bad = await client.get("/api/v1/incidents?limit=0", headers=auth)
    assert assert_problem(bad, 422)["errors"][0]["field"] == "limit"  # type: ignore[index]


async def test_postmortem_is_markdown(ctx: Context, client: httpx.AsyncClient) -> None:
    """GET .../postmortem answers text/markdown built from the incident, and records nothing."""
    auth = await bearer(ctx, "r", "write")
    await client.post("/api/v1/incidents", json={"title": "Payments down"}, headers=auth)
    answer = await client.get("/api/v1/incidents/1/postmortem", headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    assert "Payments down" in answer.text
    assert answer.text.lstrip().startswith("#")
    shown = (await client.get("/api/v1/incidents/1", headers=auth)).json()
    assert [e["kind"] for e in shown["timeline"]] == ["declared"]


async def test_audit_and_deliveries_are_admin_only(ctx: Context, client: httpx.AsyncClient) -> None:
    """A write token gets 403 on the audit log and deliveries; an admin token reads both, and the
    audit log pages with next_before."""
    writer = await bearer(ctx, "w", "write")
    admin = await bearer(ctx, "a", "admin")
    assert_problem(await client.get("/api/v1/audit", headers=writer), 403)
    assert_problem(await client.get("/api/v1/deliveries", headers=writer), 403)
    for title in ("one", "two", "three"):
        await client.post("/api/v1/incidents", json={"title": title}, headers=writer)
    page = (await client.get("/api/v1/audit?limit=2", headers=admin)).json()
    assert [e["command"] for e in page["items"]] == ["declare", "declare"]
    assert page["items"][0]["seq"] > page["items"][1]["seq"]
    older = (await client.get(f"/api/v1/audit?before={page['next_before']}", headers=admin)).json()
    assert older["items"][0]["seq"] == page["items"][1]["seq"] - 1
    deliveries = await client.get("/api/v1/deliveries?state=pending", headers=admin)
    assert deliveries.status_code == 200
    assert set(deliveries.json()) == {"items", "total", "limit", "offset", "next_offset"}
    me = (await client.get("/api/v1/me", headers=admin)).json()
    assert me["admin"] is True
    assert me["actor"]["platform"] == "api"


async def test_titles_are_returned_verbatim_as_json(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """An incident titled <script>alert(1)</script> is stored and returned as that text, with a
    JSON content type and nosniff (never interpreted as HTML)."""
    auth = await bearer(ctx, "w", "write")
    title = "<script>alert(1)</script>"
    created = await client.post("/api/v1/incidents", json={"title": title}, headers=auth)
    assert created.json()["incident"]["title"] == title
    shown = await client.get("/api/v1/incidents/1", headers=auth)
    assert shown.headers["content-type"] == "application/json"
    assert shown.headers["x-content-type-options"] == "nosniff"


async def test_openapi_document_and_docs_page(client: httpx.AsyncClient) -> None:
    """/api/openapi.json describes every route with its body schema and problem responses, and
    /api/docs lists them for people, without authentication."""
    document = (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    declare = document["paths"]["/api/v1/incidents"]["post"]
    assert declare["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/DeclareBody"
    )
    assert "403" in declare["responses"]
    assert "422" in declare["responses"]
    assert "DeclareBody" in document["components"]["schemas"]
    listing = document["paths"]["/api/v1/incidents"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "severity", "limit", "offset"}
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/v1/incidents/{number}/resolve" in docs.text
    assert 'id="problem-conflict"' in docs.text


async def test_admin_calls_register_no_commit_hooks(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """An admin token runs as a policy naming it admin, yet a hundred admin calls (reads and
    writes) leave the context's ``on_commit`` hooks exactly as they were, and an admin's write
    still drops the shared list cache (the incident list shows the new severity at once)."""
    admin = await bearer(ctx, "root-token", "admin")
    await client.post(
        "/api/v1/incidents", json={"title": "Disk full", "severity": "P3"}, headers=admin
    )
    hooks = list(ctx.on_commit)
    first = (await client.get("/api/v1/incidents", headers=admin)).json()["items"]
    assert first[0]["severity"] == "P3"
    for _ in range(100):
        assert (await client.get("/api/v1/incidents/1", headers=admin)).status_code == 200
    for n in range(5):
        noted = await client.post(
            "/api/v1/incidents/1/notes", json={"text": f"n{n}"}, headers=admin
        )
        assert noted.status_code == 200
    await client.post("/api/v1/incidents/1/severity", json={"severity": "P2"}, headers=admin)
    assert ctx.on_commit == hooks
    listed = (await client.get("/api/v1/incidents", headers=admin)).json()["items"]
    assert listed[0]["severity"] == "P2"
