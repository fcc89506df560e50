"""Recording a check, pausing and resuming: each one short unit of work.

A status change becomes the monitor's alert batch, routed like any alert through
:meth:`~tocsin.services.alerts.process.AlertProcessor.route_batch` under the integration id
:data:`MONITOR_INTEGRATION` (monitors have no integration row), and sets the monitor's
status-page component by the rules of :mod:`tocsin.domain.monitors.component`: going down it
sets ``component_status`` (unless the component already shows worse); coming back up, or paused
or deleted while down, it compares and sets: the component goes back to the worst status of its
monitors still down (operational when none is) only if it still shows what the monitors set,
under a lock on the component's row so that two monitors of one component settle in turn.
Otherwise the status was set by hand since, and is left (and logged).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from tocsin.domain.monitors import (
    EventKind,
    Monitor,
    MonitorEvent,
    MonitorState,
    MonitorStatus,
    Outcome,
    event_batch,
    observe,
    pause,
    resume,
)
from tocsin.domain.monitors.component import when_down, when_recovered
from tocsin.domain.statuspage import OPERATIONAL
from tocsin.observability.metrics import Metrics
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import all_monitors, find_monitor
from tocsin.services.monitors.timer import arm_check, disarm_check
from tocsin.services.ports import UnitOfWork
from tocsin.services.public_status_page import ComponentChange, store_component
from tocsin.storage.monitors import CheckResult

log = structlog.get_logger("tocsin.monitors")

MONITOR_INTEGRATION = 0  # the alert groups of monitors (integration ids start at 1)


async def record(
    ctx: Context,
    processor: AlertProcessor,
    monitor: Monitor,
    outcome: Outcome,
    metrics: Metrics | None = None,
) -> MonitorState:
    """Store ``outcome``, advance the monitor's state and act on a change; the new state. The
    result of a stored monitor deleted while it was being checked is dropped."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        if monitor.source != "policy" and await uow.monitors.definition(monitor.name) is None:
            return MonitorState()
        state = await uow.monitors.state(monitor.name, for_update=True) or MonitorState()
        new, event = observe(monitor, state, outcome)
        if new.status is not MonitorStatus.PAUSED:
            await uow.monitors.add_result(
                CheckResult(
                    monitor.name,
                    outcome.checked_at,
                    outcome.ok,
                    outcome.latency_ms,
                    outcome.reason,
                )
            )
        await uow.monitors.save_state(monitor.name, new)
        if event is not None:
            await changed(ctx, uow, processor, monitor, event, now)
        await uow.commit()
    ctx.committed()
    if metrics is not None:
        _count(metrics, monitor, outcome, new)
    return new


def _count(metrics: Metrics, monitor: Monitor, outcome: Outcome, state: MonitorState) -> None:
    metrics.monitor_checks_total.labels(monitor.name, "ok" if outcome.ok else "failed").inc()
    if outcome.latency_ms is not None:
        metrics.monitor_check_seconds.labels(monitor.name).observe(outcome.latency_ms / 1000)
    if state.status in (MonitorStatus.UP, MonitorStatus.DOWN):
        metrics.monitor_up.labels(monitor.name).set(int(state.status is MonitorStatus.UP))


async def changed(
    ctx: Context,
    uow: UnitOfWork,
    processor: AlertProcessor,
    monitor: Monitor,
    event: MonitorEvent,
    now: datetime,
) -> None:
    batch = event_batch(monitor, event)
    if batch is not None:
        await processor.route_batch(uow, MONITOR_INTEGRATION, batch, event.at, now)
    if monitor.component is None:
        return
    if event.kind is not EventKind.WENT_DOWN and event.previous is not MonitorStatus.DOWN:
        return
    name = monitor.component
    in_policy = any(c.name == name for c in ctx.policy.components)
    row = await uow.status.lock_component(name, now, create=in_policy)  # monitors take turns
    current = row.status if row is not None else OPERATIONAL
    if event.kind is EventKind.WENT_DOWN:
        verdict = when_down(current, monitor.component_status)
    else:
        others = await _others_down(ctx, uow, monitor)
        verdict = when_recovered(current, monitor.component_status, others)
    if verdict.kept_by_hand is not None:
        log.info(
            "component status set by hand kept",
            monitor=monitor.name,
            change=event.kind.value,
            component=name,
            status=current,
            monitors_set=verdict.kept_by_hand,
        )
    if verdict.status is not None:
        await store_component(ctx, uow, name, ComponentChange(status=verdict.status), now)


async def _others_down(ctx: Context, uow: UnitOfWork, monitor: Monitor) -> list[str]:
    """The ``component_status`` of the other monitors of ``monitor``'s component now down."""
    peers = [
        m
        for m in await all_monitors(ctx, uow)
        if m.component == monitor.component and m.name != monitor.name
    ]
    if not peers:
        return []
    states = await uow.monitors.states()
    return [
        m.component_status
        for m in peers
        if (state := states.get(m.name)) is not None and state.status is MonitorStatus.DOWN
    ]


async def set_paused(ctx: Context, name: str, paused: bool) -> MonitorState:
    """Pause (a monitor that was down resolves its alert and its component) or resume. A
    paused monitor's check timer is cancelled, so it costs no claim; resuming re-arms it."""
    async with ctx.uow() as uow:
        monitor = await find_monitor(ctx, uow, name)
        now = ctx.clock()
        state = await uow.monitors.state(name, for_update=True) or MonitorState()
        event = None
        if paused:
            new, event = pause(monitor, state, now)
            await disarm_check(uow, name)
        else:
            new = resume(state, now)
            if state.status is MonitorStatus.PAUSED:
                await arm_check(uow, monitor, now, replace=True)
        await uow.monitors.save_state(name, new)
        if event is not None:
            await changed(ctx, uow, AlertProcessor(ctx), monitor, event, now)
        await uow.commit()
    ctx.committed()
    return new
