"""``tocsin integration`` and ``tocsin alerts`` as processes on one SQLite file: create and
rotate a URL, see a processed group, acknowledge, silence and declare it; mistakes are one line."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from e2e.test_cli import Cli, cli, one_error_line
from fakes.alerts_kit import generic, runner
from tocsin.domain.policy import default_policy
from tocsin.services.alerts.intake import Credentials, accept
from tocsin.services.context import Context
from tocsin.storage.db import Database

__all__ = ["cli"]  # the fixture, shared with test_cli.py

pytestmark = pytest.mark.slow


def _post_and_process(url: str, integration_url: str, body: bytes) -> None:
    """Accept a body as the intake would and run the inbox worker once, in-process."""
    public_id, secret = urlsplit(integration_url).path.split("/")[2:4]

    async def main() -> None:
        ctx = Context(Database(url), default_policy())
        try:
            await accept(ctx, public_id, body, Credentials(secret))
            await runner(ctx).fire_due()
        finally:
            await ctx.db.dispose()

    asyncio.run(main())


def test_integrations_and_alert_groups_from_the_command_line(cli: Cli) -> None:
    """Create prints the URL (JSON with id, kind, name, url); list never shows it; rotate gives
    a new one. A processed group is listed, acknowledged, silenced for 2h and declared (INC-1)."""
    cli.ok("db", "upgrade")
    made = json.loads(cli.ok("integration", "create", "webhook", "kuma", "--json"))
    assert {"id", "kind", "name", "url"} <= set(made)
    assert made["url"].startswith("http://127.0.0.1:8080/alerts/")
    listed = json.loads(cli.ok("integration", "list", "--json"))
    assert [(i["name"], "url" in i) for i in listed] == [("kuma", False)]
    rotated = json.loads(cli.ok("integration", "rotate", "kuma", "--json"))
    assert rotated["url"] != made["url"]
    _post_and_process(cli.url, rotated["url"], generic("disk"))
    [group] = json.loads(cli.ok("alerts", "list", "--json"))
    assert {k: group[k] for k in ("status", "title", "alerts", "incident")} == {
        "status": "firing",
        "title": "disk is down",
        "alerts": 1,
        "incident": None,
    }
    gid = str(group["id"])
    assert "acknowledged" in cli.ok("alerts", "ack", gid)
    assert "silenced" in cli.ok("alerts", "silence", gid, "--for", "2h")
    assert "INC-1" in cli.ok("alerts", "declare", gid)
    assert json.loads(cli.ok("alerts", "list", "--json"))[0]["incident"] == "INC-1"


def test_alert_command_mistakes_are_one_line(cli: Cli) -> None:
    """Unknown group, bad duration, heartbeat without a period, duplicate or unknown integration:
    each a one-line error, no traceback."""
    cli.ok("db", "upgrade")
    cli.ok("integration", "create", "alertmanager", "prom")
    assert "no alert group #9" in one_error_line(cli("alerts", "ack", "9")).lower()
    assert "not a duration" in one_error_line(cli("alerts", "silence", "9", "--for", "soon"))
    assert "needs a period" in one_error_line(cli("integration", "create", "heartbeat", "cron"))
    assert "exists already" in one_error_line(cli("integration", "create", "webhook", "prom"))
    assert "no integration" in one_error_line(cli("integration", "delete", "nope"))


def test_matcher_silences_from_the_command_line(cli: Cli) -> None:
    """``alerts silence --match ... --for 4h`` makes a silence that ``alerts silences`` lists
    (JSON too) and ``alerts unsilence ID`` ends; a bad matcher or a group with --match is one
    line, and stores nothing."""
    cli.ok("db", "upgrade")
    matchers = 'team="payments",severity=~"crit.*"'
    made = cli.ok("alerts", "silence", "--match", matchers, "--for", "4h", "--comment", "deploy")
    assert made.startswith("Silence #1: ")
    assert matchers in made
    [listed] = json.loads(cli.ok("alerts", "silences", "--json"))
    assert (listed["id"], listed["matchers"], listed["comment"]) == (1, matchers, "deploy")
    assert "unclosed quote" in one_error_line(cli("alerts", "silence", "--match", 'team="x'))
    assert "not both" in one_error_line(cli("alerts", "silence", "3", "--match", matchers))
    assert "Ended silence #1" in cli.ok("alerts", "unsilence", "1")
    assert cli.ok("alerts", "silences").strip() == "No silences."
    assert len(json.loads(cli.ok("alerts", "silences", "--all", "--json"))) == 1
    assert "no active silence #1" in one_error_line(cli("alerts", "unsilence", "1"))
