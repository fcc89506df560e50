"""A background loop for ``tocsin serve``'s lifespan: run some work every few seconds until
stopped, logging (not raising) a failure so that a database away for a while does not end it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

Stop = Callable[[], Awaitable[None]]
Starter = Callable[[], Awaitable[Stop]]


def every(
    interval: float, work: Callable[[], Awaitable[object]], *, name: str, failed: str
) -> Starter:
    """A starter that runs ``work`` now and then every ``interval`` seconds in a task called
    ``name``; a failure is logged as ``failed`` (a warning) and the loop goes on. The starter
    returns the function that stops the task."""
    log = structlog.get_logger("tocsin.periodic")

    async def start() -> Stop:
        async def loop() -> None:
            while True:
                try:
                    await work()
                except Exception as exc:  # noqa: BLE001 - the database may be away; keep going
                    log.warning(failed, task=name, error=str(exc))
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop(), name=name)

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return stop

    return start
