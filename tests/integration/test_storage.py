"""Storage on SQLite and PostgreSQL: migrations up, down and up again; the migrated schema equals
``tables.metadata``; repositories round-trip the aggregate; optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tocsin.domain.audit import GENESIS_HASH, AuditRecord, verify
from tocsin.domain.errors import ConcurrentUpdate
from tocsin.domain.model import Actor, Incident, Role, Severity, Status, TimelineEntry
from tocsin.storage import migrate, tables
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("discord", "700000000000000002", "bob")
CAROL = Actor("cli", "carol", "Carol Ödegård")
APP_TABLES = {t.name for t in tables.metadata.sorted_tables}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def schema_diff(db: Database) -> list[Any]:
    def diff(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))

    async with db.engine.connect() as conn:
        return await conn.run_sync(diff)


async def seeded(db: Database) -> tuple[int, int, str]:
    async with db.engine.connect() as conn:
        counter = (await conn.execute(sa.select(tables.counters.c.value))).scalar_one()
        head = (await conn.execute(sa.select(tables.audit_head))).one()
    return int(counter), int(head.seq), str(head.hash)


# --- migrations ----------------------------------------------------------------------------------
async def test_migrations_up_down_to_base_and_up_again(database_url: str) -> None:
    """upgrade creates every table at head with the seed rows; downgrade to base removes them
    all (alembic's own table aside); upgrading again restores the same schema."""
    db = Database(database_url)
    try:
        assert await migrate.current_revision(db) is None
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        assert await migrate.is_at_head(db)
        assert await table_names(db) >= APP_TABLES
        assert await seeded(db) == (0, 0, GENESIS_HASH)

        await migrate.downgrade(db, "base")
        assert await migrate.current_revision(db) is None
        assert not await migrate.is_at_head(db)
        assert await table_names(db) & APP_TABLES == set()

        await migrate.upgrade(db)
        assert await migrate.is_at_head(db)
        assert await table_names(db) >= APP_TABLES
        assert await seeded(db) == (0, 0, GENESIS_HASH)
        assert await schema_diff(db) == []
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent(db: Database) -> None:
    """Upgrading a database already at head changes nothing and keeps its data."""
    async with UnitOfWork(db) as uow:
        assert await uow.incidents.next_number() == 1
        await uow.commit()
    await migrate.upgrade(db)
    assert await migrate.is_at_head(db)
    assert (await seeded(db))[0] == 1


async def test_migrated_schema_equals_the_table_definitions(db: Database) -> None:
    """alembic's compare_metadata finds no difference between the migrated database and
    ``tables.metadata`` (tables, columns, types, nullability, indexes, constraints)."""
    assert await schema_diff(db) == []


async def test_schema_drift_would_be_detected(db: Database) -> None:
    """The comparison is not vacuous: a table missing from the database is reported."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE seen_requests"))
    diff = await schema_diff(db)
    assert any(item[0] == "add_table" and item[1].name == "seen_requests" for item in diff)


# --- repositories --------------------------------------------------------------------------------
def full_incident(number: int) -> tuple[Incident, list[TimelineEntry]]:
    """An incident with every kind of data the repositories map."""
    incident, timeline = Incident.declare(
        number, "Checkout is down", Severity.P2, ALICE, T0, commander=BOB, description="5xx"
    )
    timeline += incident.acknowledge(BOB, at(2))
    timeline += incident.assign_role(BOB, Role.SCRIBE, CAROL, at(3))
    timeline += incident.assign_role(BOB, Role.DEPUTY, ALICE, at(3))
    timeline += incident.set_status(BOB, Status.IDENTIFIED, at(4))
    timeline += incident.post_update(BOB, "Payments fail; rolling back", at(5))
    timeline += incident.add_note(CAROL, "Deploy 4711 \N{PUSHPIN} 'quoted' \"and\" ünïcode", at(6))
    timeline += incident.add_action(ALICE, "Alert on queue depth", CAROL, at(7))
    timeline += incident.add_action(BOB, "Write the runbook", None, at(8))
    timeline += incident.change_severity(BOB, Severity.P1, at(9))
    return incident, timeline


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


async def test_incident_round_trips_with_roles_participants_actions_and_timeline(
    db: Database,
) -> None:
    """Everything saved comes back equal: fields, roles, participants in order, action items,
    the timeline in order with actors and data; every datetime is tz-aware UTC."""
    async with UnitOfWork(db) as uow:
        number = await uow.incidents.next_number()
        incident, timeline = full_incident(number)
        await uow.incidents.add(incident)
        await uow.timeline.append(number, timeline)
        await uow.commit()

    async with UnitOfWork(db, read_only=True) as uow:
        loaded = await uow.incidents.get(number)
        entries = await uow.timeline.list(number)
    assert loaded == incident
    assert loaded is not None
    assert loaded.roles == {Role.COMMANDER: BOB, Role.SCRIBE: CAROL, Role.DEPUTY: ALICE}
    assert loaded.participants == [ALICE, BOB, CAROL]
    assert [a.owner for a in loaded.action_items] == [CAROL, None]
    assert entries == timeline
    for value in (
        loaded.declared_at,
        loaded.acknowledged_at,
        loaded.identified_at,
        loaded.last_update_at,
        *(a.created_at for a in loaded.action_items),
        *(e.at for e in entries),
    ):
        assert_utc(value)
    assert loaded.declared_at == T0  # microseconds survive


async def test_save_writes_changes_and_new_action_items(db: Database) -> None:
    """A loaded incident changed and saved comes back changed: status, timestamps, summary,
    roles, new action items and a done flag; the version counts saves."""
    async with UnitOfWork(db) as uow:
        number = await uow.incidents.next_number()
        incident, _ = full_incident(number)
        await uow.incidents.add(incident)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        loaded = await uow.incidents.get(number, for_update=True)
        assert loaded is not None
        assert loaded.version == 0
        loaded.resolve(ALICE, "Rolled back", at(30))
        loaded.add_action(ALICE, "Post-mortem review", None, at(31))
        loaded.action_items[0].done = True
        await uow.incidents.save(loaded)
        assert loaded.version == 1
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        again = await uow.incidents.get(number)
    assert again == loaded
    assert again is not None
    assert (again.status, again.summary, again.version) == (Status.RESOLVED, "Rolled back", 1)
    assert_utc(again.resolved_at)
    assert [(a.number, a.done) for a in again.action_items] == [(1, True), (2, False), (3, False)]


async def test_list_is_newest_first_and_filters_open(db: Database) -> None:
    """list() returns open incidents newest first; open_only=False includes resolved ones."""
    async with UnitOfWork(db) as uow:
        for _ in range(3):
            number = await uow.incidents.next_number()
            incident, _ = Incident.declare(number, f"I{number}", Severity.P3, ALICE, T0)
            if number == 2:
                incident.resolve(ALICE, "", at(1))
            await uow.incidents.add(incident)
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        assert [i.number for i in await uow.incidents.list()] == [3, 1]
        assert [i.number for i in await uow.incidents.list(open_only=False)] == [3, 2, 1]
        assert await uow.incidents.get(99) is None


async def test_a_rolled_back_unit_of_work_leaves_nothing(db: Database) -> None:
    """Leaving a unit of work without commit rolls back every write, the counter included."""
    async with UnitOfWork(db) as uow:
        number = await uow.incidents.next_number()
        incident, timeline = full_incident(number)
        await uow.incidents.add(incident)
        await uow.timeline.append(number, timeline)
    async with UnitOfWork(db) as uow:
        assert await uow.incidents.next_number() == 1
        assert await uow.incidents.get(number) is None


async def test_stores_are_built_on_first_use_and_per_transaction(db: Database) -> None:
    """A unit of work builds a store only when it is used, keeps it for the unit, and builds it
    afresh on the new connection when the unit is entered again."""
    uow = UnitOfWork(db)
    async with uow:
        assert "incidents" not in vars(uow)
        assert "timers" not in vars(uow)
        first = uow.incidents
        assert uow.incidents is first
        assert first.conn is uow.connection
        assert "timers" not in vars(uow)
        await uow.commit()
    async with uow:
        assert "incidents" not in vars(uow)
        assert uow.incidents is not first
        assert uow.incidents.conn is uow.connection
        assert await uow.incidents.get(1) is None


async def test_audit_entries_round_trip_and_chain(db: Database) -> None:
    """Appended audit records come back in order, equal, with UTC times, and verify."""
    records = [
        AuditRecord(at(i), "slack", "U1", "alice", "note", 1, "allowed", "anyone", f"n{i} ü")
        for i in range(3)
    ]
    async with UnitOfWork(db) as uow:
        written = [await uow.audit.append(r) for r in records]
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        read = [e async for e in uow.audit.entries(batch=2)]
    assert read == written
    assert [e.seq for e in read] == [1, 2, 3]
    assert verify(read) is None
    for entry in read:
        assert_utc(entry.record.at)


# --- optimistic concurrency ----------------------------------------------------------------------
async def test_saving_a_stale_incident_raises_concurrent_update(db: Database) -> None:
    """Two readers load version 0; the first save wins, the second raises ConcurrentUpdate and
    writes nothing."""
    async with UnitOfWork(db) as uow:
        number = await uow.incidents.next_number()
        incident, _ = Incident.declare(number, "Race", Severity.P2, ALICE, T0)
        await uow.incidents.add(incident)
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        first = await uow.incidents.get(number)
        second = await uow.incidents.get(number)
    assert first is not None
    assert second is not None
    first.change_severity(ALICE, Severity.P1, at(1))
    async with UnitOfWork(db) as uow:
        await uow.incidents.save(first)
        await uow.commit()
    second.set_status(ALICE, Status.IDENTIFIED, at(2))
    async with UnitOfWork(db) as uow:
        with pytest.raises(ConcurrentUpdate, match=r"INC-1 was changed by someone else"):
            await uow.incidents.save(second)
    assert second.version == 0
    async with UnitOfWork(db, read_only=True) as uow:
        stored = await uow.incidents.get(number)
    assert stored is not None
    assert (stored.severity, stored.status, stored.version) == (
        Severity.P1,
        Status.INVESTIGATING,
        1,
    )


# --- datetimes given in another zone -------------------------------------------------------------
async def _round_trip_offset_time(db: Database) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2026, 3, 1, 11, 0, tzinfo=berlin)  # 09:00 UTC
    async with UnitOfWork(db) as uow:
        number = await uow.incidents.next_number()
        incident, _ = Incident.declare(number, "Zone", Severity.P3, ALICE, local)
        await uow.incidents.add(incident)
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        loaded = await uow.incidents.get(number)
    assert loaded is not None
    assert_utc(loaded.declared_at)
    assert loaded.declared_at == local


async def test_an_aware_non_utc_time_keeps_its_instant_on_postgresql(pg_url: str) -> None:
    """A datetime given with a +02:00 offset comes back as the same instant, in UTC."""
    db = Database(pg_url)
    try:
        await migrate.upgrade(db)
        await _round_trip_offset_time(db)
    finally:
        await db.dispose()


async def test_an_aware_non_utc_time_keeps_its_instant_on_sqlite(sqlite_url: str) -> None:
    """A datetime given with a +02:00 offset comes back as the same instant, in UTC."""
    db = Database(sqlite_url)
    try:
        await migrate.upgrade(db)
        await _round_trip_offset_time(db)
    finally:
        await db.dispose()


async def test_saving_an_incident_does_not_revisit_its_timeline(sqlite_url: str) -> None:
    """Saving an incident costs the same SQLite work with 5 or 2,000 timeline entries: the
    UPDATE does not assign the key column, which with foreign keys on made SQLite re-check every
    child row (a note's cost grew with the incident's length). Counted in VM steps, not time."""
    db = Database(sqlite_url)
    await migrate.upgrade(db)
    try:
        async with UnitOfWork(db) as uow:
            number = await uow.incidents.next_number()
            incident, timeline = full_incident(number)
            await uow.incidents.add(incident)
            await uow.timeline.append(number, timeline)
            await uow.commit()

        async def steps_to_save() -> int:
            async with UnitOfWork(db) as uow:
                loaded = await uow.incidents.get(number, for_update=True)
                assert loaded is not None
                loaded.summary += "."
                raw = (await uow.connection.get_raw_connection()).driver_connection
                steps = [0]

                def count() -> int:
                    steps[0] += 1
                    return 0

                raw._conn.set_progress_handler(count, 10)
                await uow.incidents.save(loaded)
                raw._conn.set_progress_handler(None, 10)
                await uow.commit()
            return steps[0]

        short = await steps_to_save()
        async with UnitOfWork(db) as uow:
            entry = timeline[-1]
            await uow.timeline.append(number, [entry] * 2000)
            await uow.commit()
        long = await steps_to_save()
    finally:
        await db.dispose()
    assert short > 0
    assert long < short * 1.5, (short, long)
