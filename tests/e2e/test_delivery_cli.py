"""`tocsin deliveries list|retry`: what an operator sees and does with dead deliveries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes.delivery_kit import all_rows, effect, enqueue, now
from tocsin.adapters.cli.main import cli
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore
from tocsin.storage.uow import UnitOfWork


async def _prepare(url: str) -> None:
    """Three rows: one dead (channel_not_found), one delivered, one pending."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        await enqueue(db, [effect(1, 1), effect(1, 2), effect(1, 3)])
        async with UnitOfWork(db) as uow:
            store = OutboxStore(uow.connection)
            dead, done = await store.claim("webhook", "w", now(), 30, 2)
            await store.dead(dead.id, "w", "HTTP 404: channel_not_found")
            await store.delivered(done.id, now(), {"ts": "1.0"})
            await uow.commit()
    finally:
        await db.dispose()


async def _rows(url: str) -> list[OutboxRow]:
    db = Database(url)
    try:
        return await all_rows(db)
    finally:
        await db.dispose()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TOCSIN_DATABASE_URL", sqlite_url)
    asyncio.run(_prepare(sqlite_url))
    return CliRunner()


def test_list_shows_open_and_dead_deliveries_with_the_reason(runner: CliRunner) -> None:
    """The default list shows what is not delivered yet, dead ones with their reason."""
    result = runner.invoke(cli, ["deliveries", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "ID", "STATE", "DESTINATION", "KIND", "INCIDENT", "TRIES", "WHEN", "LAST", "ERROR"
    ]  # fmt: skip
    assert len(lines) == 3
    assert "pending" in lines[1]
    assert "dead" in lines[2]
    assert "HTTP 404: channel_not_found" in lines[2]
    assert "INC-1" in lines[2]


def test_list_filters_by_state_and_prints_json(runner: CliRunner) -> None:
    """--state dead --json prints exactly the dead rows as JSON."""
    result = runner.invoke(cli, ["deliveries", "list", "--state", "dead", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["state"], r["idempotency_key"], r["last_error"]) for r in rows] == [
        ("dead", "INC-1:1", "HTTP 404: channel_not_found")
    ]
    assert rows[0]["attempts"] == 1
    delivered = runner.invoke(cli, ["deliveries", "list", "--state", "delivered"])
    assert "delivered" in delivered.output
    assert "INC-2" in delivered.output


def test_retry_by_id_requeues_a_dead_delivery(runner: CliRunner, sqlite_url: str) -> None:
    """`retry ID` puts a dead row back to pending, due now, with a fresh attempt count."""
    dead = next(r for r in asyncio.run(_rows(sqlite_url)) if r.state == "dead")
    result = runner.invoke(cli, ["deliveries", "retry", str(dead.id)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 delivery queued again"
    again = next(r for r in asyncio.run(_rows(sqlite_url)) if r.id == dead.id)
    assert (again.state, again.attempts) == ("pending", 0)
    assert again.requeued_at is not None


def test_retry_all_dead(runner: CliRunner, sqlite_url: str) -> None:
    """`retry --all-dead` re-queues every dead row and says how many."""
    result = runner.invoke(cli, ["deliveries", "retry", "--all-dead"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 delivery queued again"
    assert "dead" not in {r.state for r in asyncio.run(_rows(sqlite_url))}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999"], "tocsin: there is no delivery 999 (only dead or pending deliveries can be "
                  "retried)"),
        ([], "tocsin: give delivery IDs or --all-dead (one of them)"),
        (["1", "--all-dead"], "tocsin: give delivery IDs or --all-dead (one of them)"),
    ],
)  # fmt: skip
def test_retry_errors_are_one_line_with_a_non_zero_exit(
    runner: CliRunner, args: list[str], message: str
) -> None:
    """Unknown ids and bad arguments print one line on stderr and exit non-zero."""
    result = runner.invoke(cli, ["deliveries", "retry", *args])
    assert result.exit_code != 0
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_retry_refuses_a_delivered_row(runner: CliRunner, sqlite_url: str) -> None:
    """A delivered row cannot be sent again by accident."""
    done = next(r for r in asyncio.run(_rows(sqlite_url)) if r.state == "delivered")
    result = runner.invoke(cli, ["deliveries", "retry", str(done.id)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"tocsin: delivery {done.id} is delivered (only dead or pending deliveries can be retried)"
    )
