"""A down monitor's incident shows the checks that failed: when its alert group declares an
incident (route ``action = "declare"``, or declared later from the group by hand), the incident's
timeline lists each failed check with its time (UTC), status and response time, not only the
summary. Through the real checker against a real HTTP target on 127.0.0.1, on SQLite and
PostgreSQL, with an injected clock and response-time counter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.alerts_kit import groups
from fakes.monitor_target import HttpTarget
from tocsin.domain.model import Actor, EntryKind
from tocsin.domain.policy_file import parse_policy
from tocsin.services.alerts.groups import declare_group
from tocsin.services.context import Context
from tocsin.services.monitors.checker import MonitorChecker
from tocsin.services.queries import show
from tocsin.storage.db import Database

ONCALL = [{"name": "default", "levels": [["slack:U0ONCALL"]]}]
ADMIN = Actor("slack", "U0ADMIN", "Ada")
FAILED = [
    "09:00:30 status 503, expected 200 (134 ms)",
    "09:01:00 status 503, expected 200 (134 ms)",
]


def _ctx(db: Database, clock: Any, target: HttpTarget, action: str) -> Context:
    monitor = {"name": "web", "kind": "http", "url": target.url(), "interval_seconds": 30,
               "timeout_seconds": 5, "expect_status": [200], "down_after": 2}  # fmt: skip
    route = {"match": {"alertname": "MonitorDown"}, "action": action, "severity": "P2"}
    policy = parse_policy(
        {
            "admins": {"slack": [ADMIN.user_id]},
            "monitor": [monitor],
            "alert_route": [route],
            "escalation": ONCALL,
        }
    )
    return Context(db, policy, clock=clock, destinations=frozenset({"slack"}))


@pytest.fixture
async def target() -> AsyncIterator[HttpTarget]:
    server = await HttpTarget(status=503, body="unavailable", takes=0.134).start()
    yield server
    await server.stop()


async def _two_failed_rounds(ctx: Context, clock: Any, target: HttpTarget) -> None:
    async with httpx.AsyncClient() as client:
        checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
        await checker.arm()
        for _ in range(2):
            clock.advance(seconds=30)
            assert await checker.run_once() == 1


async def test_a_declared_monitor_incident_lists_the_failed_checks_on_its_timeline(
    db: Database, clock: Any, target: HttpTarget
) -> None:
    """A target answering 503 in 134 ms, down_after 2, a declare route: INC-1 is declared and
    its timeline, after the declaration, has a note from tocsin listing both failed checks with
    their time, status and response time; the alert's description says the same."""
    ctx = _ctx(db, clock, target, "declare")
    await _two_failed_rounds(ctx, clock, target)
    [group] = await groups(ctx)
    assert group.incident == 1
    [alert] = group.group.firing
    assert alert.annotations["description"] == "; ".join(FAILED)
    shown = await show(ctx, ADMIN, 1)
    kinds = [entry.kind for entry in shown.timeline]
    assert kinds[:2] == [EntryKind.DECLARED, EntryKind.NOTE]
    note = shown.timeline[1]
    assert note.actor.name == "tocsin alerts"
    assert note.text == f'Alert group #{group.id} (Monitor "web" is down): ' + "; ".join(FAILED)
    assert shown.timeline[0].at == clock()  # declared when the second failure was recorded


async def test_declaring_a_monitor_group_by_hand_lists_the_failed_checks_too(
    db: Database, clock: Any, target: HttpTarget
) -> None:
    """Routed to ``ignore``, the down monitor declares nothing; declared later from its group
    by an admin, the new incident's timeline lists the same failed checks."""
    ctx = _ctx(db, clock, target, "ignore")
    await _two_failed_rounds(ctx, clock, target)
    [group] = await groups(ctx)
    assert group.incident is None
    assert group.id is not None
    kept = await declare_group(ctx, ADMIN, group.id)
    assert kept.incident == 1
    shown = await show(ctx, ADMIN, 1)
    notes = [entry.text for entry in shown.timeline if entry.kind is EntryKind.NOTE]
    assert notes == [f'Alert group #{group.id} (Monitor "web" is down): ' + "; ".join(FAILED)]
