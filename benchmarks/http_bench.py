"""``make bench``: tocsin over HTTP against a slack_bolt baseline, driven by wrk on loopback.

Starts ``tocsin serve`` (a migrated SQLite database in a scratch directory, Slack and Discord
enabled with test secrets, their Web APIs pointed at a loopback fake that answers ``ok``) and the
slack_bolt baseline (``benchmarks/bolt_baseline.py``), each on its own loopback port. Every
request is signed: wrk's Lua cannot compute an HMAC or an Ed25519 signature, so this script signs
a pool of distinct requests with a timestamp taken right before each run (inside Slack's
5-minute window) and writes them into the Lua script that wrk rotates through.

Scenarios, each run against bolt's ``/ping`` figure of the same run: ``/incident list``,
``/incident help``, ``/incident note INC-1 ...`` (a durable SQLite write) and a Discord
``/incident list`` interaction (Ed25519). Printed: requests/s, p50/p99, RSS and the ratios; also
tocsin's start-up time to ``/ready`` and its idle RSS.

Usage: ``python benchmarks/http_bench.py [--duration 10] [--connections 16] [--only note]``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvicorn
from nacl.signing import SigningKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECRET = "bench-signing-secret-0123456789abcdef"
SEED = hashlib.sha256(b"tocsin-bench").hexdigest()
APPLICATION_ID = "100000000000000001"
POOL = 500
# note last: its thousands of queued deliveries drain in the background for minutes afterwards
# and would load whatever scenario came next.
SCENARIOS = ("list", "help", "discord", "note")


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float
    server_cpu: float = 0.0  # cores busy in the server process during the run (1.0 = one)
    wrk_cpu: float = 0.0  # the same for wrk: near 1.0 would make wrk the limit


# --- the loopback fake behind the outbox ------------------------------------------------------
async def _fake_api(request: Request) -> JSONResponse:
    del request
    return JSONResponse(
        {
            "ok": True,
            "channel": {"id": "CBENCH1", "name": "inc-1-bench", "is_member": True},
            "ts": "1700000000.000100",
            "id": "1100000000000000001",
            "messages": [],
        }
    )


def start_fake_api(port: int) -> uvicorn.Server:
    app = Starlette(routes=[Route("/{path:path}", _fake_api, methods=["GET", "POST", "PATCH"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    return server


# --- processes --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    """Seconds until ``url`` answers 200 (polled every 10 ms)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{url} not ready within {timeout}s")


def tocsin_env(workdir: Path, port: int, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    public_key = SigningKey(bytes.fromhex(SEED)).verify_key.encode().hex()
    api = f"http://127.0.0.1:{api_port}"
    env.update(
        TOCSIN_DATABASE_URL=f"sqlite:///{workdir / 'tocsin.db'}",
        TOCSIN_PORT=str(port),
        TOCSIN_DATA_DIR=str(workdir / "data"),
        TOCSIN_LOG_LEVEL="warning",
        TOCSIN_SLACK_SIGNING_SECRET=SECRET,
        TOCSIN_SLACK_BOT_TOKEN="xoxb-bench-token",
        TOCSIN_SLACK_API_URL=f"{api}/api/",
        TOCSIN_DISCORD_PUBLIC_KEY=public_key,
        TOCSIN_DISCORD_BOT_TOKEN="bench-discord-token",
        TOCSIN_DISCORD_APPLICATION_ID=APPLICATION_ID,
        TOCSIN_DISCORD_API_URL=f"{api}/discord",
    )
    return env


def start_tocsin(
    workdir: Path, api_port: int, synchronous: str, program: Path
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    env = tocsin_env(workdir, port, api_port)
    subprocess.run([str(program), "db", "upgrade"], env=env, cwd=workdir, check=True)
    log = (workdir / "tocsin.log").open("wb")
    command = [str(program), "serve"]
    if synchronous != "FULL":  # measuring only: the product always opens SQLite with FULL
        patch = (
            "from tocsin.storage.db import Database; "
            f"Database.__init__.__kwdefaults__['synchronous'] = {synchronous!r}; "
            "from tocsin.adapters.cli.main import main; main()"
        )
        command = [str(program.parent / "python"), "-c", patch, "serve"]
    proc = subprocess.Popen(command, env=env, cwd=workdir, stdout=log)
    base = f"http://127.0.0.1:{port}"
    return proc, base, wait_ready(f"{base}/ready", proc)


def start_bolt(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BOLT_SIGNING_SECRET": SECRET}
    script = str(HERE / "bolt_baseline.py")
    proc = subprocess.Popen([sys.executable, script, "--port", str(port), *flags], env=env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/ready", proc)
    return proc, base


# --- signed requests --------------------------------------------------------------------------
Request_ = tuple[str, dict[str, str], bytes]


def slack_request(command: str, text: str, n: int, timestamp: str) -> Request_:
    body = urlencode(
        {
            "token": "x",
            "team_id": "T1",
            "channel_id": "CGENERAL",
            "user_id": f"U{n % 50:04d}",
            "user_name": f"user{n % 50}",
            "command": command,
            "text": text,
            "response_url": "https://hooks.slack.com/commands/x",
            "trigger_id": f"{n}.1.bench",
        }
    ).encode()
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return "/slack/commands", headers, body


def discord_request(n: int, timestamp: str) -> Request_:
    payload = {
        "id": str(900000000000000000 + n),
        "application_id": APPLICATION_ID,
        "type": 2,
        "data": {
            "id": "800000000000000001",
            "name": "incident",
            "type": 1,
            "options": [{"type": 1, "name": "list", "options": []}],
        },
        "guild_id": "700000000000000001",
        "channel_id": "600000000000000001",
        "member": {"user": {"id": f"5000000000000{n % 50:05d}", "username": f"user{n % 50}"}},
        "token": f"interaction-token-{n}",
        "version": 1,
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = SigningKey(bytes.fromhex(SEED)).sign(timestamp.encode() + body).signature
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature.hex(),
        "X-Signature-Timestamp": timestamp,
    }
    return "/discord/interactions", headers, body


def pool(scenario: str) -> list[Request_]:
    """``POOL`` distinct signed requests for ``scenario``, stamped now."""
    now = str(int(time.time()))
    if scenario == "discord":
        return [discord_request(n, now) for n in range(POOL)]
    if scenario == "ping":
        return [slack_request("/ping", "", n, now) for n in range(POOL)]
    texts = {"list": "list", "help": "help", "note": "note INC-1 bench note {n}"}
    return [slack_request("/incident", texts[scenario].format(n=n), n, now) for n in range(POOL)]


def lua_script(requests: list[Request_]) -> str:
    def quote(value: str | bytes) -> str:
        raw = value.decode() if isinstance(value, bytes) else value
        return json.dumps(raw)  # a JSON string of ASCII is a valid Lua string literal

    rows = []
    for path, headers, body in requests:
        fields = ", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in headers.items())
        rows.append(f'  wrk.format("POST", {quote(path)}, {{{fields}}}, {quote(body)}),')
    return "\n".join(
        [
            "local requests = {}",
            "local i = 0",
            "init = function(args)",
            "  requests = {",
            *rows,
            "  }",
            "end",
            "request = function()",
            "  i = i % #requests + 1",
            "  return requests[i]",
            "end",
        ]
    )


# --- wrk --------------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"cannot read the latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return rps, p50, p99, count


def run_wrk(name: str, base: str, pid: int, args: argparse.Namespace, workdir: Path) -> Result:
    requests = pool("ping" if name.startswith("bolt") else name)
    check(base, requests[0], name)
    script = workdir / f"{name.replace(' ', '_').replace('/', '')}.lua"
    script.write_text(lua_script(requests))
    command = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    server_before, wrk_before, began = cpu_seconds(pid), children_cpu(), time.monotonic()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - began
    server_cpu = (cpu_seconds(pid) - server_before) / elapsed
    wrk_cpu = (children_cpu() - wrk_before) / elapsed
    rps, p50, p99, errors = parse_wrk(output)
    return Result(name, rps, p50, p99, errors, rss_mb(pid), server_cpu, wrk_cpu)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far, threads included (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU time of this script's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(base: str, request: Request_, name: str) -> None:
    """One request by hand first: the benchmark must measure real answers, not 401s."""
    path, headers, body = request
    answer = httpx.post(base + path, headers=headers, content=body, timeout=10)
    if answer.status_code != 200:
        raise SystemExit(f"{name}: {answer.status_code} {answer.text[:300]}")
    print(f"  {name}: {answer.text[:100]!r}", flush=True)


# --- the run ----------------------------------------------------------------------------------
def declare_incident(base: str) -> None:
    now = str(int(time.time()))
    path, headers, body = slack_request("/incident", 'declare "Bench incident" P4', 0, now)
    answer = httpx.post(base + path, headers=headers, content=body, timeout=10)
    print(f"  declare: {answer.status_code} {answer.text[:100]!r}", flush=True)


def profile(pid: int, out: Path, seconds: int) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    kind = "flamegraph" if out.suffix == ".svg" else "raw"  # raw: collapsed stacks, for reading
    command = [spy, "record", "-p", str(pid), "-o", str(out), "-f", kind]
    return subprocess.Popen([*command, "-d", str(seconds), "-r", "200", "--nonblocking"])


def report(results: list[Result], bolts: list[Result], startup: float, idle: float) -> None:
    """The table; ``x bolt`` is against Bolt's defaults, ``x pbr`` against its FaaS mode."""
    print()
    print(f"tocsin serve: start-up to /ready {startup:.2f} s, idle RSS {idle:.1f} MB")
    header = f"{'scenario':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(header + f"{'RSS MB':>9}{'x bolt':>8}{'x pbr':>8}{'srv CPU':>9}{'wrk CPU':>9}")
    for r in [*bolts, *results]:
        ratios = "".join(f"{r.rps / b.rps if b.rps else 0.0:>8.2f}" for b in bolts)
        print(
            f"{r.name:<26}{r.rps:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
            f"{r.rss_mb:>9.1f}{ratios}{r.server_cpu:>9.0%}{r.wrk_cpu:>9.0%}"
        )


def shut_down(procs: list[subprocess.Popen[bytes]], fake: uvicorn.Server, workdir: Path) -> None:
    """Stop the servers and the fake API, remove the scratch directory."""
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
    fake.should_exit = True
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", choices=SCENARIOS, action="append")
    parser.add_argument("--flamegraph", type=Path, help="write a py-spy SVG of tocsin here")
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL")
    parser.add_argument("--profile", choices=SCENARIOS, default="note", help="profiled scenario")
    parser.add_argument(
        "--tocsin",
        type=Path,
        default=BIN / "tocsin",
        help="the tocsin program to serve with (make bench: a production install, without the "
        "development tools, as in the Docker image)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    workdir = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    api_port = free_port()
    fake = start_fake_api(api_port)
    tocsin, base, startup = start_tocsin(
        workdir, api_port, args.synchronous, args.tocsin.absolute()
    )
    bolt, bolt_base = start_bolt()
    faas, faas_base = start_bolt("--process-before-response")
    try:
        time.sleep(1.0)
        idle = rss_mb(tocsin.pid)
        declare_incident(base)
        time.sleep(1.0)
        bolts = [
            run_wrk("bolt /ping", bolt_base, bolt.pid, args, workdir),
            run_wrk("bolt /ping (pbr)", faas_base, faas.pid, args, workdir),
        ]
        results = []
        for name in args.only or SCENARIOS:
            spy = None
            if name == args.profile and args.flamegraph:
                spy = profile(tocsin.pid, args.flamegraph.resolve(), args.duration)
            results.append(run_wrk(name, base, tocsin.pid, args, workdir))
            if spy is not None:
                spy.wait()
        report(results, bolts, startup, idle)
    finally:
        shut_down([tocsin, bolt, faas], fake, workdir)


if __name__ == "__main__":
    main()
