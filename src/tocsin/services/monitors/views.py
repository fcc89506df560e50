"""What the CLI, the API and the dashboard show of monitors: every monitor (the policy's and the
stored ones) with its stored state; ``source`` says where each is defined (``policy`` or
``api``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tocsin.domain.monitors import Monitor, MonitorState
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import all_monitors, find_monitor
from tocsin.storage.monitors import CheckResult

RECENT = 50  # results shown with one monitor


def monitor_item(monitor: Monitor, state: MonitorState | None) -> dict[str, Any]:
    state = state or MonitorState()
    return {
        "name": monitor.name,
        "kind": str(monitor.kind),
        "source": monitor.source,
        "target": monitor.url or monitor.target,
        "interval_seconds": monitor.interval_seconds,
        "component": monitor.component,
        "status": str(state.status),
        "since": state.since.isoformat() if state.since else None,
        "last_checked": state.last_checked.isoformat() if state.last_checked else None,
        "latency_ms": state.latency_ms,
    }


def result_item(result: CheckResult) -> dict[str, Any]:
    return {
        "checked_at": result.checked_at.isoformat(),
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "error": result.error,
    }


async def monitors_with_state(ctx: Context) -> list[tuple[Monitor, MonitorState]]:
    """Every monitor with its stored state (a fresh, pending state before any check)."""
    async with ctx.uow(read_only=True) as uow:
        monitors = await all_monitors(ctx, uow)
        states = await uow.monitors.states()
    return [(m, states.get(m.name) or MonitorState()) for m in monitors]


async def list_monitors(ctx: Context) -> list[dict[str, Any]]:
    return [monitor_item(m, state) for m, state in await monitors_with_state(ctx)]


async def monitor_detail(ctx: Context, name: str) -> dict[str, Any]:
    """One monitor with its most recent results (newest first)."""
    async with ctx.uow(read_only=True) as uow:
        monitor = await find_monitor(ctx, uow, name)
        state = await uow.monitors.state(name)
        since = ctx.clock() - timedelta(days=7)
        results = await uow.monitors.results([name], since, RECENT)
    return {**monitor_item(monitor, state), "results": [result_item(r) for r in results]}
