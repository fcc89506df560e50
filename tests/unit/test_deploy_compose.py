"""The Compose files (base, dev, prod) and the Compose deploy and rollback scripts.

No Docker engine runs here, so the files are checked as data (the relations Compose relies on)
and linted with yamllint, and deploy/deploy.sh and deploy/rollback.sh run against a stand-in
``docker`` command that plays a Compose host: it records every call and keeps the schema
revision the way the real migrate service would.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parents[2]
FILES = ("docker-compose.base.yml", "docker-compose.dev.yml", "docker-compose.prod.yml")
TOCSIN_SERVICES = ("migrate", "tocsin")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_files_pass_yamllint() -> None:
    """Every Compose file lints clean with the repository's .yamllint."""
    config = YamlLintConfig(file=str(ROOT / ".yamllint"))
    for name in FILES:
        problems = list(linter.run((ROOT / name).read_text(encoding="utf-8"), config, name))
        assert problems == [], f"{name}: {[str(p) for p in problems]}"


def test_base_runs_tocsin_after_a_one_shot_migration() -> None:
    """base: tocsin, postgres:16, redis:7 and a migrate service that runs `tocsin db upgrade`
    once; tocsin waits for it to complete successfully and for healthy PostgreSQL and Redis."""
    services = load("docker-compose.base.yml")["services"]
    assert set(services) == {"tocsin", "migrate", "postgres", "redis"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    migrate = services["migrate"]
    assert migrate["command"] == ["tocsin", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    app = services["tocsin"]
    assert app["command"] == ["tocsin", "serve"]
    assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    env = app["environment"]
    assert env["TOCSIN_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in env["TOCSIN_DATABASE_URL"]
    assert env["TOCSIN_REDIS_URL"].startswith("redis://redis:6379/")
    assert migrate["environment"] == env
    assert app["read_only"] is True
    assert "/tmp" in app["tmpfs"]
    assert app["cap_drop"] == ["ALL"]


def test_dev_builds_from_source_mounts_it_and_reloads() -> None:
    """dev: both tocsin services build this checkout, mount ./src over the installed package
    and the app restarts on change (watchfiles)."""
    services = load("docker-compose.dev.yml")["services"]
    for name in TOCSIN_SERVICES:
        service = services[name]
        assert service["build"]["context"] == "."
        assert "./src:/app/src:ro" in service["volumes"]
        assert service["environment"]["PYTHONPATH"] == "/app/src"
    command = services["tocsin"]["command"]
    assert command[0] == "watchfiles"
    assert "tocsin serve" in command


def test_prod_runs_a_prebuilt_image_with_limits_restarts_and_log_rotation() -> None:
    """prod: ${TOCSIN_IMAGE} (required), no build and no bind mounts, resource limits, a
    restart policy and rotated logs; production mode with a required secret key."""
    services = load("docker-compose.prod.yml")["services"]
    for name in TOCSIN_SERVICES:
        service = services[name]
        assert service["image"].startswith("${TOCSIN_IMAGE:?")
        assert "build" not in service
        assert all(not str(v).startswith(("./", "/")) for v in service.get("volumes", []))
        assert service["logging"]["options"] == {"max-size": "10m", "max-file": "5"}
    app = services["tocsin"]
    assert app["restart"] == "unless-stopped"
    assert app["deploy"]["resources"]["limits"]["memory"]
    assert app["deploy"]["resources"]["limits"]["cpus"]
    assert app["environment"]["TOCSIN_ENV"] == "production"
    assert app["environment"]["TOCSIN_SECRET_KEY"].startswith("${TOCSIN_SECRET_KEY:?")
    for name in ("postgres", "redis"):
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["deploy"]["resources"]["limits"]["memory"]


def test_every_override_names_a_base_service() -> None:
    """dev and prod only adjust services the base defines (a typo would add a new one)."""
    base = set(load("docker-compose.base.yml")["services"])
    for name in FILES[1:]:
        assert set(load(name)["services"]) <= base, name


# --- deploy/deploy.sh and deploy/rollback.sh against a stand-in docker ---------------------------
STUB = r"""
import json, os, sys
args = sys.argv[1:]
state_path = os.environ["STUB_STATE"]
state = json.load(open(state_path))
image = os.environ.get("TOCSIN_IMAGE", "")
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "image": image}) + "\n")
heads = state["heads"]
def save():
    json.dump(state, open(state_path, "w"))
if args[0] == "run" and "--entrypoint" in args:
    print(heads[args[-3]])
elif args[0] == "inspect":
    print("unhealthy" if args[-1][2:] in state["unhealthy"] else "healthy")
elif args[0] == "compose":
    verb = next(a for a in args if a in ("run", "up", "ps", "exec"))
    if verb == "ps":
        print("c-" + image)
    elif verb == "exec":
        sys.exit(1 if image in state["unhealthy"] else 0)
    elif verb == "run" and "current" in args:
        print(state["revision"] + " (head)")
    elif verb == "run" and "downgrade" in args:
        state["revision"] = args[-1]
        save()
    elif verb == "run":
        state["revision"] = heads[image]
        save()
"""


class Host:
    """A Compose project directory with a stand-in docker on PATH."""

    def __init__(self, root: Path, deployed: str, heads: dict[str, str]) -> None:
        self.root = root
        (root / "deploy").mkdir()
        for name in ("deploy.sh", "rollback.sh", "compose-lib.sh"):
            shutil.copy(ROOT / "deploy" / name, root / "deploy" / name)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        docker = bin_dir / "docker"
        docker.write_text(f"#!{sys.executable}\n{STUB}", encoding="utf-8")
        docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
        self.state = root / "state.json"
        self.log = root / "calls.jsonl"
        self.state.write_text(
            json.dumps({"heads": heads, "revision": heads[deployed], "unhealthy": []}),
            encoding="utf-8",
        )
        (root / ".env").write_text(f"TOCSIN_SECRET_KEY=kept\nTOCSIN_IMAGE={deployed}\n")
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "COMPOSE_DIR": str(root),
            "STUB_STATE": str(self.state),
            "STUB_LOG": str(self.log),
            "DEPLOY_HEALTH_TIMEOUT": "0",
            "DEPLOY_POLL_SECONDS": "0",
        }
        self.env.pop("TOCSIN_IMAGE", None)

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.root / "deploy" / script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def unhealthy(self, image: str) -> None:
        data = json.loads(self.state.read_text())
        data["unhealthy"].append(image)
        self.state.write_text(json.dumps(data))

    @property
    def revision(self) -> str:
        return str(json.loads(self.state.read_text())["revision"])

    @property
    def env_file(self) -> str:
        return (self.root / ".env").read_text()

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


OLD, NEW = "registry.example.com/tocsin:1.0.0", "registry.example.com/tocsin:1.1.0"


@pytest.fixture
def host(tmp_path: Path) -> Host:
    if shutil.which("bash") is None:
        pytest.fail("bash is needed to run the deploy scripts")
    return Host(tmp_path, OLD, {OLD: "0002", NEW: "0003"})


def test_deploy_migrates_starts_and_records_a_healthy_image(host: Host) -> None:
    """deploy.sh IMAGE pulls it, runs the migration, starts it, waits for health and records
    the release; .env then names the new image and keeps the other settings."""
    done = host.run("deploy.sh", NEW)
    assert done.returncode == 0, done.stderr
    assert host.env_file == f"TOCSIN_SECRET_KEY=kept\nTOCSIN_IMAGE={NEW}\n"
    assert host.revision == "0003"
    releases = (host.root / ".tocsin-releases").read_text().splitlines()
    assert releases[-1].split()[1:] == [NEW, "0003", "deployed"]
    verbs = [c["args"][0] for c in host.calls()]
    assert verbs[0] == "pull"


def test_rollback_sets_the_previous_tag_after_migrating_the_schema_down(host: Host) -> None:
    """rollback.sh with no argument goes back to the image deployed before: first the schema
    is migrated down with the current image, then TOCSIN_IMAGE is set to the previous tag."""
    assert host.run("deploy.sh", NEW).returncode == 0
    done = host.run("rollback.sh")
    assert done.returncode == 0, done.stderr
    assert host.env_file == f"TOCSIN_SECRET_KEY=kept\nTOCSIN_IMAGE={OLD}\n"
    assert host.revision == "0002"
    calls = host.calls()
    downgrade = next(i for i, c in enumerate(calls) if "downgrade" in c["args"])
    assert calls[downgrade]["image"] == NEW
    assert calls[downgrade]["args"][-1] == "0002"
    up = [i for i, c in enumerate(calls) if "up" in c["args"] and c["image"] == OLD]
    assert up
    assert up[-1] > downgrade


def test_a_deploy_that_never_gets_healthy_rolls_back_by_itself(host: Host) -> None:
    """deploy.sh of an image that stays unhealthy exits 1 after putting the previous image and
    schema revision back."""
    host.unhealthy(NEW)
    done = host.run("deploy.sh", NEW)
    assert done.returncode == 1
    assert "rolling back" in done.stderr
    assert host.env_file.endswith(f"TOCSIN_IMAGE={OLD}\n")
    assert host.revision == "0002"


def test_rollback_refuses_without_history(host: Host) -> None:
    """rollback.sh with nothing to go back to says so and changes nothing."""
    done = host.run("rollback.sh")
    assert done.returncode == 1
    assert "name the image to run" in done.stderr
    assert host.env_file.endswith(f"TOCSIN_IMAGE={OLD}\n")
