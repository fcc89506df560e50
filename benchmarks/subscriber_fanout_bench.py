"""What status-page subscribers cost a public update, for docs/status-page.md (not a test).

    .venv/bin/python benchmarks/subscriber_fanout_bench.py [--subscribers 0 1000 5000]

For each count: a fresh SQLite database with that many confirmed email subscribers, one P1
incident, then five ``update`` commands timed end to end (each commits one ``subscriber_fanout``
timer); prints the minimum and the median. Then the fan-out of those six notices (the
declaration's and the updates') is run by the timer runner, as ``tocsin serve`` would, timed
as a whole: the outbox rows it wrote per second, and the time of one batch's transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from tocsin.clock import utcnow
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.subscriber_notices import register_fanout
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxStore
from tocsin.storage.uow import UnitOfWork

ALICE = Actor("slack", "U0ALICE", "alice")


async def seed(ctx: Context, count: int) -> None:
    async with ctx.uow() as uow:
        for n in range(count):
            await uow.subscribers.add(
                "email", f"u{n}@example.test", [], state="confirmed",
                unsubscribe_token=secrets.token_urlsafe(32), now=utcnow(),
            )  # fmt: skip
        await uow.commit()


@dataclass(frozen=True)
class Figures:
    low: float  # the update command, fastest
    mid: float  # and median
    rows: int  # outbox rows the fan-out wrote
    batches: int  # fan-out transactions
    expansion: float  # seconds, all of them


async def measure(count: int) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        await migrate.upgrade(db)
        ctx = Context(db=db, policy=default_policy(), public_url="https://status.example.test")
        await seed(ctx, count)
        await execute(ctx, ALICE, Command("declare", text="Checkout down", severity=Severity.P1))
        times = []
        for k in range(5):
            started = time.perf_counter()
            await execute(ctx, ALICE, Command("update", incident=1, text=f"update {k}"))
            times.append(time.perf_counter() - started)
        runner = TimerRunner(db, register_fanout(TimerHandlers()), Wakeup(), worker_id="bench")
        started = time.perf_counter()
        batches = await runner.fire_due()
        expansion = time.perf_counter() - started
        async with UnitOfWork(db, read_only=True) as uow:
            rows = len(await OutboxStore(uow.connection).rows(limit=10**7))
        await db.dispose()
    return Figures(min(times), statistics.median(times), rows, batches, expansion)


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[0, 1000, 5000])
    args = parser.parse_args()
    for count in args.subscribers:
        f = asyncio.run(measure(count))
        line = f"{count:>6} subscribers: update min {f.low * 1000:.1f} ms"
        line += f", median {f.mid * 1000:.1f} ms"
        if f.batches:
            line += (
                f"; fan-out {f.rows} rows in {f.batches} transactions, {f.expansion:.2f} s "
                f"({f.rows / f.expansion:,.0f} rows/s, {f.expansion / f.batches * 1000:.0f} ms "
                "a batch)"
            )
        print(line)


if __name__ == "__main__":
    main()
