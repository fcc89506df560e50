"""Fuzzing the alert intake against the real ASGI app in process (SQLite, and PostgreSQL when
configured): Alertmanager and Grafana bodies built from the captured fixtures, and generic
webhook bodies, mutated (a value replaced, retyped or dropped), sometimes sent to an integration
of another kind, cut short or replaced by JSON of any shape. Whatever arrives, the answer is
never a 5xx and never shows a traceback, nothing is logged as an error, and a refusal (4xx)
stored nothing; an accepted body then goes through the worker without an error either.

The number of examples is fixed and the runs are derandomized, so every run tries the same
inputs (the pattern of tests/integration/test_chat_fuzz.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.alerts_kit import intake_client, integration, path_of, runner
from fakes.chat_logs import captured, tracebacks
from fakes.chat_strategies import payloads
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.alert_tables import alert_groups, alert_inbox, alert_silences

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = ("alertmanager", "grafana", "webhook")


def _fixtures(folder: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob("*.json"))]


GENERIC = [
    {
        "key": "uptime-kuma:checkout",
        "status": "firing",
        "title": "Checkout is down",
        "severity": "critical",
        "description": "HTTP 503 for 2 minutes",
        "labels": {"team": "payments", "service": "checkout"},
        "link": "https://status.example.com/dashboard/4",
    },
    {"key": "uptime-kuma:checkout", "status": "resolved"},
]
BASES = {
    "alertmanager": _fixtures("alertmanager"),
    "grafana": _fixtures("grafana"),
    "webhook": GENERIC,
}


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """(the integration kind to post to, the body): mostly a mutated body of that kind's format,
    sometimes another format's, cut short, or not JSON at all."""
    kind = draw(st.sampled_from(KINDS))
    source = kind if draw(st.integers(0, 5)) else draw(st.sampled_from(KINDS))
    raw = json.dumps(draw(payloads(BASES[source]))).encode()
    how = draw(st.integers(0, 15))
    if how == 0:
        raw = raw[: draw(st.integers(0, max(len(raw) - 1, 0)))]
    elif how == 1:
        raw = draw(st.binary(max_size=64))
    return kind, raw


@pytest.fixture
async def intake(ctx: Context) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app with the intake routes, and one integration path per kind."""
    paths = {kind: path_of(await integration(ctx, kind, kind)) for kind in KINDS}
    async with intake_client(ctx) as http:
        yield http, paths


async def _counts(ctx: Context) -> dict[str, int]:
    """Rows per table the intake or the worker write: the test's way to say "nothing changed"."""
    async with ctx.uow(read_only=True) as uow:
        found = {}
        for table in (alert_inbox, alert_groups, alert_silences, t.timers, t.outbox):
            query = sa.select(sa.func.count()).select_from(table)
            found[table.name] = int((await uow.connection.execute(query)).scalar_one())
    return found


@FUZZ
@given(sent=bodies())
async def test_the_intake_never_fails(
    ctx: Context, intake: tuple[httpx.AsyncClient, dict[str, str]], sent: tuple[str, bytes]
) -> None:
    """Any body at an integration's URL is a 202 or a 4xx naming the problem, never a 5xx or a
    traceback; a 4xx stored nothing; an accepted body is processed without an error."""
    http, paths = intake
    kind, body = sent
    before = await _counts(ctx)
    with captured() as logs:
        response = await http.post(paths[kind], content=body)
        if response.status_code == 202:
            await runner(ctx).fire_due()
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert tracebacks(logs) == [], logs
    if response.status_code >= 400:
        assert response.status_code == 400, response.text
        assert response.json()["error"]
        assert await _counts(ctx) == before
