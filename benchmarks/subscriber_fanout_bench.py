"""What status-page subscribers cost a public update, for docs/status-page.md (not a test).

    .venv/bin/python benchmarks/subscriber_fanout_bench.py [--subscribers 0 1000 5000]

For each count: a fresh SQLite database with that many confirmed email subscribers, one P1
incident, then five ``update`` commands timed end to end (each queues one outbox row per
subscriber in its own transaction); prints the minimum and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from tocsin.clock import utcnow
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import migrate
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "alice")


async def seed(ctx: Context, count: int) -> None:
    async with ctx.uow() as uow:
        for n in range(count):
            await uow.subscribers.add(
                "email", f"u{n}@example.test", [], state="confirmed",
                unsubscribe_token=secrets.token_urlsafe(32), now=utcnow(),
            )  # fmt: skip
        await uow.commit()


async def measure(count: int) -> tuple[float, float]:
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
        await db.dispose()
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[0, 1000, 5000])
    args = parser.parse_args()
    for count in args.subscribers:
        low, mid = asyncio.run(measure(count))
        print(f"{count:>6} subscribers: update min {low * 1000:.1f} ms, median {mid * 1000:.1f} ms")


if __name__ == "__main__":
    main()
