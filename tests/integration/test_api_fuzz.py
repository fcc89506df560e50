"""Schemathesis fuzzes every operation of ``/api/openapi.json`` against the real app in-process,
with an admin token and a database holding a few incidents, and pins that no answer is a 5xx or
shows a traceback, and that every status, content type and body is the one the document declares.

Bounded and deterministic: a fixed number of examples per operation (:data:`EXAMPLES`),
derandomized, no example database; on SQLite, and on PostgreSQL when configured (which stores
fewer characters: U+0000 is refused there). The app runs on schemathesis's own event loop thread
(its ASGI client), so the database is migrated and seeded by a start-up hook of the app's
lifespan, on that loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fakes.web_app import web_app
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.services.access.commands import run
from tocsin.services.access.tokens import authenticate_token, create_token
from tocsin.services.context import Context
from tocsin.storage import migrate
from tocsin.storage.db import Database

# Examples per operation: 25, of which 15 valid requests and 10 invalid ones.
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
OPERATOR = Actor("cli", "root", "root")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
Stopper = Callable[[], Awaitable[None]]


def seeder(ctx: Context, auth: dict[str, str]) -> Callable[[], Awaitable[Stopper]]:
    """A start-up hook: migrate, make an admin token (into ``auth``), declare a few incidents
    (Slack is on, so they queue outbox rows) and resolve one."""

    async def seed() -> Stopper:
        await migrate.upgrade(ctx.db)
        _, secret = await create_token(ctx, OPERATOR, "fuzz", "admin")
        principal = await authenticate_token(ctx, secret)
        assert principal is not None
        for title, severity in [("Checkout down", "P1"), ("Slow search", "P3"), ("Old", "P2")]:
            await run(ctx, principal, Command("declare", text=title, severity=Severity(severity)))
        await run(ctx, principal, Command("resolve", incident=3, text="fixed"))
        auth["Authorization"] = f"Bearer {secret}"

        async def stop() -> None:
            return None

        return stop

    return seed


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[Any, dict[str, str]]]:
    """The document as the app serves it, with the app started (and seeded) behind it, and the
    admin token's header (SQLite, and PostgreSQL when configured)."""
    auth: dict[str, str] = {}
    db = Database(database_url)
    ctx = Context(db=db, policy=default_policy(), destinations=frozenset({"slack"}))
    app = web_app(ctx, starters=[seeder(ctx, auth)])
    with get_client(app):  # starts the lifespan, so the seed runs before the first case
        assert auth, "the seed did not run"
        yield schemathesis.openapi.from_asgi("/api/openapi.json", app), auth
    shutdown_lifespans()


def fuzz(operation: Any, mode: GenerationMode, auth: dict[str, str]) -> None:
    """Run ``EXAMPLES[mode]`` generated requests of one operation through every check."""

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        response = case.call(headers=auth)
        assert "Traceback" not in response.text, response.text[:500]
        case.validate_response(response, checks=CHECKS, headers=auth)

    one()


def test_every_operation_answers_as_documented(api: tuple[Any, dict[str, str]]) -> None:
    """Valid and invalid requests to every operation get a documented status, content type
    and body; never a 5xx, never a traceback."""
    schema, auth = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27  # the whole document, not a part that happened to load
    for operation in operations:
        for mode in EXAMPLES:
            fuzz(operation, mode, auth)
