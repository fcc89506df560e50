"""``tocsin backup`` / ``tocsin restore``: SQLite → PostgreSQL → SQLite without losing a row,
refusals (newer schema, data present, truncated file, broken audit chain) that change nothing."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from tocsin.adapters.cli.main import cli
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.audit_check import check_audit
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import backup_codec, migrate, tables
from tocsin.storage.backup import BackupError, backup, read_header, restore
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "Alice Ødegård")
BOB = Actor("discord", "700000000000000002", "bob")


class Clock:
    """A clock each command moves forward, so timestamps differ and carry microseconds."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def section(items: list[Any], table: str) -> int:
    """The index of ``table``'s header line in a parsed backup."""
    return next(
        i for i, item in enumerate(items) if isinstance(item, dict) and item.get("table") == table
    )


def context(db: Database) -> Context:
    return Context(
        db=db,
        policy=default_policy(),
        clock=Clock(),
        destinations=frozenset({"slack", "statuspage"}),
    )


async def run(ctx: Context, actor: Actor, text: str, number: int | None = None) -> None:
    await execute(ctx, actor, parse(text), channel_incident=number)
    clock = ctx.clock
    assert isinstance(clock, Clock)
    clock.now += timedelta(minutes=3, microseconds=7)


def _synthetic(column: sa.Column[Any]) -> Any:
    """A plausible value for ``column`` (best effort, for tables no scenario fills)."""
    kind = column.type
    while isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.JSON):
        return {"k": "v ü", "n": [1, 2]}
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 3, 1, 12, 30, 45, 654321, tzinfo=UTC)
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 1
    return "x-ü"[: getattr(kind, "length", None) or 3]


async def populate(db: Database) -> None:
    """Incidents with a timeline, action items, audit entries and outbox rows, plus one row in
    every table the scenario leaves empty (best effort), so every table is exercised."""
    ctx = context(db)
    await run(ctx, ALICE, "declare Checkout is down — “payments” P1")
    await run(ctx, BOB, "note looking at the load balancer 🔥", 1)
    await run(ctx, ALICE, "action add an alert on 5xx rate", 1)
    await run(ctx, ALICE, "status identified", 1)
    await run(ctx, ALICE, "resolve rolled back the deploy", 1)
    await run(ctx, ALICE, "summary A bad deploy, “rolled back”.\nWe now canary deploys.", 1)
    await run(ctx, BOB, "declare Slow search P3")
    async with db.engine.begin() as conn:
        await conn.execute(
            tables.remote_refs.insert().values(
                incident=1, destination="slack", name="channel", value="C0INC1"
            )
        )
        for table in tables.metadata.sorted_tables:
            if (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar():
                continue
            row = {c.name: _synthetic(c) for c in table.columns}
            try:
                async with conn.begin_nested():
                    await conn.execute(table.insert().values(**row))
            except sa.exc.SQLAlchemyError:
                pass  # a table whose constraints the synthetic row cannot meet stays empty


def _normal(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


async def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every tocsin table, in primary-key order, timestamps as aware UTC."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(_normal(v) for v in row) for row in rows]
    return out


def lines(path: Path) -> list[Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


def write_lines(path: Path, items: list[Any]) -> None:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))


@pytest.fixture
async def source(tmp_path: Path) -> Database:
    """A populated, migrated SQLite database."""
    db = Database(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        await migrate.upgrade(db)
        await populate(db)
        yield db  # type: ignore[misc]
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_sqlite_to_postgres_and_back_keeps_every_row(
    source: Database, pg_url: str, tmp_path: Path
) -> None:
    """A SQLite backup restored into an unmigrated PostgreSQL database equals the source row for
    row; PostgreSQL keeps working afterwards (sequences moved past restored ids, the audit chain
    continues); its backup restored into a fresh SQLite database equals it again."""
    expected = await dump(source)
    assert {name for name, rows in expected.items() if rows} >= {
        "incidents", "timeline", "action_items", "audit_log", "audit_head", "outbox", "counters",
        "remote_refs",
    }  # fmt: skip
    first = tmp_path / "sqlite.jsonl.gz"
    await backup(source, first)

    pg = Database(pg_url)
    try:
        restored = await restore(pg, first)
        assert restored.total == sum(len(rows) for rows in expected.values())
        assert restored.audit_entries == len(expected["audit_log"])
        assert await migrate.current_revision(pg) == migrate.head_revision()
        assert await dump(pg) == expected
        ctx = context(pg)
        await run(ctx, BOB, "note written after the move", 1)
        await run(ctx, ALICE, "declare After the move P2")
        assert await check_audit(ctx) == (None, len(expected["audit_log"]) + 2)
        on_pg = await dump(pg)
        second = tmp_path / "postgres.jsonl"
        await backup(pg, second)
    finally:
        await pg.dispose()

    back = Database(f"sqlite:///{tmp_path / 'back.db'}")
    try:
        await restore(back, second)
        assert await dump(back) == on_pg
    finally:
        await back.dispose()


async def test_backup_holds_every_table_in_dependency_order(
    source: Database, tmp_path: Path
) -> None:
    """The file starts with the versioned header, lists every table of tables.metadata parents
    first with ISO-8601 UTC timestamps, and ends with row counts; .gz means gzip."""
    path = tmp_path / "b.jsonl.gz"
    summary = await backup(source, path)
    assert path.read_bytes()[:2] == backup_codec.GZIP_MAGIC
    items = lines(path)
    header, end = items[0], items[-1]
    assert header["format"] == "tocsin-backup"
    assert header["format_version"] == 1
    assert header["schema_revision"] == migrate.head_revision() == summary.revision
    assert {"tocsin_version", "created_at"} <= set(header)
    order = [item["table"] for item in items if isinstance(item, dict) and "table" in item]
    assert order == [t.name for t in tables.metadata.sorted_tables]
    assert end == {"end": True, "rows": summary.rows}
    incident_header = section(items, "incidents")
    columns = items[incident_header]["columns"]
    declared = items[incident_header + 1][columns.index("declared_at")]
    assert declared == "2026-03-01T09:00:00.123456+00:00"
    assert not (tmp_path / "b.jsonl").exists()
    assert not (tmp_path / ".b.jsonl.gz.partial").exists()


async def test_restore_refuses_a_backup_from_a_newer_schema(
    source: Database, tmp_path: Path
) -> None:
    """A file whose schema revision this tocsin does not know is refused with one line naming
    it, before the target database is touched (it stays unmigrated)."""
    path = tmp_path / "b.jsonl"
    await backup(source, path)
    items = lines(path)
    items[0]["schema_revision"] = "9999_from_the_future"
    items[0]["tocsin_version"] = "9.0.0"
    write_lines(path, items)
    with pytest.raises(BackupError, match=r"newer tocsin \(9\.0\.0") as caught:
        read_header(path)
    assert "\n" not in str(caught.value)
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with pytest.raises(BackupError, match="9999_from_the_future"):
            await restore(target, path)
        assert await migrate.current_revision(target) is None
    finally:
        await target.dispose()


async def test_tampered_audit_row_fails_the_restore_and_rolls_back(
    source: Database, database_url: str, tmp_path: Path
) -> None:
    """An edited audit entry in the file makes the restore fail naming the broken entry, and
    nothing of the file is left in the target database (SQLite and PostgreSQL)."""
    path = tmp_path / "b.jsonl"
    await backup(source, path)
    items = lines(path)
    start = section(items, "audit_log")
    columns = items[start]["columns"]
    items[start + 2][columns.index("detail")] = "nothing to see here"
    write_lines(path, items)
    target = Database(database_url)
    try:
        with pytest.raises(BackupError, match="audit chain is broken at entry 2"):
            await restore(target, path)
        after = await dump(target)
        assert after["incidents"] == after["audit_log"] == after["timeline"] == []
    finally:
        await target.dispose()


async def test_restore_refuses_a_database_holding_data_unless_forced(
    source: Database, tmp_path: Path
) -> None:
    """A migrated but unused database counts as empty; one holding an incident is refused,
    and --force replaces its contents with the backup's."""
    path = tmp_path / "b.jsonl"
    await backup(source, path)
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        await migrate.upgrade(target)
        await run(context(target), BOB, "declare Something else entirely P4")
        with pytest.raises(BackupError, match=r"already holds data.*--force"):
            await restore(target, path)
        assert len((await dump(target))["incidents"]) == 1
        await restore(target, path, force=True)
        assert await dump(target) == await dump(source)
    finally:
        await target.dispose()


async def test_truncated_file_restores_nothing(source: Database, tmp_path: Path) -> None:
    """A file cut short (no end line) is refused and the target keeps only its seed rows."""
    path = tmp_path / "b.jsonl"
    await backup(source, path)
    write_lines(path, lines(path)[:-3])
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with pytest.raises(BackupError, match="truncated"):
            await restore(target, path)
        assert (await dump(target))["incidents"] == []
    finally:
        await target.dispose()


def test_cli_backup_and_restore_print_one_line(source: Database, tmp_path: Path) -> None:
    """`tocsin backup FILE` / `tocsin restore FILE` report in one line; refusals print one
    `tocsin: ...` line on stderr and exit 1; backing up an unmigrated database is refused."""
    runner = CliRunner()
    path = tmp_path / "cli.jsonl"
    env = {"TOCSIN_DATABASE_URL": str(source.url).replace("+aiosqlite", "")}
    done = runner.invoke(cli, ["backup", str(path)], env=env)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"wrote {path}: ")
    assert done.stdout.count("\n") == 1
    fresh = {"TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    done = runner.invoke(cli, ["restore", str(path)], env=fresh)
    assert done.exit_code == 0, done.output
    entries = lines(path)[-1]["rows"]["audit_log"]
    assert f"audit chain intact: {entries} entries" in done.stdout
    again = runner.invoke(cli, ["restore", str(path)], env=fresh)
    assert again.exit_code == 1
    assert again.stderr.startswith("tocsin: the database already holds data")
    assert again.stderr.count("\n") == 1
    empty = {"TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    refused = runner.invoke(cli, ["backup", str(tmp_path / "x.jsonl")], env=empty)
    assert refused.exit_code == 1
    assert "no tocsin schema" in refused.stderr
    missing = runner.invoke(cli, ["restore", str(tmp_path / "nope.jsonl")], env=empty)
    assert missing.stderr == f"tocsin: no such file: {tmp_path / 'nope.jsonl'}\n"


async def test_backup_of_an_older_schema_restores_and_is_upgraded(tmp_path: Path) -> None:
    """A database behind this tocsin's newest revision is backed up as it is (its own columns,
    and tables later revisions drop); restoring that file migrates the empty target to the
    file's revision, loads it, then upgrades it to the newest revision."""
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    first = next(iter(_revisions()))
    try:
        await migrate.upgrade(old, first)
        async with old.engine.begin() as conn:
            await conn.execute(
                sa.text("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, t TEXT)")
            )
            await conn.execute(sa.text("INSERT INTO legacy_notes VALUES (1, 'kept')"))
            await conn.execute(
                tables.remote_refs.insert().values(
                    incident=1, destination="slack", name="channel", value="C0OLD"
                )
            )
        path = tmp_path / "old.jsonl"
        summary = await backup(old, path)
    finally:
        await old.dispose()
    items = lines(path)
    assert summary.revision == first
    order = [i["table"] for i in items if isinstance(i, dict) and "table" in i]
    assert order[-1] == "legacy_notes"  # after every table tocsin knows
    assert "users" not in order  # created by a later revision
    legacy = section(items, "legacy_notes")
    assert items[legacy : legacy + 2] == [
        {"table": "legacy_notes", "columns": ["id", "t"]},
        [1, "kept"],
    ]
    outbox = items[section(items, "outbox")]["columns"]
    assert set(outbox) < {c.name for c in tables.outbox.columns}  # columns added later absent
    # The target's migrations do not create the made-up table: leave it out of the file.
    items = [i for i in items if not (isinstance(i, dict) and i.get("table") == "legacy_notes")]
    items = [i for i in items if i != [1, "kept"]]
    items[-1]["rows"].pop("legacy_notes")
    write_lines(path, items)
    target = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        restored = await restore(target, path)
        assert restored.revision == first
        assert await migrate.current_revision(target) == migrate.head_revision()
        assert [row[-1] for row in (await dump(target))["remote_refs"]] == ["C0OLD"]
    finally:
        await target.dispose()


def _revisions() -> list[str]:
    """Every schema revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


async def test_a_database_migrated_by_a_newer_tocsin_is_refused(
    source: Database, tmp_path: Path
) -> None:
    """A database at a schema revision this tocsin does not know is neither backed up (tables
    it does not know would be missing) nor restored into."""
    path = tmp_path / "b.jsonl"
    await backup(source, path)
    async with source.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_newer'"))
    with pytest.raises(BackupError, match=r"9999_newer, which tocsin .* does not know"):
        await backup(source, tmp_path / "again.jsonl")
    with pytest.raises(BackupError, match="a newer tocsin migrated it"):
        await restore(source, path, force=True)
