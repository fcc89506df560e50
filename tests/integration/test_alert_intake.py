"""The alert intake over HTTP into the real inbox: who may post, what is refused (and stored
nowhere), redeliveries, and nothing lost between the 2xx and the processing."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import orjson

from fakes.alerts_kit import generic, groups, inbox, intake_client, integration, path_of, runner
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context


def _sample(metrics: object, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)  # type: ignore[attr-defined]
    return float(value or 0.0)


async def test_a_body_with_the_url_secret_is_committed_to_the_inbox(ctx: Context) -> None:
    """202 means the raw body is in the inbox, pending, with its integration and arrival time."""
    made = await integration(ctx)
    async with intake_client(ctx) as client:
        answer = await client.post(path_of(made), content=generic("disk:db-1"))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True, "duplicate": False}
    [row] = await inbox(ctx)
    assert (row.state, row.group_key, row.integration) == ("pending", "disk:db-1", made.row.id)
    assert orjson.loads(row.body)["key"] == "disk:db-1"
    assert row.received_at == ctx.clock()


async def test_bearer_secret_on_the_bare_url_is_accepted(ctx: Context) -> None:
    """``Authorization: Bearer <secret>`` on ``/alerts/<id>`` authenticates like the full URL."""
    made = await integration(ctx)
    base, secret = path_of(made).rsplit("/", 1)
    async with intake_client(ctx) as client:
        good = await client.post(
            base, content=generic("a"), headers={"Authorization": f"Bearer {secret}"}
        )
        bad = await client.post(
            base, content=generic("b"), headers={"Authorization": "Bearer nope"}
        )
    assert (good.status_code, bad.status_code) == (202, 401)
    assert [row.group_key for row in await inbox(ctx)] == ["a"]


async def test_wrong_or_missing_secret_is_401_counted_and_stores_nothing(ctx: Context) -> None:
    """A wrong secret, or none, is refused with 401, counted, and leaves the inbox empty."""
    metrics = create_metrics(process=False)
    made = await integration(ctx)
    base = path_of(made).rsplit("/", 1)[0]
    async with intake_client(ctx, metrics) as client:
        wrong = await client.post(f"{base}/not-the-secret", content=generic("a"))
        missing = await client.post(base, content=generic("a"))
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "secret" in wrong.json()["error"]
    assert await inbox(ctx) == []
    assert _sample(metrics, "alert_intake_rejected_total", reason="unauthorized") == 2


async def test_unknown_integration_is_404(ctx: Context) -> None:
    """An id no integration has is 404, whatever the secret."""
    metrics = create_metrics(process=False)
    async with intake_client(ctx, metrics) as client:
        answer = await client.post("/alerts/0123456789abcdef/whatever", content=generic("a"))
    assert answer.status_code == 404
    assert _sample(metrics, "alert_intake_rejected_total", reason="unknown") == 1


async def test_oversized_body_is_413_and_stores_nothing(ctx: Context) -> None:
    """A body over 1 MiB is refused with 413 before it is read, and counted."""
    metrics = create_metrics(process=False)
    made = await integration(ctx)
    body = generic("a", description="x" * (1024 * 1024))
    async with intake_client(ctx, metrics) as client:
        answer = await client.post(path_of(made), content=body)
    assert answer.status_code == 413
    assert await inbox(ctx) == []
    assert _sample(metrics, "alert_intake_rejected_total", reason="too_large") == 1


async def test_malformed_bodies_are_400_naming_the_field(ctx: Context, fixtures_dir: Path) -> None:
    """Not JSON, or the wrong shape for the integration's format: 400 with the domain parser's
    error, which names the field; nothing stored."""
    hook = await integration(ctx, "webhook", "hook")
    am = await integration(ctx, "alertmanager", "am")
    bad_am = json.loads((fixtures_dir / "alertmanager" / "firing.json").read_text())
    bad_am["alerts"][0]["labels"] = {"team": 7}
    async with intake_client(ctx) as client:
        not_json = await client.post(path_of(hook), content=b"{nope")
        typo = await client.post(
            path_of(hook), content=b'{"key": "a", "status": "firing", "sevrity": "x"}'
        )
        shape = await client.post(path_of(am), content=orjson.dumps(bad_am))
    assert [r.status_code for r in (not_json, typo, shape)] == [400, 400, 400]
    assert "not JSON" in not_json.json()["error"]
    assert typo.json()["error"].startswith("sevrity: unknown field")
    assert shape.json()["error"].startswith("alerts[0].labels")
    assert await inbox(ctx) == []


async def test_grafana_hmac_signature_authenticates(ctx: Context, fixtures_dir: Path) -> None:
    """Grafana's HMAC option: hex HMAC-SHA256 of the body (or of ``timestamp:body``) with the
    signing secret, on ``/alerts/<id>`` without the URL secret; a wrong one is 401."""
    made = await integration(ctx, "grafana", "graf")
    assert made.signing_secret
    base = path_of(made).rsplit("/", 1)[0]
    body = (fixtures_dir / "grafana" / "docs_example_firing.json").read_bytes()
    key = made.signing_secret.encode()
    plain = hmac.new(key, body, hashlib.sha256).hexdigest()
    stamp = str(int(ctx.clock().timestamp()))
    stamped = hmac.new(key, stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    header = "X-Grafana-Alerting-Signature"
    async with intake_client(ctx) as client:
        ok = await client.post(base, content=body, headers={header: plain})
        ok_stamped = await client.post(
            base,
            content=body,
            headers={header: stamped, "X-Grafana-Alerting-Signature-Timestamp": stamp},
        )
        stale = await client.post(
            base,
            content=body,
            headers={
                header: stamped,
                "X-Grafana-Alerting-Signature-Timestamp": str(int(stamp) - 3600),
            },
        )
        wrong = await client.post(base, content=body, headers={header: "0" * 64})
    assert [r.status_code for r in (ok, ok_stamped, stale, wrong)] == [202, 202, 401, 401]


async def test_a_redelivery_of_the_last_body_is_not_stored_again(ctx: Context) -> None:
    """Alertmanager resends the same body: 2xx, counted as deduplicated, one inbox row. A body
    that repeats an older one (firing, resolved, firing again) is new and stored."""
    metrics = create_metrics(process=False)
    made = await integration(ctx)
    async with intake_client(ctx, metrics) as client:
        first = await client.post(path_of(made), content=generic("a"))
        again = await client.post(path_of(made), content=generic("a"))
        resolved = await client.post(path_of(made), content=generic("a", "resolved"))
        refired = await client.post(path_of(made), content=generic("a"))
    assert [r.json()["duplicate"] for r in (first, again, resolved, refired)] == [
        False,
        True,
        False,
        False,
    ]
    assert len(await inbox(ctx)) == 3
    assert _sample(metrics, "alerts_deduplicated_total") == 1


async def test_processing_turns_inbox_rows_into_groups_in_any_order(ctx: Context) -> None:
    """The worker processes pending rows into groups; a late, older firing after a newer
    resolve does not reopen the group (the domain's latest-wins rule, through the real inbox)."""
    made = await integration(ctx, "alertmanager", "am")
    fired = _am("firing", "2026-03-01T08:00:00Z")
    resolved = _am("resolved", "2026-03-01T08:00:00Z", ends="2026-03-01T08:30:00Z")
    async with intake_client(ctx) as client:
        assert (await client.post(path_of(made), content=resolved)).status_code == 202
        assert (await client.post(path_of(made), content=fired)).status_code == 202
    assert await runner(ctx).fire_due() >= 1
    [group] = await groups(ctx)
    assert group.group.status.value == "resolved"
    assert {row.state for row in await inbox(ctx)} == {"done"}


async def test_a_crash_between_accept_and_processing_loses_nothing(ctx: Context) -> None:
    """Accepted but not processed (the worker died, or its transaction rolled back): the body
    stays pending in the inbox and a new worker processes it, once."""
    made = await integration(ctx)
    async with intake_client(ctx) as client:
        assert (await client.post(path_of(made), content=generic("a"))).status_code == 202
    crashing = runner(ctx)
    handle = crashing.handlers.get("alert_inbox")
    assert handle is not None

    async def crash(timer: object, tx: object) -> None:
        await handle(timer, tx)  # type: ignore[arg-type]  # processes, then dies before commit
        raise RuntimeError("worker killed")

    crashing.handlers._handlers["alert_inbox"] = crash
    await crashing._fire_one()
    assert [row.state for row in await inbox(ctx)] == ["pending"]
    assert await groups(ctx) == []
    async with ctx.uow() as uow:  # the retry is due now (the crash put it off with backoff)
        await uow.timers.schedule(
            "alert_inbox:1", "alert_inbox", ctx.clock(), payload={"inbox": 1}, replace=True
        )
        await uow.commit()
    assert await runner(ctx).fire_due() == 1
    assert [row.state for row in await inbox(ctx)] == ["done"]
    [group] = await groups(ctx)
    assert group.group.status.value == "firing"


def _am(status: str, starts: str, *, ends: str = "0001-01-01T00:00:00Z") -> bytes:
    alert = {
        "status": status,
        "labels": {"alertname": "Disk", "team": "db"},
        "annotations": {"summary": "Disk full"},
        "startsAt": starts,
        "endsAt": ends,
        "fingerprint": "f1",
    }
    return orjson.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="Disk"}',
            "status": status,
            "receiver": "tocsin",
            "alerts": [alert],
            "commonLabels": {"alertname": "Disk", "team": "db"},
        }
    )


async def test_processing_counts_alerts_and_groups_by_state(ctx: Context) -> None:
    """``alerts_received_total`` counts processed alerts by integration kind and status;
    ``alert_groups`` gauges the groups by state after each batch."""
    metrics = create_metrics(process=False)
    made = await integration(ctx)
    async with intake_client(ctx, metrics) as client:
        for body in (generic("a"), generic("b"), generic("b", "resolved")):
            ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # the tests' Clock
            assert (await client.post(path_of(made), content=body)).status_code == 202
    await runner(ctx, metrics).fire_due()
    received = "alerts_received_total"
    assert _sample(metrics, received, integration="webhook", status="firing") == 2
    assert _sample(metrics, received, integration="webhook", status="resolved") == 1
    assert _sample(metrics, "alert_groups", state="firing") == 1
    assert _sample(metrics, "alert_groups", state="resolved") == 1
