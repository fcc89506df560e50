"""The alert storm: 10,000 Alertmanager alerts in 50 groups posted to ``tocsin serve``, against a
bare ASGI handler that stores the same bodies in SQLite, and a chat command's latency meanwhile.

Starts ``tocsin serve`` as ``benchmarks/http_bench.py`` does (migrated SQLite in a scratch
directory, Slack enabled with a test secret, its Web API on a loopback fake) with one
``alertmanager`` integration, and the baseline: a Starlette app under the same uvicorn settings
whose one route inserts the raw body into a SQLite table (WAL, one commit per request,
``synchronous=FULL`` like tocsin) and answers 202. Each POST is one Alertmanager body with one
alert (alert ``i`` in group ``i % 50``), sent by ``--connections`` concurrent clients. While the
storm runs against tocsin, a signed ``/incident list`` is sent every 50 ms and timed. Printed:
accepted alerts/s for both, tocsin's/baseline ratio, the chat command's p50/p99, and how long
the worker took to process the whole inbox after the storm.

Usage: ``python benchmarks/alert_storm.py [--alerts 10000] [--groups 50] [--connections 32]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import (
    BIN,
    free_port,
    slack_request,
    start_fake_api,
    start_tocsin,
    tocsin_env,
    wait_ready,
)

BASELINE = """
import sqlite3, sys
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import uvicorn

db = sqlite3.connect(sys.argv[1], check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, body TEXT, at REAL)")

async def intake(request):
    body = await request.body()
    db.execute("INSERT INTO inbox (body, at) VALUES (?, julianday('now'))", (body.decode(),))
    return Response(b'{"accepted": true}', 202, media_type="application/json")

async def ready(request):
    return Response(b"ok")

app = Starlette(routes=[Route("/alerts/{id}/{secret}", intake, methods=["POST"]),
                        Route("/ready", ready)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), loop="uvloop", http="httptools",
            log_level="error", access_log=False)
"""


def body(i: int, groups: int) -> bytes:
    group = i % groups
    alert = {
        "status": "firing",
        "labels": {"alertname": f"Storm{group}", "instance": f"host-{i}:9100", "team": "infra"},
        "annotations": {"summary": f"Storm{group} on host-{i}"},
        "startsAt": "2026-12-04T18:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"{i:016x}",
    }
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="Storm{group}"}}',
            "status": "firing",
            "receiver": "tocsin",
            "alerts": [alert],
            "commonLabels": {"alertname": f"Storm{group}"},
        }
    ).encode()


async def storm(url: str, bodies: list[bytes], connections: int) -> tuple[float, int]:
    """Post every body with ``connections`` workers; (seconds, non-2xx answers)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            answer = await client.post(
                url, content=queue.get_nowait(), headers={"Content-Type": "application/json"}
            )
            failures += not answer.is_success

    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        return time.perf_counter() - start, failures


async def chat_probe(base: str, stop: asyncio.Event) -> list[float]:
    """A signed ``/incident list`` every 50 ms until ``stop``; the latencies in ms."""
    seen: list[float] = []
    async with httpx.AsyncClient(timeout=60) as client:
        n = 0
        while not stop.is_set():
            path, headers, data = slack_request("/incident", "list", n, str(int(time.time())))
            start = time.perf_counter()
            answer = await client.post(base + path, content=data, headers=headers)
            seen.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.text
            n += 1
            await asyncio.sleep(0.05)
    return seen


async def with_probe(url: str, base: str, bodies: list[bytes], connections: int) -> Any:
    stop = asyncio.Event()
    probe = asyncio.create_task(chat_probe(base, stop))
    result = await storm(url, bodies, connections)
    stop.set()
    return result, await probe


def inbox_pending(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute("SELECT count(*) FROM alert_inbox WHERE state = 'pending'").fetchone()[0]
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_tocsin(work: Path, bodies: list[bytes], connections: int) -> dict[str, float]:
    api_port = free_port()
    api = start_fake_api(api_port)
    proc, base, _ = start_tocsin(work, api_port, "FULL", BIN / "tocsin")
    try:
        port = int(base.rsplit(":", 1)[1])
        env = tocsin_env(work, port, api_port) | {"TOCSIN_PUBLIC_URL": base}
        made = subprocess.run(
            [str(BIN / "tocsin"), "integration", "create", "alertmanager", "storm", "--json"],
            env=env,
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        )
        url = json.loads(made.stdout)["url"]
        (seconds, failures), latencies = asyncio.run(with_probe(url, base, bodies, connections))
        drained = time.perf_counter()
        while inbox_pending(work / "tocsin.db"):
            time.sleep(0.2)
        drain = time.perf_counter() - drained
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        api.should_exit = True
    return {
        "seconds": seconds,
        "failures": failures,
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "probes": len(latencies),
        "drain": drain,
    }


def run_baseline(work: Path, bodies: list[bytes], connections: int) -> dict[str, float]:
    port = free_port()
    script = work / "baseline.py"
    script.write_text(BASELINE)
    proc = subprocess.Popen([sys.executable, str(script), str(work / "bare.db"), str(port)])
    try:
        wait_ready(f"http://127.0.0.1:{port}/ready", proc)
        url = f"http://127.0.0.1:{port}/alerts/x/y"
        seconds, failures = asyncio.run(storm(url, bodies, connections))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"seconds": seconds, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    bodies = [body(i, args.groups) for i in range(args.alerts)]
    with tempfile.TemporaryDirectory(prefix="tocsin-storm-") as tmp:
        (Path(tmp) / "tocsin").mkdir()
        (Path(tmp) / "bare").mkdir()
        ours = run_tocsin(Path(tmp) / "tocsin", bodies, args.connections)
        bare = run_baseline(Path(tmp) / "bare", bodies, args.connections)
    rate, bare_rate = args.alerts / ours["seconds"], args.alerts / bare["seconds"]
    print(f"alerts: {args.alerts} in {args.groups} groups, {args.connections} connections")
    print(f"tocsin serve:  {rate:8.0f} alerts/s accepted ({ours['failures']:.0f} non-2xx)")
    print(f"bare ASGI+SQLite: {bare_rate:5.0f} alerts/s ({bare['failures']:.0f} non-2xx)")
    print(f"ratio tocsin/bare: {rate / bare_rate:.2f}")
    print(
        f"/incident list during the storm: p50 {ours['p50']:.1f} ms, p99 {ours['p99']:.1f} ms "
        f"({ours['probes']:.0f} probes)"
    )
    print(f"inbox drained {ours['drain']:.1f} s after the storm ended")


if __name__ == "__main__":
    main()
