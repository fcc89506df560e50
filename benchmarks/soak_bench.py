"""Soak: 20,000 mixed requests against one ``tocsin serve``; is it flat from first to last?

Loopback only and bounded: a fixed number of requests (``--requests``) and a time limit
(``--max-seconds``), then it stops by itself. The server is started the way
``benchmarks/http_bench.py`` starts it (migrated SQLite in a scratch directory, Slack and
Discord enabled with test secrets, their APIs pointed at a loopback fake) and the requests are
signed with its helpers. The mix, in a fixed rotation of 20: Slack ``/incident`` help (3), list
(3), note (3), declare (1) and resolve of an incident the mix declared (1); a Discord
``/incident list`` (2); API reads with a bearer token, the incident list and one incident (4);
the public status page, HTML and ``summary.json`` (3). Declared incidents are resolved again, so
the open set stays small and a slower ``list`` would mean a leak, not more data.

Reported per window of ``--window`` requests (2,000): median and p99 latency as the client saw
them, and the server's RSS at the window's end; then the first and last windows side by side.
The baseline, in the same run: the same request mix against a bare Starlette handler that answers
every path with a small JSON (client, loopback and uvicorn overhead, nothing of tocsin's).

Usage: ``python benchmarks/soak_bench.py [--requests 20000] [--connections 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import (  # the benchmark's shared helpers, next to this file
    BIN,
    Request_,
    _fake_api,
    discord_request,
    free_port,
    rss_mb,
    shut_down,
    slack_request,
    start_fake_api,
    start_tocsin,
    tocsin_env,
    wait_ready,
)

HERE = Path(__file__).resolve().parent
# The bare baseline: uvicorn imports it as ``soak_bench:bare_app``.
bare_app = Starlette(routes=[Route("/{path:path}", _fake_api, methods=["GET", "POST"])])
MIX = (
    "help", "list", "note", "api list", "status", "discord", "help", "api show", "list", "note",
    "declare", "status json", "api list", "help", "discord", "note", "list", "status",
    "api show", "resolve",
)  # fmt: skip
INCIDENT = re.compile(r"INC-(\d+)")


@dataclass
class Mix:
    """Builds the n-th request of the rotation; remembers what the mix declared."""

    token: str
    declared: list[tuple[int, int]] = field(default_factory=list)  # (incident, declarer n)
    latest: int = 1
    seen: set[str] = field(default_factory=set)

    def request(self, n: int) -> tuple[str, str, dict[str, str], bytes]:
        kind = MIX[n % len(MIX)]
        now = str(int(time.time()))
        auth = {"Authorization": f"Bearer {self.token}"}
        if kind == "api list":
            return kind, "/api/v1/incidents?limit=20", auth, b""
        if kind == "api show":
            return kind, f"/api/v1/incidents/{self.latest}", auth, b""
        if kind == "status":
            return kind, "/status", {}, b""
        if kind == "status json":
            return kind, "/status/api/v2/summary.json", {}, b""
        request: Request_
        if kind == "discord":
            request = discord_request(n, now)
        elif kind == "resolve" and self.declared:
            incident, by = self.declared.pop(0)
            request = slack_request("/incident", f"resolve INC-{incident} soak done", by, now)
        else:
            text = {"note": f"note INC-{self.latest} soak note {n}", "declare": "declare Soak P4"}
            request = slack_request("/incident", text.get(kind, kind), n, now)
        path, headers, body = request
        return kind, path, headers, body

    def answered(self, kind: str, n: int, text: str) -> None:
        if kind not in self.seen:  # one answer of each kind, to show real answers are measured
            self.seen.add(kind)
            print(f"  {kind}: {' '.join(text.split())[:90]!r}", flush=True)
        if kind == "declare" and (found := INCIDENT.search(text)):
            self.declared.append((int(found.group(1)), n))
            self.latest = int(found.group(1))


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rss: float = 0.0

    def line(self, label: str) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0
        median = statistics.median(ms) if ms else 0.0
        return f"{label:<22}{median:>9.2f}{p99:>9.2f}{len(ms):>8}{self.errors:>8}{self.rss:>9.1f}"


async def soak(
    base: str, mix: Mix, pid: int, args: argparse.Namespace, keep: Callable[[int], bool]
) -> list[Window]:
    """Send ``args.requests`` requests over ``args.connections`` connections, in windows."""
    windows = [Window() for _ in range(-(-args.requests // args.window))]
    counter = itertools.count()
    deadline = time.monotonic() + args.max_seconds
    limits = httpx.Limits(max_connections=args.connections)

    async def one(client: httpx.AsyncClient) -> None:
        while (n := next(counter)) < args.requests and time.monotonic() < deadline:
            kind, path, headers, body = mix.request(n)
            started = time.perf_counter()
            method = "POST" if body else "GET"
            answer = await client.request(method, path, headers=headers, content=body)
            window = windows[n // args.window]
            window.latencies.append(time.perf_counter() - started)
            if not keep(answer.status_code):
                window.errors += 1
            mix.answered(kind, n, answer.text)
            if len(window.latencies) == args.window or n == args.requests - 1:
                window.rss = rss_mb(pid)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(one(client) for _ in range(args.connections)))
    return windows


def api_token(workdir: Path, api_port: int, program: Path) -> str:
    env = tocsin_env(workdir, free_port(), api_port)
    command = [str(program), "token", "create", "--name", "soak", "--scope", "read"]
    made = subprocess.run(command, env=env, cwd=workdir, check=True, capture_output=True)
    return made.stdout.decode().strip().splitlines()[-1]


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "soak_bench:bare_app",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--log-level", "error", "--lifespan", "off",
    ]  # fmt: skip
    proc = subprocess.Popen(command)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/ready", proc)
    return proc, base


def report(name: str, windows: list[Window], seconds: float, size: int) -> None:
    done = sum(len(w.latencies) for w in windows)
    print(f"\n{name}: {done} requests in {seconds:.1f} s ({done / seconds:.0f} req/s)")
    print(f"{'window':<22}{'p50 ms':>9}{'p99 ms':>9}{'count':>8}{'errors':>8}{'RSS MB':>9}")
    for i, window in enumerate(windows):
        print(window.line(f"  requests {i * size + 1:>6}-"))
    print(windows[0].line("first window"))
    print(windows[-1].line("last window"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--window", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--tocsin", type=Path, default=BIN / "tocsin")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tocsin-soak-"))
    api_port = free_port()
    fake = start_fake_api(api_port)
    program = args.tocsin.absolute()
    tocsin, base, _startup = start_tocsin(workdir, api_port, "FULL", program)
    bare, bare_base = start_bare()
    try:
        mix = Mix(token=api_token(workdir, api_port, program))
        first = mix.request(10)  # a declare, so that every later request has an incident
        answer = httpx.post(base + first[1], headers=first[2], content=first[3], timeout=10)
        mix.answered("declare", 10, answer.text)
        print(f"tocsin serve: idle RSS {rss_mb(tocsin.pid):.1f} MB, declared INC-{mix.latest}")
        began = time.monotonic()
        windows = asyncio.run(soak(base, mix, tocsin.pid, args, lambda code: code == 200))
        report("tocsin serve", windows, time.monotonic() - began, args.window)
        began = time.monotonic()
        quiet = Mix(token="x", seen=set(MIX))  # the fake answers the same JSON to everything
        baseline = asyncio.run(soak(bare_base, quiet, bare.pid, args, lambda _: True))
        report("bare Starlette (same mix)", baseline, time.monotonic() - began, args.window)
    finally:
        shut_down([tocsin, bare], fake, workdir)


if __name__ == "__main__":
    main()
