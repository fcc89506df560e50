"""Make failed Statuspage syncs visible: a soft `/health` check and a line in the incident channel.

A Statuspage delivery that goes dead (a bad API key, a page that does not exist, 25 failed
attempts) is only a row in the outbox; the people running the incident would not know their
public page is stale. So, beside the circuit breaker's own ``delivery_statuspage`` check:

* :func:`failure_check` reports ``statuspage_sync`` as degraded while a Statuspage delivery queued
  in the last 24 hours is dead, with the latest reason and the command that retries it;
* :func:`notify_failures` (run every few seconds by :func:`failure_watcher` inside ``tocsin
  serve``) queues one ``post`` to the incident's Slack and Discord channels per dead delivery.
  Its idempotency key names the row and its attempt count, so every replica may run it and a
  delivery that dies again after a retry is reported again.

The worker itself is not changed for this: it marks the row dead, this module notices.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from tocsin.domain.effects import Effect
from tocsin.domain.model import incident_ref
from tocsin.domain.routing import CHAT, snapshot
from tocsin.periodic import Starter, every
from tocsin.services.context import Context
from tocsin.storage.status import FailedSync

log = structlog.get_logger("tocsin.statuspage")

WINDOW = timedelta(hours=24)
WATCH_SECONDS = 5.0
SYSTEM = {"platform": "system", "user_id": "tocsin", "display_name": "tocsin"}


def describe(failed: list[FailedSync]) -> str:
    last = failed[0]
    where = f" for {incident_ref(last.incident)}" if last.incident else ""
    count = "1 Statuspage update" if len(failed) == 1 else f"{len(failed)} Statuspage updates"
    return (
        f"{count} failed in the last 24 hours; the latest{where}: {last.error}. "
        "`tocsin deliveries list --state dead` lists them and `tocsin deliveries retry "
        f"{last.id}` sends one again."
    )


def failure_check(ctx: Context) -> Callable[[], Awaitable[str | None]]:
    """A soft health check: None while no Statuspage delivery of the last day is dead."""

    async def check() -> str | None:
        async with ctx.uow(read_only=True) as uow:
            failed = await uow.status.failed_syncs(ctx.clock() - WINDOW)
        return describe(failed) if failed else None

    return check


def _notice_key(destination: str, row: FailedSync) -> str:
    return f"{destination}:statuspage-failed:{row.id}:{row.attempts}"


def notice_text(row: FailedSync) -> str:
    return (
        f"⚠️ The public status page (Statuspage.io) could not be updated: {row.error}. "
        f"Fix the cause, then run `tocsin deliveries retry {row.id}` to send it again."
    )


async def notify_failures(ctx: Context) -> int:
    """Queue a channel message for each dead Statuspage delivery not reported yet; how many."""
    chats = [d for d in CHAT if d in ctx.destinations]
    if not chats:
        return 0
    async with ctx.uow(read_only=True) as uow:
        store = uow.status
        failed = [f for f in await store.failed_syncs(ctx.clock() - WINDOW) if f.incident]
        wanted = {_notice_key(d, f): (d, f) for f in failed for d in chats}
        new = [wanted[k] for k in wanted.keys() - await store.known_keys(list(wanted))]
    if not new:
        return 0
    async with ctx.uow() as uow:
        now = ctx.clock()
        effects = []
        for destination, row in sorted(new, key=lambda pair: pair[1].id):
            assert row.incident is not None
            incident = await uow.incidents.get(row.incident)
            if incident is None:
                continue
            payload = {
                "event": "statuspage_failed",
                "text": notice_text(row),
                "actor": SYSTEM,
                "at": now.isoformat(),
                "data": {"delivery": row.id},
                "incident": snapshot(incident, ctx.public_url),
            }
            key = _notice_key(destination, row)
            effects.append(Effect(destination, "post", payload, key, incident.number))
        added = await uow.outbox.add(effects, now)
        await uow.commit()
    ctx.committed()
    log.warning("statuspage sync failed; told the incident channels", count=added)
    return added


def failure_watcher(ctx: Context, interval: float = WATCH_SECONDS) -> Starter:
    """A starter for the web app: runs :func:`notify_failures` every ``interval`` seconds."""
    return every(
        interval,
        lambda: notify_failures(ctx),
        name="tocsin-statuspage-failures",
        failed="statuspage failure watch failed",
    )
