"""Fuzzing the signed chat endpoints against the real ASGI app in process (SQLite, and PostgreSQL
when configured): Slack slash commands as form bodies, interactions as ``payload=`` JSON, Events
API envelopes, and Discord interactions, each correctly signed, drawn from the vendored real
payloads (mutated) and from JSON of any shape. Whatever arrives, the answer is never a 5xx,
never shows a traceback, and nothing is logged as an error or with a traceback: malformed input
is a 400 that changed nothing, or the platform's polite answer, with at most a warning.

The number of examples is fixed and the runs are derandomized, so the suite stays fast and
every run tries the same inputs. INC-1 is declared first, its channel linked on both
platforms, so buttons, forms and events reach the services.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.chat_logs import captured, tracebacks
from fakes.chat_strategies import (
    DISCORD_CHANNEL,
    DISCORD_INTERACTIONS,
    SLACK_CHANNEL,
    SLACK_EVENTS,
    SLACK_INTERACTIONS,
    payloads,
    slash_forms,
)
from fakes.discord_harness import DiscordClient, discord_context
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import FORM, SlackClient
from fakes.slack_harness import open_client as open_slack
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.storage.db import Database

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
IDS = itertools.count(1)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack_client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    """The Slack app with INC-1 declared and SLACK_CHANNEL its channel."""
    ctx = Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"slack"}),
        public_url="https://tocsin.example.com",
    )
    async with open_slack(ctx, slack) as opened:
        response = await opened.command("declare Checkout is down P1")
        assert response.json()["response_type"] == "in_channel"
        await opened.link_channel(1, SLACK_CHANNEL)
        yield opened


@pytest.fixture
async def discord_client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    """The Discord app with INC-1 declared and DISCORD_CHANNEL its channel."""
    async with open_discord(discord_context(db, clock)) as opened:
        await opened.command("declare", title="Checkout is down", severity="P1")
        await opened.link_channel(1, DISCORD_CHANNEL)
        yield opened


Counts = Callable[[], Awaitable[dict[str, int]]]


@contextlib.asynccontextmanager
async def handled(counts: Counts) -> AsyncIterator[Callable[[httpx.Response], None]]:
    """Run one request inside; then: never a 5xx, never a traceback in the body, nothing logged
    as an error, and a refused request (4xx) changed no table."""
    before = await counts()
    answers: list[httpx.Response] = []
    with captured() as logs:
        yield answers.append
    (response,) = answers
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert tracebacks(logs) == [], logs
    if response.status_code >= 400:
        assert await counts() == before, response.text


@FUZZ
@given(form=slash_forms)
async def test_slack_commands_never_fail(slack_client: SlackClient, form: dict[str, str]) -> None:
    """Any form body at /slack/commands, mostly a command typed by a known user in INC-1's
    channel or elsewhere, is answered (200 or 400) without an error."""
    async with handled(slack_client.counts) as answer:
        answer(await slack_client.post("/slack/commands", urlencode(form).encode(), FORM))


@FUZZ
@given(payload=payloads(SLACK_INTERACTIONS), field=st.sampled_from(["payload"] * 7 + ["data"]))
async def test_slack_interactions_never_fail(
    slack_client: SlackClient, payload: Any, field: str
) -> None:
    """Buttons, declare and update submissions, shortcuts and JSON of any shape, as
    ``payload=`` (sometimes in the wrong field), are answered without an error."""
    fields = {field: json.dumps(payload)}
    async with handled(slack_client.counts) as answer:
        answer(await slack_client.post("/slack/interactions", urlencode(fields).encode(), FORM))


@FUZZ
@given(envelope=payloads(SLACK_EVENTS), retry=st.sampled_from(["", "1", "²", "x"]))
async def test_slack_events_never_fail(
    slack_client: SlackClient, envelope: Any, retry: str
) -> None:
    """Reactions, pins, joins, URL verification and JSON of any shape at /slack/events, some
    marked as redeliveries, are answered without an error."""
    body = json.dumps(envelope).encode()
    extra: dict[str, str | bytes] | None = None
    if retry:
        extra = {"x-slack-retry-num": retry.encode("latin-1")}  # one byte a character, as sent
    async with handled(slack_client.counts) as answer:
        answer(await slack_client.post("/slack/events", body, "application/json", extra=extra))


@FUZZ
@given(payload=payloads(DISCORD_INTERACTIONS))
async def test_discord_interactions_never_fail(discord_client: DiscordClient, payload: Any) -> None:
    """Slash commands, message commands, buttons, forms, PING and JSON of any shape at
    /discord/interactions are answered without an error, deferred answers included."""
    if isinstance(payload, dict) and isinstance(payload.get("id"), str):
        payload["id"] = f"{payload['id']}-{next(IDS)}"  # a fresh interaction, not a replay
    async with handled(discord_client.counts) as answer:
        answer(await discord_client.post(json.dumps(payload).encode()))
        await discord_client.app.drain()
