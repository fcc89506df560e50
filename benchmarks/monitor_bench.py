"""The checker's CPU cost: ``--monitors`` HTTP monitors checked by :class:`MonitorChecker` (timer
claims, the request, the verdict, one unit of work per result on SQLite), against a bare asyncio
loop making the same requests with the same httpx client and nothing else.

The target is a tiny HTTP server in a child process (so its CPU is not counted). Each side runs
``--rounds`` rounds of one request per monitor; the figure is CPU seconds (user + system of this
process) per round, and what that is as a share of one core when every monitor is checked every
``--interval`` seconds (CPU per round / interval). Both sides make the requests in batches of
:data:`CLAIM_BATCH`, as the checker claims them.

Usage: ``python benchmarks/monitor_bench.py [--monitors 500] [--rounds 5] [--interval 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.monitors.checker import CLAIM_BATCH, MonitorChecker
from tocsin.storage import migrate
from tocsin.storage.db import Database


def _serve(port: int) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nall ok")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        from tocsin.clock import utcnow

        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


async def bare(url: str, monitors: int, rounds: int) -> float:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(limits=limits) as client:
        started = time.process_time()
        for _ in range(rounds):
            for first in range(0, monitors, CLAIM_BATCH):  # the checker's batches too
                count = min(CLAIM_BATCH, monitors - first)
                answers = await asyncio.gather(*(client.get(url) for _ in range(count)))
                assert all(a.status_code == 200 and "ok" in a.text for a in answers)
        return (time.process_time() - started) / rounds


async def checker(url: str, monitors: int, rounds: int, interval: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'bench.db'}")
        await migrate.upgrade(db)
        table = [{"name": f"m{n}", "kind": "http", "url": url, "interval_seconds": interval,
                  "timeout_seconds": 10, "keyword": "ok"} for n in range(monitors)]  # fmt: skip
        clock = Clock()
        ctx = Context(db, parse_policy({"monitor": table}), clock=clock)
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(limits=limits) as client:
            run = MonitorChecker(ctx, "bench", client=client)
            await run.arm()
            started = time.process_time()
            checked = 0
            for _ in range(rounds):
                clock.now += timedelta(seconds=interval)
                while claimed := await run.run_once():  # CLAIM_BATCH monitors per claim
                    checked += claimed
            spent = (time.process_time() - started) / rounds
        await db.dispose()
        assert checked == monitors * rounds, checked
        return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interval", type=int, default=30)
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        time.sleep(0.5)  # let the child bind; a benchmark, not a test
        url = f"http://127.0.0.1:{port}/health"
        base = asyncio.run(bare(url, args.monitors, args.rounds))
        ours = asyncio.run(checker(url, args.monitors, args.rounds, args.interval))
    finally:
        server.terminate()
    for name, spent in (("bare asyncio + httpx", base), ("tocsin checker", ours)):
        share = 100 * spent / args.interval
        print(f"{name:22} {spent:6.3f} CPU s per round of {args.monitors}"
              f"  = {share:5.2f} % of one core at one round per {args.interval} s")  # fmt: skip
    print(f"ratio tocsin/bare: {ours / base:.2f}")


if __name__ == "__main__":
    main()
