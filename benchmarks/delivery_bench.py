"""Delivery figures for docs/performance.md (not part of the test suite).

    .venv/bin/python benchmarks/delivery_bench.py [--outage 60] [--database-url URL]

1. Throughput: 2,000 queued webhook deliveries (100 incidents x 20, so 100 ordering queues) are
   drained through a loopback fake receiver by one process with the default 8 deliveries in
   flight; and 300 deliveries of one incident (one queue: strictly one after the other).
2. Outage: 1,000 deliveries are queued and due while the receiver answers 503 for ``--outage``
   seconds; the workers run with the production settings (backoff with full jitter, base 1 s,
   cap 300 s; breaker opens after 5 failures for 30 s). Reported: the time from the end of the
   outage until the last of them is delivered, and the requests the outage cost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.delivery_kit import all_delivered, burst, enqueue, sink_on, webhook  # noqa: E402
from fakes.http_fake import FakeServer, IdempotencySink, Reply  # noqa: E402
from tocsin.delivery.service import DeliveryConfig, DeliveryService  # noqa: E402
from tocsin.observability.logging import configure_logging  # noqa: E402
from tocsin.storage import migrate  # noqa: E402
from tocsin.storage.db import Database  # noqa: E402


async def fresh_db(url: str | None, tmp: Path, name: str) -> Database:
    db = Database(url or f"sqlite:///{tmp / name}.db")
    await migrate.upgrade(db)
    if url:  # start from an empty outbox on a shared server
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("DELETE FROM outbox")
    return db


async def drained(sink: IdempotencySink, count: int) -> None:
    """Wait until the receiver has ``count`` distinct deliveries (without reading the database,
    which would compete with the workers for the event loop)."""
    while len(sink.applied) < count:  # noqa: ASYNC110 - the sink lives on another thread
        await asyncio.sleep(0.01)


async def throughput(url: str | None, tmp: Path, incidents: int, each: int) -> float:
    with FakeServer() as fake:
        sink = sink_on(fake)
        db = await fresh_db(url, tmp, f"tp{incidents}")
        effects = burst(incidents, each)
        await enqueue(db, effects)
        svc = DeliveryService(db, {"webhook": webhook(fake)}, config=DeliveryConfig(poll=0.05))
        began = time.perf_counter()
        await svc.start()
        await drained(sink, len(effects))
        elapsed = time.perf_counter() - began
        await all_delivered(db, len(effects), within=60)
        await svc.stop()
        await db.dispose()
    return len(effects) / elapsed


async def outage(url: str | None, tmp: Path, seconds: float) -> tuple[float, float, int]:
    with FakeServer() as fake:
        sink = sink_on(fake)
        db = await fresh_db(url, tmp, "outage")
        effects = burst(100, 10)
        await enqueue(db, effects)
        fake.outage(Reply(503, json={"error": "down"}), seconds=seconds)
        svc = DeliveryService(db, {"webhook": webhook(fake)}, config=DeliveryConfig())
        began = time.perf_counter()
        await svc.start()
        await asyncio.sleep(seconds)
        back = time.perf_counter()
        failed = len(fake.requests)
        await drained(sink, len(effects))
        done = time.perf_counter()
        await all_delivered(db, len(effects), within=60)
        await svc.stop()
        await db.dispose()
        assert sorted(sink.applied) == sorted(e.key for e in effects)
        assert sink.repeats == 0
    return done - back, done - began, failed


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning", "console")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        where = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
        print(f"database: {where}")
        rate = await throughput(args.database_url, tmp, 100, 20)
        print(f"throughput, 100 queues x 20: {rate:,.0f} deliveries/s")
        single = await throughput(args.database_url, tmp, 1, 300)
        print(f"throughput, 1 queue x 300 (strict order): {single:,.0f} deliveries/s")
        after, total, failed = await outage(args.database_url, tmp, args.outage)
        print(
            f"outage of {args.outage:g}s with 1,000 due: drained {after:.1f}s after the "
            f"destination came back ({total:.1f}s in all); {failed} requests hit the outage"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds of 503 answers")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    asyncio.run(main(parser.parse_args()))
