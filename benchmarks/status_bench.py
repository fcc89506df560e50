"""Status page throughput for docs/performance.md (not part of the test suite).

    .venv/bin/python benchmarks/status_bench.py [--seconds 10] [--connections 50]

Seeds a SQLite database with 6 components and 40 public incidents over 90 days (2 open), starts
``tocsin serve`` on it (uvloop + httptools, one process, the default info-level access log sent
to /dev/null), and a bare Starlette app under the same uvicorn settings whose only route returns
the very bytes tocsin served (same body, same headers). Then, in one run, it loads
``/status/api/v2/summary.json`` and ``/status`` on both with ``wrk`` (Debian's package) and
prints requests per second and the ratio tocsin / bare. Without ``wrk`` it falls back to a small
asyncio + httpx load generator and says so (that client is then likely the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import Component, default_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.visibility import set_components
from tocsin.storage import migrate
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "alice")
COMPONENTS = ("API", "Web app", "Payments", "Search", "Notifications", "Database")
PATHS = ("/status/api/v2/summary.json", "/status")
POLICY_FILE = "\n".join(f'[[component]]\nname = "{name}"\n' for name in COMPONENTS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(url: str) -> None:
    """40 public incidents spread over 90 days, each with updates; the last two stay open."""
    db = Database(url)
    await migrate.upgrade(db)
    start = datetime.now(UTC) - timedelta(days=88)
    clock = {"now": start}
    policy = replace(default_policy(), components=tuple(Component(n) for n in COMPONENTS))
    ctx = Context(db=db, policy=policy, clock=lambda: clock["now"])
    for n in range(1, 41):
        clock["now"] = start + timedelta(days=n * 2.15)
        title = f"Elevated errors on {COMPONENTS[n % 6]} <#{n}>"
        severity = (Severity.P1, Severity.P2)[n % 2]
        await execute(ctx, ALICE, Command("declare", text=title, severity=severity))
        await set_components(ctx, ALICE, n, [COMPONENTS[n % 6], COMPONENTS[(n + 1) % 6]])
        for step in range(3):
            clock["now"] += timedelta(minutes=20)
            text = f"Update {step + 1}: we are working on it & watching error rates."
            await execute(ctx, ALICE, Command("update", incident=n, text=text))
        if n <= 38:
            clock["now"] += timedelta(hours=1)
            await execute(ctx, ALICE, Command("resolve", incident=n, text="fixed"))
    await db.dispose()


BARE_APP = textwrap.dedent(
    """
    import sys
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def route(path, body_file, headers_file):
        body = open(body_file, "rb").read()
        headers = dict(line.split(": ", 1) for line in open(headers_file).read().splitlines())
        media = headers.pop("content-type")
        headers.pop("content-length", None)

        async def endpoint(request):
            return Response(body, headers=headers, media_type=media)

        return Route(path, endpoint)

    args = sys.argv[2:]
    routes = [route(*args[i:i + 3]) for i in range(0, len(args), 3)]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=int(sys.argv[1]),
                loop="uvloop", http="httptools", log_level="warning", access_log=False,
                server_header=False)
    """
)


def start_tocsin(workdir: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    (workdir / "policy.toml").write_text(POLICY_FILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_DATABASE_URL=url, TOCSIN_PORT=str(port), TOCSIN_DATA_DIR=str(workdir / "data"),
        TOCSIN_POLICY_FILE=str(workdir / "policy.toml"), TOCSIN_PUBLIC_URL="https://status.example",
        TOCSIN_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "info"),
    )  # fmt: skip
    tocsin = str(Path(sys.executable).with_name("tocsin"))
    return subprocess.Popen(
        [tocsin, "serve"], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def start_bare(workdir: Path, port: int, base: str) -> subprocess.Popen[bytes]:
    """The bare app, serving what tocsin answered for each path (fetched once, here)."""
    args = []
    for index, path in enumerate(PATHS):
        answer = httpx.get(base + path)
        (workdir / f"body{index}").write_bytes(answer.content)
        kept = {k: v for k, v in answer.headers.items() if k not in ("date", "x-request-id")}
        (workdir / f"headers{index}").write_text("\n".join(f"{k}: {v}" for k, v in kept.items()))
        args += [path, str(workdir / f"body{index}"), str(workdir / f"headers{index}")]
    script = workdir / "bare.py"
    script.write_text(BARE_APP)
    return subprocess.Popen([sys.executable, str(script), str(port), *args])


def wait_ready(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {within}s")


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors[1]} error answers\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match[1])


async def _python_load(url: str, seconds: int, connections: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:

        async def one() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                (await client.get(url)).raise_for_status()
                done += 1

        await asyncio.gather(*(one() for _ in range(connections)))
    return done / seconds


def load(url: str, seconds: int, connections: int) -> float:
    if shutil.which("wrk"):
        return wrk(url, seconds, connections)
    return asyncio.run(_python_load(url, seconds, min(connections, 20)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, pid: int, seconds: int, connections: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU use meanwhile (1.0 = one core busy: the
    server, not the load generator, is the limit)."""
    before, began = cpu_seconds(pid), time.monotonic()
    rate = load(url, seconds, connections)
    return rate, (cpu_seconds(pid) - before) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    client = "wrk" if shutil.which("wrk") else "asyncio+httpx (wrk not installed)"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'bench.db'}"
        asyncio.run(seed(url))
        tocsin_port, bare_port = free_port(), free_port()
        tocsin = start_tocsin(workdir, url, tocsin_port)
        base = f"http://127.0.0.1:{tocsin_port}"
        bare = None
        try:
            wait_ready(base + "/ready")
            bare = start_bare(workdir, bare_port, base)
            wait_ready(f"http://127.0.0.1:{bare_port}{PATHS[0]}")
            print(
                f"load generator: {client}, {args.connections} connections, {args.seconds} s each"
            )
            print("| path | bytes | tocsin req/s (CPU) | bare Starlette req/s (CPU) | ratio |")
            print("|---|---|---|---|---|")
            other = f"http://127.0.0.1:{bare_port}"
            for path in PATHS:
                size = len(httpx.get(base + path).content)
                load(base + path, 2, args.connections)  # warm both up
                load(other + path, 2, args.connections)
                ours, ours_cpu = measured(base + path, tocsin.pid, args.seconds, args.connections)
                theirs, theirs_cpu = measured(
                    other + path, bare.pid, args.seconds, args.connections
                )
                print(
                    f"| `{path}` | {size:,} | {ours:,.0f} ({ours_cpu:.0%}) | "
                    f"{theirs:,.0f} ({theirs_cpu:.0%}) | {ours / theirs:.2f} |"
                )
            metrics = httpx.get(base + "/metrics").text
            for line in metrics.splitlines():
                if line.startswith("status_cache_total"):
                    print(line)
        finally:
            for proc in (tocsin, bare):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=20)


if __name__ == "__main__":
    main()
