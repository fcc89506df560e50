"""Shared fixtures: databases (SQLite always; PostgreSQL and Redis when configured), a fixed clock.

PostgreSQL tests run when ``TOCSIN_TEST_POSTGRES_URL`` names a server where we may create
databases (each test gets a fresh one, dropped afterwards); Redis tests run when
``TOCSIN_TEST_REDIS_URL`` is set. Otherwise they are skipped with a line saying so. With
``TOCSIN_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``) a skip for a missing service is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import outside_reads
from fakes import FIXTURES, migrated
from fakes.slack_api import FakeSlack
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.storage import migrate
from tocsin.storage.db import Database

POSTGRES_URL = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("TOCSIN_TEST_REDIS_URL", "")
REQUIRE = os.environ.get("TOCSIN_TEST_REQUIRE_SERVICES") == "1"
HOW_POSTGRES = (
    "PostgreSQL tests skipped: set TOCSIN_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test"
    " to run them"
)
HOW_REDIS = "Redis tests skipped: set TOCSIN_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run them"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


outside_reads.install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    outside_reads.current[0] = item.nodeid
    try:
        return (yield)
    finally:
        outside_reads.current[0] = "(between tests)"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the migrated templates; fail the run if any test read a file beside the repository
    (see tests/outside_reads.py)."""
    asyncio.run(migrated.drop_templates())
    if outside_reads.seen:
        lines = "\n".join(f"  {test}: {path}" for test, path in outside_reads.seen[:20])
        print(f"\nFAIL: the tests read files outside the repository:\n{lines}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def need_service(url: str, how: str) -> None:
    if not url:
        if REQUIRE:
            pytest.fail(how.replace("skipped", "REQUIRED but not configured"))
        pytest.skip(how)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


async def _create_pg_database() -> tuple[str, Callable[[], object]]:
    import asyncpg

    name = f"tocsin_t_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin.rsplit("/", 1)[0]

    async def drop() -> None:
        await _drop_pg_database(admin, name)

    return f"{base}/{name}", drop


async def _drop_pg_database(admin: str, name: str) -> None:
    import asyncpg

    c = await asyncpg.connect(admin)
    try:
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await c.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    need_service(POSTGRES_URL, HOW_POSTGRES)
    url, drop = await _create_pg_database()
    try:
        yield url
    finally:
        await drop()  # type: ignore[misc]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tocsin.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tocsin.db'}"
        return
    need_service(POSTGRES_URL, HOW_POSTGRES)
    url, drop = await _create_pg_database()
    try:
        yield url
    finally:
        await drop()  # type: ignore[misc]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database (SQLite and PostgreSQL), copied from a migrated template
    (tests/fakes/migrated.py)."""
    if database_url.startswith("sqlite:///"):
        await migrated.sqlite_copy(Path(database_url.removeprefix("sqlite:///")))
    else:
        admin = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
        name = database_url.rsplit("/", 1)[1]
        await _drop_pg_database(admin, name)  # empty: made again from the template
        await migrated.postgres_from_template(admin, name)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def ctx(db: Database, clock: Clock) -> Context:
    """A services context on the migrated database with the default policy and no platforms."""
    return Context(db=db, policy=default_policy(), clock=clock)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file that the ``tocsin`` CLI (run in-process) uses: TOCSIN_DATABASE_URL
    names it and the working directory is the test's own."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    database = Database(url)

    async def prepare() -> None:
        await migrate.upgrade(database)
        await database.dispose()

    asyncio.run(prepare())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    return url


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack Web API; at the end, every call it had matched Slack's OpenAPI description."""
    with FakeSlack() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
def redis_url() -> str:
    need_service(REDIS_URL, HOW_REDIS)
    return REDIS_URL
