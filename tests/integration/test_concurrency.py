"""Concurrency on SQLite and PostgreSQL: incident numbers stay unique and gap-free under many
concurrent declares (one engine, several engines, several processes), a failed declare gives
its number back, and the audit chain stays valid under concurrent writers and denied attempts."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tocsin.domain.commands import parse
from tocsin.domain.errors import InvalidTransition, PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services import declare as declare_module
from tocsin.services.audit_check import check_audit
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute
from tocsin.services.pipeline import commit_change
from tocsin.storage import migrate
from tocsin.storage import tables as t
from tocsin.storage.db import Database

TIMEOUT = 30.0  # seconds; a deadlock or a lost wake-up fails the test instead of hanging it
OUTSIDER = Actor("slack", "U0NOBODY", "nobody")


def person(i: int) -> Actor:
    return Actor("slack" if i % 2 else "discord", f"U{i:03d}", f"user{i}")


async def run(ctx: Context, actor: Actor, text: str) -> Outcome:
    return await execute(ctx, actor, parse(text))


async def declare_many(ctx: Context, count: int, start: int = 0) -> list[int]:
    async with asyncio.timeout(TIMEOUT):
        outcomes = await asyncio.gather(
            *(run(ctx, person(i), f'declare "Outage {i}" P3') for i in range(start, start + count))
        )
    return [o.incident.number for o in outcomes if o.incident is not None]


async def stored_numbers(db: Database) -> list[int]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.select(t.incidents.c.number).order_by(t.incidents.c.number))
        return [int(n) for n in rows.scalars()]


async def test_concurrent_declares_get_gap_free_unique_numbers(ctx: Context) -> None:
    """40 declares at once get INC-1..INC-40, each exactly once, and the audit chain holds
    one valid entry per declare."""
    numbers = await declare_many(ctx, 40)
    assert sorted(numbers) == list(range(1, 41))
    assert await stored_numbers(ctx.db) == list(range(1, 41))
    assert await check_audit(ctx) == (None, 40)


async def test_declares_from_several_engines_get_gap_free_unique_numbers(
    database_url: str,
) -> None:
    """Four engines (as four replicas would have) declaring 8 incidents each at once still
    get 1..32 without gaps or duplicates, and the audit chain is valid."""
    first = Database(database_url)
    await migrate.upgrade(first)
    engines = [first, *(Database(database_url) for _ in range(3))]
    contexts = [Context(db=db, policy=default_policy()) for db in engines]
    try:
        async with asyncio.timeout(TIMEOUT):
            batches = await asyncio.gather(
                *(declare_many(c, 8, start=8 * i) for i, c in enumerate(contexts))
            )
        numbers = [n for batch in batches for n in batch]
        assert sorted(numbers) == list(range(1, 33))
        assert await stored_numbers(first) == list(range(1, 33))
        assert await check_audit(contexts[0]) == (None, 32)
    finally:
        for db in engines:
            await db.dispose()


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from tocsin.domain.commands import parse
    from tocsin.domain.model import Actor
    from tocsin.domain.policy import default_policy
    from tocsin.services.context import Context
    from tocsin.services.dispatch import execute
    from tocsin.storage.db import Database

    async def main(url, name, count):
        db = Database(url)
        ctx = Context(db=db, policy=default_policy())
        actor = Actor("cli", name, name)
        try:
            outcomes = await asyncio.gather(
                *(execute(ctx, actor, parse(f"declare {name} {i}")) for i in range(count))
            )
        finally:
            await db.dispose()
        print(json.dumps([o.incident.number for o in outcomes]))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def _worker(script: Path, url: str, name: str, count: int) -> list[int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        url,
        name,
        str(count),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()
    numbers: list[int] = json.loads(out)
    return numbers


@pytest.mark.slow
async def test_declares_from_several_processes_on_one_sqlite_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Three processes declaring 10 incidents each at once on one SQLite file (WAL, BEGIN
    IMMEDIATE, busy timeout) get 1..30 without gaps, duplicates or "database is locked"."""
    db = Database(sqlite_url)
    await migrate.upgrade(db)
    script = tmp_path / "declare_worker.py"
    script.write_text(WORKER, encoding="utf-8")
    try:
        batches = await asyncio.gather(
            *(_worker(script, sqlite_url, f"proc{i}", 10) for i in range(3))
        )
        numbers = [n for batch in batches for n in batch]
        assert sorted(numbers) == list(range(1, 31))
        assert await stored_numbers(db) == list(range(1, 31))
        assert await check_audit(Context(db=db, policy=default_policy())) == (None, 30)
    finally:
        await db.dispose()


def _fail_some(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make declares titled ``fail ...`` raise after the number was taken and the row written."""
    original = commit_change

    async def flaky(*args: Any, **kwargs: Any) -> None:
        incident = args[4]
        if incident.title.startswith("fail"):
            raise RuntimeError("simulated crash mid-transaction")
        await original(*args, **kwargs)

    monkeypatch.setattr(declare_module, "commit_change", flaky)


async def test_a_failed_declare_gives_its_number_back(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A declare that fails after taking INC-1 rolls back: the next declare gets INC-1."""
    _fail_some(monkeypatch)
    with pytest.raises(RuntimeError, match="simulated"):
        await run(ctx, person(1), "declare fail first")
    assert await stored_numbers(ctx.db) == []
    outcome = await run(ctx, person(2), "declare works")
    assert outcome.incident is not None
    assert outcome.incident.ref == "INC-1"
    assert await check_audit(ctx) == (None, 1)


async def test_failed_declares_among_concurrent_ones_leave_no_gaps(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 concurrent declares of which 10 fail mid-transaction: the 20 that succeed are
    exactly INC-1..INC-20, and nothing of the failed ones is stored or audited."""
    _fail_some(monkeypatch)
    texts = [f"declare {'fail' if i % 3 == 0 else 'ok'} {i}" for i in range(30)]
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(
            *(run(ctx, person(i), text) for i, text in enumerate(texts)), return_exceptions=True
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 10
    assert all(isinstance(f, RuntimeError) for f in failures)
    numbers = [r.incident.number for r in results if isinstance(r, Outcome) and r.incident]
    assert sorted(numbers) == list(range(1, 21))
    assert await stored_numbers(ctx.db) == list(range(1, 21))
    assert await check_audit(ctx) == (None, 20)


async def test_audit_chain_stays_valid_under_concurrent_writers(ctx: Context) -> None:
    """Notes on three incidents, new declares, denied attempts and refused transitions, all at
    once: the chain verifies, holds exactly the allowed and denied commands (refused
    transitions are not audited), and every note reached its incident's timeline."""
    for i in range(3):
        await run(ctx, person(i), f"declare Incident {i} P2")
    notes = [run(ctx, person(i), f"note INC-{i % 3 + 1} note {i}") for i in range(21)]
    denied = [run(ctx, OUTSIDER, f"resolve INC-{i % 3 + 1} nope") for i in range(10)]
    denied += [run(ctx, OUTSIDER, f"severity INC-{i % 3 + 1} P1") for i in range(5)]
    declares = [run(ctx, person(i), f"declare Later {i}") for i in range(5)]
    refused = [run(ctx, person(0), "join INC-1") for _ in range(4)]  # already a participant
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*notes, *denied, *declares, *refused, return_exceptions=True)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == Counter(
        {"Outcome": 26, PermissionDenied.__name__: 15, InvalidTransition.__name__: 4}
    )
    problem, count = await check_audit(ctx)
    assert problem is None
    assert count == 3 + 21 + 15 + 5
    async with ctx.uow(read_only=True) as uow:
        entries = [e async for e in uow.audit.entries()]
        decisions = Counter(e.record.decision for e in entries)
        per_incident = [
            [e.text for e in await uow.timeline.list(n) if e.kind.value == "note"]
            for n in (1, 2, 3)
        ]
    assert decisions == Counter({"allowed": 29, "denied": 15})
    assert [e.seq for e in entries] == list(range(1, 45))
    assert sorted(len(texts) for texts in per_incident) == [7, 7, 7]
    assert await stored_numbers(ctx.db) == list(range(1, 9))
