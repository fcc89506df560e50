"""Managing status-page subscribers: the REST API (admin scope, in the OpenAPI document), the CLI
(`tocsin subscriber list|add|remove`), and the `status_subscribers` gauge in /metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from click.testing import CliRunner

from fakes.web_app import OPERATOR, api_client, bearer
from tocsin.adapters.cli.subscribers import subscriber
from tocsin.adapters.web.status.subscribe import refresh_counts
from tocsin.observability.metrics import create_metrics, render
from tocsin.services import subscribers
from tocsin.services.context import Context


@pytest.fixture
async def api(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(ctx) as http:
        yield http


async def test_api_adds_lists_and_removes_subscribers(ctx: Context, api: httpx.AsyncClient) -> None:
    """An admin token adds a webhook (its secret in that answer only) and an email, lists them
    without secrets, removes one; a write token gets 403 and a bad address 422 naming it."""
    admin = await bearer(ctx, "admin", "admin")
    made = await api.post(
        "/api/v1/subscribers", json={"address": "https://hooks.example.test/x"}, headers=admin
    )
    assert made.status_code == 201
    hook = made.json()
    assert hook["kind"] == "webhook"
    assert len(hook["secret"]) == 64
    mail = await api.post(
        "/api/v1/subscribers", json={"address": "ops@example.test"}, headers=admin
    )
    assert mail.json()["state"] == "confirmed"
    again = await api.post(
        "/api/v1/subscribers", json={"address": "ops@example.test"}, headers=admin
    )
    assert again.status_code == 409
    listed = (await api.get("/api/v1/subscribers", headers=admin)).json()["items"]
    assert [i["address"] for i in listed] == ["https://hooks.example.test/x", "ops@example.test"]
    assert all("secret" not in i for i in listed)
    gone = await api.delete(f"/api/v1/subscribers/{hook['id']}", headers=admin)
    assert gone.status_code == 200
    assert (await api.delete(f"/api/v1/subscribers/{hook['id']}", headers=admin)).status_code == 404
    writer = await bearer(ctx, "writer", "write")
    denied = await api.get("/api/v1/subscribers", headers=writer)
    assert denied.status_code == 403
    bad = await api.post("/api/v1/subscribers", json={"address": "nope"}, headers=admin)
    assert bad.status_code == 422
    assert "email" in bad.json()["detail"]
    document = (await api.get("/api/openapi.json")).json()
    assert document["paths"]["/api/v1/subscribers"]["post"]["x-tocsin-scope"] == "admin"


async def test_metrics_count_subscribers_by_kind_and_state(ctx: Context) -> None:
    """`status_subscribers{kind,state}` shows every kind and state, zeros included."""
    await subscribers.add_subscriber(ctx, OPERATOR, "a@example.test")
    await subscribers.add_subscriber(ctx, OPERATOR, "http://127.0.0.1:9/hook")
    await subscribers.subscribe_email(ctx, "b@example.test")
    metrics = create_metrics(process=False)
    await refresh_counts(ctx, metrics)
    text = render(metrics)[0].decode()
    assert 'status_subscribers{kind="email",state="confirmed"} 1.0' in text
    assert 'status_subscribers{kind="email",state="pending"} 1.0' in text
    assert 'status_subscribers{kind="webhook",state="confirmed"} 1.0' in text
    assert 'status_subscribers{kind="webhook",state="bounced"} 0.0' in text


def test_cli_subscriber_add_list_remove(cli_db: str) -> None:
    """`tocsin subscriber add` prints a webhook's secret once, `list --json` shows both
    subscribers and their components, `remove` deletes, an unknown id fails with one line."""
    runner = CliRunner()
    hook = runner.invoke(subscriber, ["add", "https://hooks.example.test/y"])
    assert hook.exit_code == 0, hook.output
    assert len(hook.output.strip().splitlines()[-1]) == 64
    mail = runner.invoke(subscriber, ["add", "ops@example.test"])
    assert mail.exit_code == 0, mail.output
    listed = json.loads(runner.invoke(subscriber, ["list", "--json"]).output)["items"]
    assert [(i["kind"], i["state"]) for i in listed] == [
        ("webhook", "confirmed"),
        ("email", "confirmed"),
    ]
    assert runner.invoke(subscriber, ["remove", str(listed[0]["id"])]).exit_code == 0
    assert "hooks.example.test" not in runner.invoke(subscriber, ["list"]).output
    missing = runner.invoke(subscriber, ["remove", "999"])
    assert missing.exit_code != 0
    assert "no subscriber #999" in missing.output
