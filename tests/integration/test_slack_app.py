"""Slack over HTTP, in process: signed slash commands, interactions and events through tocsin's
ASGI app on SQLite (and PostgreSQL when configured), with the fake Slack Web API behind it.
Refusals (401, 413, 400) change nothing; everything else commits and answers at once, and every
effect on Slack is an outbox row."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakes.slack_api import FakeSlack
from fakes.slack_harness import FORM, SlackClient, open_client
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.db import Database

INC_CHANNEL = "CINC1"


@pytest.fixture
async def client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    ctx = Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"slack"}),
        public_url="https://tocsin.example.com",
    )
    async with open_client(ctx, slack) as opened:
        yield opened


async def declared(client: SlackClient, title: str = "Checkout is down P1") -> None:
    """INC-1 declared by alice (its commander), its channel INC_CHANNEL."""
    response = await client.command(f"declare {title}")
    assert response.json()["response_type"] == "in_channel"
    await client.link_channel(1, INC_CHANNEL)


def bolt(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((fixtures_dir / "slack" / "bolt_python" / name).read_text()))


# --- the door -------------------------------------------------------------------------------
async def test_help_is_one_ephemeral_message(client: SlackClient) -> None:
    """`/incident help` (and an empty `/incident`) answer the caller only, in one message."""
    for text in ("help", ""):
        response = await client.command(text)
        assert response.status_code == 200
        body = response.json()
        assert body["response_type"] == "ephemeral"
        assert "/incident declare" in body["text"]


@pytest.mark.parametrize("path", ["/slack/commands", "/slack/interactions", "/slack/events"])
@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "stale", "tampered"])
async def test_bad_signatures_get_401_and_change_nothing(
    client: SlackClient, path: str, how: str
) -> None:
    """Unsigned, wrongly signed, replayed (6 minutes old) or altered requests: 401, no rows."""
    before = await client.counts()
    body = b"command=%2Fincident&user_id=U0ALICE&text=declare+Evil+P1&channel_id=C1"
    if how == "unsigned":
        response = await client.post(path, body, FORM, signed=False)
    elif how == "wrong secret":
        client.secret = "not-the-secret"
        response = await client.post(path, body, FORM)
    elif how == "stale":
        client.timestamp -= 360
        response = await client.post(path, body, FORM)
    else:
        headers = {}
        from fakes.slack_api import signed_headers

        headers = signed_headers(client.secret, body, client.timestamp, FORM)
        response = await client.http.post(path, content=body + b"+now", headers=headers)
    assert response.status_code == 401
    assert await client.counts() == before


async def test_oversized_bodies_get_413_and_change_nothing(client: SlackClient) -> None:
    """A signed body over 1 MiB is refused before anything is read into the database."""
    before = await client.counts()
    body = b"command=%2Fincident&user_id=U1&text=" + b"x" * (1024 * 1024 + 1)
    response = await client.post("/slack/commands", body, FORM)
    assert response.status_code == 413
    assert await client.counts() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/slack/commands", b"text=help&channel_id=C1"),  # no command, no user
        ("/slack/commands", b"\xff\xfe not utf-8"),
        ("/slack/interactions", b"token=x"),  # no payload field
        ("/slack/interactions", b"payload=%7Bnot-json"),
        ("/slack/interactions", b"payload=%5B1%2C2%5D"),  # a JSON array
        ("/slack/events", b"{not json"),
        ("/slack/events", b"[]"),
    ],
)
async def test_malformed_signed_bodies_get_400_and_change_nothing(
    client: SlackClient, path: str, body: bytes
) -> None:
    """Signed but unreadable: 400 with a reason, and nothing stored."""
    before = await client.counts()
    response = await client.post(path, body, FORM)
    assert response.status_code == 400
    assert "error" in response.json()
    assert await client.counts() == before


async def test_ssl_check_and_url_verification(client: SlackClient, fixtures_dir: Path) -> None:
    """ssl_check=1 gets an empty 200; url_verification echoes the challenge."""
    response = await client.post("/slack/commands", b"ssl_check=1&token=x", FORM, signed=False)
    assert response.status_code == 200
    assert response.content == b""
    challenge = bolt(fixtures_dir, "url_verification.json")
    response = await client.event(challenge)
    assert response.json() == {"challenge": challenge["challenge"]}


async def test_an_unexpected_error_is_a_polite_200(
    client: SlackClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug behind a slash command is logged; Slack gets an ephemeral apology, never a 500."""

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("tocsin.platforms.slack.app.run_command", broken)
    response = await client.command("list")
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "went wrong" in response.json()["text"]


# --- commands -------------------------------------------------------------------------------
async def test_declare_commits_and_queues_the_slack_effects(client: SlackClient) -> None:
    """`/incident declare ... P1` answers in the channel, creates INC-1 and queues open_channel
    and announce for Slack in the same transaction; nothing is sent inline."""
    response = await client.command("declare Checkout is down P1")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "INC-1 declared" in body["text"]
    [incident] = await client.rows(t.incidents)
    assert incident["severity"] == "P1"
    kinds = sorted(r["kind"] for r in await client.rows(t.outbox) if r["destination"] == "slack")
    assert kinds == ["announce", "open_channel"]
    assert client.slack.calls == []


async def test_inc_is_an_alias_and_usage_uses_the_command_typed(client: SlackClient) -> None:
    """`/inc list` works; a mistake shows the usage with the command the user typed."""
    assert "No open incidents" in (await client.command("list", command="/inc")).json()["text"]
    body = (await client.command("severity P9", command="/inc")).json()
    assert body["response_type"] == "ephemeral"
    assert "/inc severity" in body["text"]


async def test_every_subcommand_answers_in_slack(client: SlackClient) -> None:
    """Every subcommand of docs/commands.md runs in Slack in the incident channel and is answered
    without a refusal or a mistake; the post-mortem comes back as a Markdown block."""
    await declared(client)
    alice, bob, erin = ("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0ERIN", "erin")
    script = [
        ("list all", alice),
        ("show", alice),
        ("update Rolled back", alice),
        ("note Pager fired at 09:02", erin),
        ("severity P2", alice),
        ("status identified", alice),
        ("role scribe <@U0CAROL|carol>", alice),
        ("join", erin),
        ("ack", erin),
        ("action Add an alert <@U0DAN|dan>", erin),
        ("commander <@U0BOB|bob>", alice),
        ("resolve Fixed", bob),
        ("reopen", bob),
        ("help action", erin),
        ("postmortem", erin),
    ]
    for text, (user, name) in script:
        body = (await client.command(text, user=user, name=name, channel=INC_CHANNEL)).json()
        assert not body["text"].startswith(("⚠️", "🚫")), (text, body["text"])
    assert body["response_type"] == "in_channel"
    assert "```" in body["text"]
    kinds = {r["kind"] for r in await client.rows(t.timeline)}
    assert {"update", "note", "severity", "status", "role", "action", "resolved"} <= kinds


async def test_in_the_incident_channel_the_incident_is_implied(client: SlackClient) -> None:
    """Inside INC-1's channel `update` needs no INC-1; outside it, tocsin asks which."""
    await declared(client)
    response = await client.command("update Rolled back the deploy", channel=INC_CHANNEL)
    assert "INC-1" in response.json()["text"]
    updates = [r for r in await client.rows(t.timeline) if r["kind"] == "update"]
    assert updates[0]["text"] == "Rolled back the deploy"
    elsewhere = (await client.command("update again", channel="COTHER")).json()
    assert elsewhere["response_type"] == "ephemeral"
    assert "Which incident?" in elsewhere["text"]


async def test_denied_commands_say_why_privately_and_are_audited(client: SlackClient) -> None:
    """bob may not resolve alice's incident: he alone is told who may; the audit has it."""
    await declared(client)
    body = (await client.command("resolve", user="U0BOB", name="bob", channel=INC_CHANNEL)).json()
    assert body["response_type"] == "ephemeral"
    assert "Only the commander of INC-1 (alice)" in body["text"]
    decisions = [(r["actor_id"], r["decision"]) for r in await client.rows(t.audit_log)]
    assert ("U0BOB", "denied") in decisions
    [incident] = await client.rows(t.incidents)
    assert incident["status"] == "investigating"


async def test_declare_without_a_title_opens_the_modal(client: SlackClient) -> None:
    """`/incident declare P2` opens the declare modal (views.open with the trigger), prefilled,
    and answers with an empty 200; nothing is declared yet."""
    response = await client.command("declare P2", trigger_id="777.888.abc")
    assert response.status_code == 200
    assert response.content == b""
    [opened] = client.slack.views
    assert opened["trigger_id"] == "777.888.abc"
    severity = next(b for b in opened["view"]["blocks"] if b["block_id"] == "severity")
    assert severity["element"]["initial_option"]["value"] == "P2"
    assert await client.rows(t.incidents) == []


async def test_an_expired_trigger_falls_back_to_typing(client: SlackClient) -> None:
    """If views.open fails, the user is told how to declare by typing instead."""
    client.slack.fail("views.open", "expired_trigger_id")
    body = (await client.command("declare")).json()
    assert body["response_type"] == "ephemeral"
    assert "declare &lt;title&gt;" in body["text"]


# --- modals -----------------------------------------------------------------------------
def declare_submission(
    fixtures_dir: Path, values: dict[str, Any], view_id: str = "V900"
) -> dict[str, Any]:
    payload = bolt(fixtures_dir, "view_submission.json")
    payload["user"] = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T111"}
    payload["view"].update(
        id=view_id,
        callback_id="tocsin_declare",
        private_metadata=json.dumps({"channel": "CGENERAL"}),
        state={"values": {k: {"value": v} for k, v in values.items()}},
    )
    return payload


async def test_declare_modal_errors_inline_then_declares_once(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """An empty title and an unknown severity come back as response_action errors under their
    fields, declaring nothing; a good submission declares; the same submission again (a double
    click) creates nothing more."""
    unknown = {"selected_option": {"value": "P9"}}
    bad = declare_submission(fixtures_dir, {"title": {"value": ""}, "severity": unknown})
    body = (await client.interact(bad)).json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "title": "Give the incident a title, for example: Checkout is down.",
        "severity": "Choose a severity from P1 (critical) to P4 (low).",
    }
    assert await client.rows(t.incidents) == []
    good = declare_submission(
        fixtures_dir,
        {
            "title": {"value": "Search is slow"},
            "severity": {"selected_option": {"value": "P2"}},
            "description": {"value": "p99 at 4 s"},
            "commander": {"selected_user": "U0BOB"},
        },
    )
    for _ in range(2):
        response = await client.interact(good)
        assert response.status_code == 200
        assert response.content == b""
    [incident] = await client.rows(t.incidents)
    assert incident["title"] == "Search is slow"
    assert incident["description"] == "p99 at 4 s"
    assert incident["roles"]["commander"]["user_id"] == "U0BOB"
    notices = [r for r in await client.rows(t.outbox) if r["kind"] == "ephemeral"]
    assert len(notices) == 1


# --- buttons ----------------------------------------------------------------------------
def click(fixtures_dir: Path, action: str, user: str, name: str, value: str = "1") -> Any:
    payload = bolt(fixtures_dir, "block_actions.json")
    payload["user"] = {"id": user, "username": name, "name": name, "team_id": "T111"}
    payload["actions"] = [
        {**payload["actions"][0], "action_id": f"tocsin:{action}", "value": value}
    ]
    payload["trigger_id"] = f"trigger-{action}-{user}"
    return payload


async def notices(client: SlackClient) -> list[dict[str, Any]]:
    return [r["payload"] for r in await client.rows(t.outbox) if r["kind"] == "ephemeral"]


async def test_resolve_button_is_refused_politely_for_others(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """bob clicking Resolve is told, privately, that only the commander may; alice resolves."""
    await declared(client)
    response = await client.interact(click(fixtures_dir, "resolve", "U0BOB", "bob"))
    assert response.status_code == 200
    [notice] = await notices(client)
    assert notice["user"] == "U0BOB"
    assert "Only the commander of INC-1 (alice)" in notice["text"]
    assert (await client.rows(t.incidents))[0]["status"] == "investigating"
    await client.interact(click(fixtures_dir, "resolve", "U0ALICE", "alice"))
    assert (await client.rows(t.incidents))[0]["status"] == "resolved"


async def test_join_and_acknowledge_buttons(client: SlackClient, fixtures_dir: Path) -> None:
    """Join makes carol a participant; Acknowledge stamps the incident acknowledged."""
    await declared(client)
    await client.interact(click(fixtures_dir, "join", "U0CAROL", "carol"))
    await client.interact(click(fixtures_dir, "ack", "U0DAN", "dan"))
    [incident] = await client.rows(t.incidents)
    people = {p["user_id"] for p in incident["participants"]}
    assert {"U0CAROL", "U0DAN"} <= people
    assert incident["acknowledged_at"] is not None


async def test_post_update_button_opens_the_modal_for_those_allowed(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """The commander gets the update modal; bob is told why not; submitting posts the update."""
    await declared(client)
    await client.interact(click(fixtures_dir, "update", "U0BOB", "bob"))
    assert client.slack.views == []
    assert "Only the commander" in (await notices(client))[0]["text"]
    await client.interact(click(fixtures_dir, "update", "U0ALICE", "alice"))
    [opened] = client.slack.views
    view = copy.deepcopy(opened["view"])
    view["state"] = {"values": {"text": {"value": {"value": "Queue drained"}}}}
    submission = declare_submission(fixtures_dir, {})
    submission["view"] = view
    assert (await client.interact(submission)).content == b""
    updates = [r["text"] for r in await client.rows(t.timeline) if r["kind"] == "update"]
    assert updates == ["Queue drained"]


async def test_other_apps_interactions_are_acknowledged_and_ignored(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """Foreign buttons, callbacks, view_closed and shortcuts get an empty 200 and change nothing."""
    before = await client.counts()
    for name in (
        "block_actions.json",
        "view_submission.json",
        "view_closed.json",
        "global_shortcut.json",
        "message_shortcut.json",
    ):
        response = await client.interact(bolt(fixtures_dir, name))
        assert response.status_code == 200, name
        assert response.content == b"", name
    assert await client.counts() == before
