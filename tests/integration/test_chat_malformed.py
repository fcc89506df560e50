"""Correctly signed but malformed chat requests, one known shape at a time: each gets a 400 naming
the problem (or the platform's polite ephemeral answer where it expects a 200), changes nothing,
and logs one warning line at most, never an error with a traceback. Also incident references no
incident can have (``INC-0``, twenty digits) on every path that parses them: chat, CLI, API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from click.testing import CliRunner

from fakes.chat_logs import captured, tracebacks, warnings
from fakes.discord_harness import DiscordClient, content, discord_context, slash_data
from fakes.discord_harness import interaction as discord_interaction
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack, signed_headers
from fakes.slack_harness import FORM, NOW, SECRET, SlackClient
from fakes.slack_harness import open_client as open_slack
from tocsin.adapters.cli.main import cli
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.db import Database

INC_CHANNEL = "CINC1"
# Tests about reading the request alone run on SQLite only; those whose input could reach the
# database (NUL, incident numbers) run on PostgreSQL too, where it would fail differently.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
DEEP = 1000  # nesting that exhausts Python's recursion limit in json.loads


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack_client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    ctx = Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"slack"}),
        public_url="https://tocsin.example.com",
    )
    async with open_slack(ctx, slack) as opened:
        yield opened


@pytest.fixture
async def discord_client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    async with open_discord(discord_context(db, clock)) as opened:
        yield opened


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def bolt(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((fixtures_dir / "slack" / "bolt_python" / name).read_text()))


# --- JSON nested a thousand deep ----------------------------------------------------------------
@SQLITE_ONLY
@pytest.mark.parametrize("where", ["slack events", "slack interactions", "discord"])
async def test_deeply_nested_json_is_400(
    slack_client: SlackClient, discord_client: DiscordClient, where: str
) -> None:
    """2 KB of JSON nested 1,000 deep, correctly signed, gets a 400 saying it is nested too
    deep on all three JSON endpoints, changes nothing and logs no traceback."""
    raw = f'{{"type": "event_callback", "event": {deep(DEEP)}}}'
    before = await slack_client.counts()
    with captured() as logs:
        if where == "slack events":
            response = await slack_client.post("/slack/events", raw.encode(), "application/json")
        elif where == "slack interactions":
            body = urlencode({"payload": raw}).encode()
            response = await slack_client.post("/slack/interactions", body, FORM)
        else:
            response = await discord_client.post(raw.encode())
    assert response.status_code == 400, response.text
    assert "nested deeper than" in response.json()["error"]
    assert tracebacks(logs) == []
    assert len(warnings(logs)) == 1
    assert await slack_client.counts() == before


@SQLITE_ONLY
async def test_json_just_inside_the_depth_limit_is_read(slack_client: SlackClient) -> None:
    """The limit is about depth, not shape: an event nested 60 deep is read (200, ignored)."""
    raw = f'{{"type": "event_callback", "event": {{"type": "x", "item": {deep(58)}}}}}'
    response = await slack_client.post("/slack/events", raw.encode(), "application/json")
    assert response.status_code == 200, response.text


async def test_nul_characters_are_400(
    slack_client: SlackClient, discord_client: DiscordClient
) -> None:
    """A NUL in a slash command's text, an event or a Discord option (PostgreSQL cannot store
    one in text) is a 400 naming it, not a failed command with a traceback."""
    before = await slack_client.counts()
    with captured() as logs:
        command = await slack_client.command("note INC-1 a\x00b", channel=INC_CHANNEL)
        event = await slack_client.event({"type": "event_callback", "event": {"text": "\x00"}})
        data = slash_data("note", incident="INC-1", text="a\x00b")
        discord = await discord_client.post(json.dumps(discord_interaction(2, data)).encode())
    assert [r.status_code for r in (command, event, discord)] == [400, 400, 400]
    assert "'text' contains a NUL character" in command.json()["error"]
    assert "NUL" in event.json()["error"]
    assert "NUL" in discord.json()["error"]
    assert tracebacks(logs) == []
    assert await slack_client.counts() == before


# --- header and field numbers -------------------------------------------------------------------
@SQLITE_ONLY
@pytest.mark.parametrize("retry", ["²", "³¹", "9" * 5000])
async def test_odd_retry_numbers_are_ignored(slack_client: SlackClient, retry: str) -> None:
    """X-Slack-Retry-Num that str.isdigit() takes but int() refuses (or thousands of digits) is
    not a retry count: the event is answered as usual."""
    body = json.dumps({"type": "url_verification", "challenge": "c-1"}).encode()
    headers: dict[str, str | bytes] = {
        **signed_headers(SECRET, body, NOW, "application/json"),
        "x-slack-retry-num": retry.encode("latin-1"),  # as it arrives: one byte a character
    }
    response = await slack_client.http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"challenge": "c-1"}


@SQLITE_ONLY
async def test_timestamp_of_thousands_of_digits_is_401(slack_client: SlackClient) -> None:
    """A request timestamp int() would refuse is an invalid signature (401), not a 500."""
    body = b"command=%2Fincident&user_id=U1&text=help"
    headers = {
        "content-type": FORM,
        "x-slack-request-timestamp": "1" * 5000,
        "x-slack-signature": "v0=" + "0" * 64,
    }
    response = await slack_client.http.post("/slack/commands", content=body, headers=headers)
    assert response.status_code == 401


async def test_discord_buttons_with_impossible_incidents(discord_client: DiscordClient) -> None:
    """A button or form whose incident is "²", twenty digits or 0 says it lost track of its
    incident, with no traceback (int() refused "²" after isdigit() took it)."""
    for value in ("²", "99999999999999999999", "0"):
        with captured() as logs:
            answer = await discord_client.click(f"tocsin:ack:{value}")
            data = {"custom_id": f"tocsin:update:{value}", "components": []}
            form = await discord_client.submit(data)
        assert "lost track of its incident" in content(answer)
        assert "does not belong to tocsin" in content(form)
        assert tracebacks(logs) == []


async def test_slack_update_form_with_an_impossible_incident(
    slack_client: SlackClient, fixtures_dir: Path
) -> None:
    """A "post update" submission whose metadata names incident 10**30 or true is answered
    with the form's error, and nothing reaches the database."""
    before = await slack_client.counts()
    for incident in (10**30, True):
        payload = bolt(fixtures_dir, "view_submission.json")
        payload["view"]["callback_id"] = "tocsin_update"
        payload["view"]["private_metadata"] = json.dumps({"incident": incident})
        payload["view"]["state"] = {"values": {"text": {"value": {"value": "All good"}}}}
        with captured() as logs:
            response = await slack_client.interact(payload)
        assert response.status_code == 200, response.text
        assert "lost track of its incident" in response.json()["errors"]["text"]
        assert tracebacks(logs) == []
    assert await slack_client.counts() == before


# --- shapes that are not what Slack or Discord send ---------------------------------------------
def _view(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    payload["view"] = {**payload["view"], **changes}
    return payload


SLACK_SHAPES = {
    "view a string": lambda p: {**p, "view": "V1"},
    "state.values a list": lambda p: _view(
        p, callback_id="tocsin_declare", state={"values": [1, 2]}
    ),
    "a block's state a string": lambda p: _view(
        p, callback_id="tocsin_declare", state={"values": {"title": "x"}}
    ),
    "private_metadata an object": lambda p: _view(
        p, callback_id="tocsin_update", private_metadata={"incident": 1}
    ),
    "a declare's private_metadata a number": lambda p: _view(
        p,
        callback_id="tocsin_declare",
        private_metadata=7,
        state={
            "values": {
                "title": {"value": {"value": "Down"}},
                "severity": {"value": {"selected_option": {"value": "P1"}}},
            }
        },
    ),
    "selected_option a string": lambda p: _view(
        p,
        callback_id="tocsin_declare",
        state={
            "values": {
                "title": {"value": {"value": "Down"}},
                "severity": {"value": {"selected_option": "P1"}},
            }
        },
    ),
}


@SQLITE_ONLY
@pytest.mark.parametrize("shape", list(SLACK_SHAPES))
async def test_malformed_slack_submissions_are_400(
    slack_client: SlackClient, fixtures_dir: Path, shape: str
) -> None:
    """A view_submission whose view, state.values, block state, selected option or
    private_metadata has the wrong type is a 400 naming the field, logged as one warning."""
    payload = SLACK_SHAPES[shape](bolt(fixtures_dir, "view_submission.json"))
    before = await slack_client.counts()
    with captured() as logs:
        response = await slack_client.interact(payload)
    assert response.status_code == 400, response.text
    assert "must be" in response.json()["error"]
    assert tracebacks(logs) == []
    assert [e["event"] for e in warnings(logs)] == ["malformed Slack request"]
    assert await slack_client.counts() == before


@SQLITE_ONLY
async def test_a_button_in_a_malformed_channel_changes_nothing(
    slack_client: SlackClient, fixtures_dir: Path
) -> None:
    """An otherwise valid "join INC-1" click whose channel id is a number: 400, and nobody
    joined (the shape is checked before the button runs)."""
    await slack_client.command("declare Checkout is down P1")
    before = await slack_client.counts()
    payload = bolt(fixtures_dir, "block_actions.json")
    payload["channel"] = {"id": 5}
    payload["actions"] = [{"action_id": "tocsin:join", "value": "1", "type": "button"}]
    with captured() as logs:
        response = await slack_client.interact(payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "id must be a string"
    assert tracebacks(logs) == []
    assert await slack_client.counts() == before


@pytest.mark.parametrize("actions", ["join", [1], {"a": 1}])
async def test_malformed_slack_actions_are_400(
    slack_client: SlackClient, fixtures_dir: Path, actions: Any
) -> None:
    """block_actions whose actions are not a list of objects: 400, no traceback."""
    payload = {**bolt(fixtures_dir, "block_actions.json"), "actions": actions}
    with captured() as logs:
        response = await slack_client.interact(payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "actions must be a list of objects"
    assert tracebacks(logs) == []


@SQLITE_ONLY
async def test_malformed_slack_event_item_is_400(slack_client: SlackClient) -> None:
    """A reaction_added event whose item is a string (or authorizations a number): 400."""
    for envelope in (
        {"type": "event_callback", "event": {"type": "reaction_added", "item": "x"}},
        {"type": "event_callback", "authorizations": 7, "event": {"type": "pin_added"}},
    ):
        with captured() as logs:
            response = await slack_client.event(envelope)
        assert response.status_code == 400, response.text
        assert tracebacks(logs) == []


@SQLITE_ONLY
@pytest.mark.parametrize(
    "options",
    [{"0": {"type": 1, "name": "help"}}, 5, "help"],
)
async def test_discord_options_of_the_wrong_type(
    discord_client: DiscordClient, options: Any
) -> None:
    """Slash command options that are an object, a number or a string are a polite "pick a
    subcommand" (Discord expects a 200), never KeyError: 0 with a traceback."""
    data = {"id": "1", "name": "incident", "type": 1, "options": options}
    with captured() as logs:
        answer = await discord_client.send(discord_interaction(2, data))
    assert "Pick a subcommand" in content(answer), answer
    assert tracebacks(logs) == []


@SQLITE_ONLY
async def test_discord_help_with_an_unknown_topic(discord_client: DiscordClient) -> None:
    """/incident help subcommand:<not one of the choices> says so instead of failing."""
    with captured() as logs:
        answer = await discord_client.command("help", subcommand="nope")
    assert '"nope" is not a subcommand' in content(answer)
    assert tracebacks(logs) == []


@SQLITE_ONLY
async def test_discord_resolved_of_the_wrong_shape(discord_client: DiscordClient) -> None:
    """A message command or declare form whose resolved data is a list, not an object: 400
    naming the field, no traceback."""
    message = {"id": "1", "name": "Add to timeline", "type": 3, "target_id": "5", "resolved": []}
    declare = {"custom_id": "tocsin:declare:new", "resolved": {"users": ["x"]}, "components": []}
    for kind, data in ((2, {**message, "resolved": ["x"]}), (5, declare)):
        with captured() as logs:
            response = await discord_client.post(
                json.dumps(discord_interaction(kind, data)).encode()
            )
        assert response.status_code == 400, response.text
        assert "must be" in response.json()["error"]
        assert tracebacks(logs) == []


# --- INC-<digits> no incident has -----------------------------------------------------------------
async def test_every_leading_incident_ref_is_a_ref(
    slack_client: SlackClient, discord_client: DiscordClient
) -> None:
    """In an incident's channel, `note INC-0 x` (or twenty digits) is about that incident, like
    `note INC-99 x`: refused as no such incident, never stored as the text "INC-0 x"; Discord's
    incident option says so in the same words."""
    await slack_client.command("declare Checkout is down P1")
    await slack_client.link_channel(1, INC_CHANNEL)
    notes_before = len(await slack_client.rows(t.timeline))
    for ref in ("INC-0", "INC-99999999999999999999", "INC-99"):
        with captured() as logs:
            response = await slack_client.command(f"note {ref} x", channel=INC_CHANNEL)
            answer = await discord_client.command("note", incident=ref, text="x")
        assert response.status_code == 200
        assert f"There is no {ref}" in response.json()["text"]
        assert f"There is no {ref}" in content(answer)
        assert tracebacks(logs) == []
    assert len(await slack_client.rows(t.timeline)) == notes_before


@pytest.mark.usefixtures("cli_db")
def test_cli_show_of_twenty_digits() -> None:
    """`tocsin incident show INC-99999999999999999999` says there is no such incident (exit 1),
    without a traceback and without asking the database."""
    result = CliRunner().invoke(cli, ["incident", "show", "INC-99999999999999999999"])
    assert result.exit_code == 1, result.output
    assert "There is no INC-99999999999999999999" in result.output
    assert "Traceback" not in result.output


async def test_api_incident_numbers_no_incident_has(ctx: Context) -> None:
    """GET /api/v1/incidents/<a number past the INTEGER range, or 0> is a 404 problem."""
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    _, secret = await create_token(ctx, Actor("cli", "root", "root"), "reader", "read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        for number in ("99999999999999999999", "2147483648", "0", "9" * 5000):
            response = await http.get(
                f"/api/v1/incidents/{number}", headers={"Authorization": f"Bearer {secret}"}
            )
            assert response.status_code == 404, response.text
            assert "Traceback" not in response.text
