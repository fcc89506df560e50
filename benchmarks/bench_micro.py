"""Micro-benchmarks of the hot paths (pytest-benchmark). Run with ``make bench-micro``.

Each function measures one step a chat command takes: verifying the request, parsing the text,
deciding the permission, and the write path's unit of work; plus post-mortem rendering and audit
hashing. Figures go into docs/performance.md with the command that produced them.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tocsin.domain.audit import AuditRecord, chain
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor, Incident, Severity
from tocsin.domain.permissions import decide
from tocsin.domain.policy import default_policy
from tocsin.domain.postmortem import render_postmortem
from tocsin.platforms.slack.verify import SlackVerifier
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import migrate
from tocsin.storage.db import Database

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U1", "alice")
BOB = Actor("slack", "U2", "bob")
SLACK_BODY = (
    b"token=x&team_id=T1&channel_id=C1&user_id=U1&user_name=alice&command=%2Fincident"
    b"&text=note+INC-1+the+database+is+back&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"
    b"&trigger_id=1.2.3"
)


def test_slack_signature_verify(benchmark: Any) -> None:
    """Slack HMAC-SHA256 verification of a slash-command body (raw bytes, 5-minute window)."""
    verifier = SlackVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=lambda: 1_700_000_000)
    signature = verifier.sign(SLACK_BODY, "1700000000")
    headers = {"x-slack-request-timestamp": "1700000000", "x-slack-signature": signature}
    assert benchmark(verifier.verify, SLACK_BODY, headers)


def test_discord_signature_verify(benchmark: Any) -> None:
    """Discord Ed25519 verification (PyNaCl) of an interaction body."""
    from nacl.signing import SigningKey

    key = SigningKey(hashlib.sha256(b"bench").digest())
    body = b'{"type":2,"data":{"name":"incident","options":[{"name":"list","type":1}]}}'
    timestamp = b"1700000000"
    signature = key.sign(timestamp + body).signature
    verify_key = key.verify_key

    def verify() -> bool:
        verify_key.verify(timestamp + body, signature)
        return True

    assert benchmark(verify)


@pytest.mark.parametrize(
    "text",
    ['declare "Checkout is down" P1 <@U123|alice>', "note INC-12 the database is back", "list"],
)
def test_parse(benchmark: Any, text: str) -> None:
    """Parsing the text after /incident into a Command."""
    assert benchmark(parse, text).name


def test_permission_decision(benchmark: Any) -> None:
    """Deciding whether a non-commander may resolve (the denied path builds its sentence)."""
    policy = default_policy()
    incident, _ = Incident.declare(1, "x", Severity.P1, ALICE, T0)
    assert not benchmark(decide, policy, "resolve", BOB, incident).allowed


def test_postmortem_render(benchmark: Any) -> None:
    """Rendering the Markdown post-mortem of an incident with 200 timeline entries."""
    incident, timeline = Incident.declare(1, "Checkout down", Severity.P1, ALICE, T0)
    for i in range(200):
        timeline += incident.add_note(BOB, f"note {i}", T0 + timedelta(minutes=i))
    timeline += incident.resolve(ALICE, "fixed", T0 + timedelta(hours=4))
    assert "## Timeline" in benchmark(render_postmortem, incident, timeline, T0)


def test_audit_hash(benchmark: Any) -> None:
    """Hashing one audit entry onto the chain."""
    record = AuditRecord(T0, "slack", "U1", "alice", "note", 1, "allowed", "anyone", "x")
    assert len(benchmark(chain, 7, record, "0" * 64).hash) == 64


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_write_path_unit_of_work(benchmark: Any, tmp_path: Path, synchronous: str) -> None:
    """One `note` command end to end on SQLite: lock, permission, timeline, outbox rows for
    Slack, audit entry, commit. FULL (the default) fsyncs the WAL at every commit; NORMAL only
    at checkpoints."""
    loop = asyncio.new_event_loop()
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}", synchronous=synchronous)
    ctx = Context(db=db, policy=default_policy(), destinations=frozenset({"slack"}))
    loop.run_until_complete(migrate.upgrade(db))
    loop.run_until_complete(execute(ctx, ALICE, parse('declare "Checkout down" P1')))
    command = parse("note INC-1 the database is back")

    def once() -> str:
        return loop.run_until_complete(execute(ctx, ALICE, command)).message

    try:
        assert benchmark(once) == "Noted on INC-1."
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
