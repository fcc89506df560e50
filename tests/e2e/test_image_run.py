"""The image's command and health check, run outside a container (no Docker engine here).

The Dockerfile's runtime ENV, CMD and HEALTHCHECK are read from the file itself, so this test
follows any change to them: `tocsin serve` starts with exactly the environment the image sets
(data directory and port moved to a temporary place), the health check command exits 0 while
it runs, the server stops cleanly on SIGTERM, and the health check then exits non-zero.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def runtime_stage() -> list[str]:
    """The runtime stage's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    start = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[start + 1 :]


def image_contract() -> tuple[dict[str, str], list[str], list[str]]:
    """(ENV, CMD argv, HEALTHCHECK argv) of the runtime stage."""
    stage = runtime_stage()
    env: dict[str, str] = {}
    for line in stage:
        if line.startswith("ENV "):
            env.update(re.findall(r"(\w+)=(\S+)", line))
    (cmd,) = [json.loads(line[4:]) for line in stage if line.startswith("CMD ")]
    (check,) = [line for line in stage if line.startswith("HEALTHCHECK ")]
    return env, cmd, json.loads(check.split(" CMD ", 1)[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(argv: list[str], env: dict[str, str]) -> int:
    return subprocess.run(argv, env=env, capture_output=True, timeout=15, check=False).returncode


@pytest.mark.slow
def test_image_command_serves_and_its_health_check_tracks_it(tmp_path: Path) -> None:
    """With the image's environment and after the migrate service's `tocsin db upgrade`, the
    CMD serves /health (health check exits 0), keeps its data under TOCSIN_DATA_DIR,
    exits 0 on SIGTERM after a clean shutdown, after which the health check fails."""
    image_env, cmd, check = image_contract()
    assert cmd == ["tocsin", "serve"]
    assert check[0] == "python"
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOCSIN_", "OTEL_"))}
    env.update(image_env)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        TOCSIN_PORT=str(free_port()),
        TOCSIN_DATA_DIR=str(data),
        TOCSIN_DATABASE_URL=f"sqlite:///{data / 'tocsin.db'}",
    )
    assert health(check, env) != 0  # nothing listens yet
    migrate = subprocess.run(
        ["tocsin", "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, timeout=60
    )
    assert migrate.returncode == 0, migrate.stderr
    server = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while health(check, env) != 0:
            assert server.poll() is None, server.communicate()[0].decode()
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.3)
        assert (data / "tocsin.db").is_file()
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
        assert server.returncode == 0, output
        assert "Application shutdown complete" in output
        assert '"level":"error"' not in output
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert health(check, env) != 0
