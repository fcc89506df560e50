"""What the REST API answers to bad input and bad moments: never a 500. Outbox rows list, integers
past their bounds are 422 (query) or 404 (path), an unreachable database is 503 with Retry-After,
wrong methods are 405 naming every method, control characters in a path get problem details,
texts are checked as sent, and the OpenAPI document lists every status an operation answers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from conftest import Clock
from fakes.web_app import web_client
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context
from tocsin.storage.db import Database

OPERATOR = Actor("cli", "root", "root")
PROBLEM = "application/problem+json"
TOO_BIG = "9223372036854775808"  # 2**63: past every database's integers


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(ctx) as http:
        yield http


async def bearer(ctx: Context, scope: str = "admin") -> dict[str, str]:
    _, secret = await create_token(ctx, OPERATOR, f"t-{scope}", scope)
    return {"Authorization": f"Bearer {secret}"}


def problem_of(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = dict(response.json())
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


async def test_deliveries_list_real_outbox_rows(db: Database, clock: Clock) -> None:
    """With Slack switched on, declaring an incident queues outbox rows; GET /api/v1/deliveries
    lists them as JSON (it answered 500: the rows' keys were not plain strings)."""
    ctx = Context(db=db, policy=default_policy(), clock=clock, destinations=frozenset({"slack"}))
    async with web_client(ctx) as http:
        auth = await bearer(ctx)
        declared = await http.post("/api/v1/incidents", json={"title": "Disk full"}, headers=auth)
        assert declared.status_code == 201, declared.text
        listed = await http.get("/api/v1/deliveries", headers=auth)
        assert listed.status_code == 200, listed.text
        page = listed.json()
        assert page["total"] >= 1
        row = page["items"][0]
        assert row["destination"] == "slack"
        assert row["incident"] == 1
        assert row["state"] == "pending"
        assert set(row) >= {"id", "kind", "attempts", "last_error", "created_at"}


QUERY_PAST_BOUNDS = [
    (f"/api/v1/incidents?offset={TOO_BIG}", "offset"),
    (f"/api/v1/incidents?limit={TOO_BIG}", "limit"),
    (f"/api/v1/audit?before={TOO_BIG}", "before"),
    (f"/api/v1/deliveries?offset={TOO_BIG}", "offset"),
    (f"/api/v1/schedules/primary.ics?weeks={TOO_BIG}", "weeks"),
]
PATH_PAST_BOUNDS = [
    ("GET", "/api/v1/incidents/9999999999"),
    ("POST", f"/api/v1/incidents/{TOO_BIG}/notes"),
    ("PUT", f"/api/v1/incidents/{TOO_BIG}/visibility"),
    ("DELETE", f"/api/v1/overrides/{TOO_BIG}"),
    ("DELETE", "/api/v1/overrides/2147483648"),
    ("DELETE", "/api/v1/overrides/%C2%B2"),  # "²": a digit to str.isdigit, not to int()
]


async def test_integers_past_their_bounds_are_client_errors(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A query integer past its documented maximum is a 422 naming the parameter; an incident
    number or override id past 2**31 - 1, or not in ASCII digits, names nothing (404). Each was
    a 500: SQLite's OverflowError, asyncpg's out of range, int("²")."""
    auth = await bearer(ctx)
    for path, field in QUERY_PAST_BOUNDS:
        body = problem_of(await client.get(path, headers=auth), 422)
        assert [e["field"] for e in body["errors"]] == [field], path  # type: ignore[attr-defined]
    for method, path in PATH_PAST_BOUNDS:
        problem_of(await client.request(method, path, json={"text": "x"}, headers=auth), 404)


async def test_wrong_methods_are_405_allowing_every_method_of_the_path(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """OPTIONS, TRACE or PATCH on a path get 405 problem details whose Allow lists every
    method that path takes (it listed only GET, HEAD where POST works too)."""
    auth = await bearer(ctx)
    for path in ("/api/v1/incidents", "/api/v1/overrides"):
        for method in ("OPTIONS", "TRACE", "PATCH"):
            response = await client.request(method, path, headers=auth)
            problem_of(response, 405)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed >= {"GET", "POST"}, (method, path, allowed)


async def test_control_characters_in_a_path_get_problem_details(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A newline anywhere in an /api path is a 404 in problem details (it escaped the /api mount
    and got Starlette's plain-text 404), and ``1\\n`` is not incident 1."""
    await client.post("/api/v1/incidents", json={"title": "t"}, headers=await bearer(ctx))
    auth = await bearer(ctx, "read")
    for path in ("/api/v1/incidents/1%0A", "/api/v1/incidents/1%0A/postmortem", "/api/%0A"):
        problem_of(await client.get(path, headers=auth), 404)


async def test_texts_are_checked_as_sent_then_trimmed(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A text is valid when the OpenAPI schema says so: only whitespace is a 422 (an action
    item of "\\x1c" was a 409), a length counts the whitespace sent, and a valid text is stored
    trimmed."""
    auth = await bearer(ctx)
    await client.post("/api/v1/incidents", json={"title": "t"}, headers=auth)
    base = "/api/v1/incidents/1"
    for path, text in [("notes", "\n"), ("actions", "\x1c"), ("updates", " \t ")]:
        body = problem_of(
            await client.post(f"{base}/{path}", json={"text": text}, headers=auth), 422
        )
        assert body["errors"][0]["field"] == "text"  # type: ignore[index]
    long = await client.post(f"{base}/notes", json={"text": "a" + "\t" * 4100}, headers=auth)
    assert "at most 4000" in str(problem_of(long, 422)["detail"])
    title = await client.post("/api/v1/incidents", json={"title": "\t" * 201}, headers=auth)
    problem_of(title, 422)
    noted = await client.post(f"{base}/notes", json={"text": "  rolled back \n"}, headers=auth)
    assert noted.status_code == 200, noted.text
    assert noted.json()["entries"][0]["text"] == "rolled back"
    schema = (await client.get("/api/openapi.json")).json()["components"]["schemas"]
    assert schema["NoteBody"]["properties"]["text"] == {
        "type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S", "title": "Text",
    }  # fmt: skip


async def test_the_document_lists_every_status_and_bounds_every_integer(
    client: httpx.AsyncClient,
) -> None:
    """Each operation lists 401, 429 and 503; with a path parameter 404; with a body 400, 413,
    415 and 422; with a query 422. Every integer parameter has a minimum and a maximum."""
    document = (await client.get("/api/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            listed = set(operation["responses"])
            expected = {"401", "429", "503"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"400", "413", "415", "422"}
            if any(p["in"] == "query" for p in operation["parameters"]):
                expected.add("422")
            assert expected <= listed, (method, path, expected - listed)
            for parameter in operation["parameters"]:
                for schema in [parameter["schema"], *parameter["schema"].get("anyOf", [])]:
                    if schema.get("type") == "integer":
                        assert {"minimum", "maximum"} <= set(schema), (path, parameter)


# --- the database away ---------------------------------------------------------------------------
def unreachable_databases(tmp_path: Path) -> list[str]:
    directory = tmp_path / "not-a-file.db"
    directory.mkdir()  # SQLite cannot open a directory as its database
    return [f"sqlite:///{directory}", "postgresql://postgres@127.0.0.1:1/tocsin"]  # closed port


async def assert_unavailable(ctx: Context) -> None:
    async with web_client(ctx) as http:
        headers = {"Authorization": "Bearer tocsin_whatever"}
        calls = [("GET", "/api/v1/incidents"), ("POST", "/api/v1/incidents/1/ack"),
                 ("GET", "/api/v1/oncall"), ("PUT", "/api/v1/incidents/1/visibility")]  # fmt: skip
        for method, path in calls:
            response = await http.request(method, path, headers=headers, json={"public": True})
            body = problem_of(response, 503)
            assert response.headers["retry-after"].isdigit(), (method, path)
            assert "database" in str(body["detail"]).lower()
        token = re.search(r'name="csrf" value="([^"]+)"', (await http.get("/login")).text)
        assert token is not None
        form = {"csrf": token[1], "username": "alice", "password": "x" * 12, "next": "/"}
        page = await http.post("/login", data=form, headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["retry-after"].isdigit()
        assert "database" in page.text
        assert "Traceback" not in page.text


@pytest.mark.parametrize("which", [0, 1], ids=["sqlite-directory", "postgres-closed-port"])
async def test_an_unreachable_database_is_503_with_retry_after(
    tmp_path: Path, clock: Clock, which: int
) -> None:
    """With the database unreachable (a SQLite path SQLite cannot open, a PostgreSQL URL to a
    closed port) the API answers 503 problem details with Retry-After saying the database is
    unavailable, and a dashboard page is a 503 HTML page; no 500."""
    db = Database(unreachable_databases(tmp_path)[which])
    try:
        await assert_unavailable(Context(db=db, policy=default_policy(), clock=clock))
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_dropped_postgres_database_is_503(pg_url: str, clock: Clock) -> None:
    """A PostgreSQL server that answers but no longer has the database (SQLSTATE 3D000) is a
    503 like an unreachable one."""
    db = Database(pg_url.rsplit("/", 1)[0] + "/tocsin_dropped_long_ago")
    try:
        await assert_unavailable(Context(db=db, policy=default_policy(), clock=clock))
    finally:
        await db.dispose()


async def test_nul_characters_are_422_on_every_database(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """U+0000 in a body field, a query value or a stored path parameter is a 422 naming it, on
    SQLite as on PostgreSQL (which cannot store it and answered 500)."""
    auth = await bearer(ctx)
    body = problem_of(
        await client.post("/api/v1/incidents", json={"title": "a\x00b"}, headers=auth), 422
    )
    assert body["errors"] == [{"field": "title", "message": "must not contain U+0000 (NUL)"}]
    query = problem_of(await client.get("/api/v1/schedules/x.ics?person=%00", headers=auth), 422)
    assert query["errors"][0]["field"] == "person"  # type: ignore[index]
    named = await client.put("/api/v1/status/components/a%00", json={}, headers=auth)
    assert problem_of(named, 422)["errors"][0]["field"] == "name"  # type: ignore[index]
    listed = (await client.get("/api/v1/incidents?status=all", headers=auth)).json()
    assert listed["total"] == 0


async def test_an_oversized_body_is_a_413_problem(ctx: Context, client: httpx.AsyncClient) -> None:
    """A body over 1 MiB to an API route is refused with 413 in problem details, as the OpenAPI
    document declares (it was the guard's plain JSON), and declares nothing."""
    auth = {**(await bearer(ctx)), "content-type": "application/json"}
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    problem_of(await client.post("/api/v1/incidents", content=big, headers=auth), 413)
    assert (await client.get("/api/v1/incidents", headers=auth)).json()["total"] == 0
