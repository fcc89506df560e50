"""Statements run directly on SQLite (tocsin.storage.direct.Prepared): inside a write transaction
they store exactly the bytes SQLAlchemy would have stored and read back the same Python values;
anywhere else (read-only units, PostgreSQL, statements needing SQLAlchemy's defaults) they go
through SQLAlchemy; errors keep SQLAlchemy's exception classes and roll back cleanly."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tocsin.storage import direct, migrate
from tocsin.storage import tables as t
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
ACTOR = {"platform": "slack", "user_id": "U1", "name": 'Zoë \N{PUSHPIN} "q"'}


def incident_row(number: int) -> dict[str, Any]:
    return {
        "number": number,
        "title": f"Incident {number} — ünïcode",
        "severity": "P2",
        "status": "investigating",
        "description": "d",
        "summary": "",
        "declared_by": ACTOR,
        "declared_at": T0,
        "acknowledged_at": T0.astimezone(timezone(timedelta(hours=2))),
        "identified_at": None,
        "mitigated_at": None,
        "resolved_at": None,
        "last_update_at": T0 + timedelta(minutes=5),
        "roles": {"commander": ACTOR},
        "participants": [ACTOR, {"platform": "cli", "user_id": "c", "name": "c"}],
        "version": 0,
        "public": True,
        "published_at": None,
        "components": ["api", "web"],
        "public_summary": "What happened, in two lines.\nAnd the fix.",
        "public_summary_at": T0 + timedelta(hours=1),
        "public_summary_by": ACTOR,
        "escalation": "db-team",
    }


def test_the_sample_row_names_every_incident_column() -> None:
    """The sample row gives every column of ``incidents`` a value, so the comparison below covers
    a column as soon as a migration adds it (a missing one is named here, not as a SQL diff)."""
    assert set(t.incidents.c.keys()) - set(incident_row(1)) == set()


ADD = direct.Prepared(t.incidents.insert())
GET = direct.Prepared(
    sa.select(t.incidents).where(t.incidents.c.number == sa.bindparam("b_number"))
)
ADD_SQL = str(t.incidents.insert().compile(dialect=sa.dialects.sqlite.dialect()))


def stored(path: Path, number: int) -> tuple[Any, ...]:
    """The row as SQLite holds it (text encodings and all), read without SQLAlchemy."""
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT * FROM incidents WHERE number = ?", (number,)).fetchone()
    assert row is not None
    return tuple(row)


async def migrated(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    await migrate.upgrade(db)
    return db


async def test_direct_rows_are_stored_exactly_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    """The same values inserted directly (write unit) and through SQLAlchemy's own execute
    leave identical rows on disk: datetimes (aware, non-UTC offset), JSON, booleans, NULLs."""
    path = tmp_path / "t.db"
    db = await migrated(path)
    through_sqlalchemy: list[str] = []
    sa.event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_: through_sqlalchemy.append(sql),
    )
    try:
        async with UnitOfWork(db) as uow:
            done = await ADD.run(uow.connection, incident_row(1))
            await uow.connection.execute(t.incidents.insert(), incident_row(2))
            await uow.commit()
    finally:
        await db.dispose()
    assert done.rowcount == 1
    assert [s for s in through_sqlalchemy if s.startswith("INSERT")] == [ADD_SQL]  # row 2 only
    assert stored(path, 1)[2:] == stored(path, 2)[2:]


async def test_direct_reads_convert_like_sqlalchemy(tmp_path: Path) -> None:
    """A direct SELECT inside a write unit returns the values SQLAlchemy's own result does:
    datetimes, decoded JSON, booleans and NULLs, keyed by column name."""
    db = await migrated(tmp_path / "t.db")
    try:
        async with UnitOfWork(db) as uow:
            await ADD.run(uow.connection, incident_row(1))
            ours = (await GET.run(uow.connection, {"b_number": 1})).rows
            theirs = await uow.connection.execute(GET.statement, {"b_number": 1})
            expected = [dict(r) for r in theirs.mappings()]
            await uow.commit()
    finally:
        await db.dispose()
    assert ours == expected
    assert ours[0]["public"] is True
    assert ours[0]["participants"][0]["name"] == ACTOR["name"]
    assert isinstance(ours[0]["declared_at"], datetime)


async def test_outside_a_write_transaction_sqlalchemy_runs_it(db: Database) -> None:
    """In a read-only unit (and on PostgreSQL, where this runs too) the statement goes through
    SQLAlchemy and answers the same; a statement needing Python-side defaults does too."""
    async with UnitOfWork(db) as uow:
        row = incident_row(1)
        del row["description"], row["summary"]
        await ADD.run(uow.connection, row)  # its defaults: SQLAlchemy's path
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        (found,) = (await GET.run(uow.connection, {"b_number": 1})).rows
    assert (found["description"], found["summary"]) == ("", "")
    assert found["components"] == ["api", "web"]
    assert found["declared_at"].replace(tzinfo=UTC) == T0


async def test_executemany_with_returning_names_only_new_rows(db: Database) -> None:
    """Several parameter sets with RETURNING (the outbox insert): rows whose key is already
    there are skipped and not returned, on both databases."""
    from tocsin.storage.outbox import _add_outbox

    def effect(key: str) -> dict[str, Any]:
        return {
            "incident": None,
            "destination": "slack",
            "kind": "post",
            "payload": {"k": key},
            "idempotency_key": key,
            "ordering_key": "q",
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": T0,
            "remote_ids": {},
            "created_at": T0,
        }

    async with UnitOfWork(db) as uow:
        add = _add_outbox(uow.connection.dialect.name)
        first = await add.run(uow.connection, [effect("a"), effect("b")])
        again = await add.run(uow.connection, [effect("b"), effect("c")])
        await uow.commit()
    assert len(first.rows) == 2
    assert len(again.rows) == 1
    assert set(again.rows[0]) == {"id"}


async def test_a_direct_error_is_sqlalchemys_and_rolls_back(tmp_path: Path) -> None:
    """A constraint violation on the direct path raises sqlalchemy.exc.IntegrityError; the unit
    rolls back and the database holds nothing of it."""
    path = tmp_path / "t.db"
    db = await migrated(path)

    async def twice() -> None:
        async with UnitOfWork(db) as uow:
            await ADD.run(uow.connection, incident_row(1))
            await ADD.run(uow.connection, incident_row(1))

    try:
        with pytest.raises(sa.exc.IntegrityError):
            await twice()
        async with UnitOfWork(db, read_only=True) as uow:
            rows = (await GET.run(uow.connection, {"b_number": 1})).rows
    finally:
        await db.dispose()
    assert rows == []


async def test_json_keys_that_are_not_strings_are_stored_as_strings(db: Database) -> None:
    """JSON columns (written with orjson) keep what json.dumps did with non-string keys: they
    come back as strings, on both paths and both databases."""
    async with UnitOfWork(db) as uow:
        row = incident_row(1)
        row["roles"] = {1: ACTOR, "two": None}
        await ADD.run(uow.connection, row)
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        (found,) = (await GET.run(uow.connection, {"b_number": 1})).rows
    assert found["roles"] == {"1": ACTOR, "two": None}
