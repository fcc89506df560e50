"""The GitHub Actions workflows: lint clean, and do what the release process relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
OURS = ("ci.yml", "image.yml", "deploy.yml")


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the key `on:` as True (YAML 1.1); give it back its name.
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


@pytest.mark.parametrize("name", OURS)
def test_workflow_passes_yamllint_and_has_the_basic_shape(name: str) -> None:
    """Each workflow lints clean, has a name, triggers, least-privilege permissions and jobs
    whose steps each run or use something."""
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    problems = list(linter.run(text, YamlLintConfig(file=str(ROOT / ".yamllint")), name))
    assert problems == [], [str(p) for p in problems]
    workflow = load(name)
    assert workflow["name"]
    assert workflow["on"]
    assert workflow["permissions"]["contents"] == "read"
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        assert all(("run" in step) != ("uses" in step) for step in job["steps"])


def test_ci_lints_types_and_tests_against_postgres_and_redis() -> None:
    """ci.yml: ruff, mypy, and a test job that runs ``make test`` as .ci/run does (durations
    printed) on Debian with its chromium, PostgreSQL 16 and Redis 7 service containers and the
    variables that make a skipped PostgreSQL/Redis test a failure."""
    jobs = load("ci.yml")["jobs"]
    assert "ruff check" in steps_text(jobs["lint"])
    assert "ruff format --check" in steps_text(jobs["lint"])
    assert "mypy" in steps_text(jobs["types"])
    test = jobs["test"]
    assert "make test" in steps_text(test)
    assert "--durations=20" in steps_text(test)
    assert "apt-get install -y -qq chromium" in steps_text(test)
    assert "bookworm" in test["container"]
    assert test["services"]["postgres"]["image"] == "postgres:16"
    assert test["services"]["redis"]["image"] == "redis:7"
    env = test["env"]
    assert env["TOCSIN_TEST_POSTGRES_URL"].startswith("postgresql://")
    assert env["TOCSIN_TEST_REDIS_URL"].startswith("redis://")
    assert env["TOCSIN_TEST_REQUIRE_SERVICES"] == "1"


def test_image_builds_multi_arch_with_cache_and_sha_and_semver_tags() -> None:
    """image.yml: buildx for amd64 and arm64 with the GitHub Actions cache, tags by commit
    SHA and semantic version, pushing except on pull requests, after a smoke test."""
    workflow = load("image.yml")
    assert "v*.*.*" in workflow["on"]["push"]["tags"]
    steps = workflow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("docker/setup-buildx-action@") for u in uses)
    assert any(u.startswith("docker/setup-qemu-action@") for u in uses)
    meta = next(s for s in steps if s.get("uses", "").startswith("docker/metadata-action@"))
    tags = meta["with"]["tags"]
    assert "type=sha" in tags
    assert "type=semver,pattern={{version}}" in tags
    push = steps[-1]
    assert push["uses"].startswith("docker/build-push-action@")
    assert push["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert push["with"]["cache-from"] == "type=gha"
    assert push["with"]["cache-to"].startswith("type=gha")
    assert "pull_request" in push["with"]["push"]
    assert "Health.Status" in steps_text(workflow["jobs"]["build"])


def test_deploy_pulls_migrates_gates_on_health_and_rolls_back() -> None:
    """deploy.yml never builds: it pulls the image, runs the migration before the rollout,
    gates on /health and /ready, and on failure migrates the schema back and restores the
    previous image; the Compose target runs deploy/deploy.sh, which does the same."""
    workflow = load("deploy.yml")
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    assert "build-push-action" not in text
    assert "docker build" not in text
    assert "docker pull" in steps_text(workflow["jobs"]["image"])
    k8s = workflow["jobs"]["kubernetes"]
    names = [step.get("name", "") for step in k8s["steps"]]
    assert names.index("Migrate") < names.index("Roll out") < names.index("Health gate")
    gate = k8s["steps"][names.index("Health gate")]["run"]
    assert "/health" in gate
    assert "/ready" in gate
    rollback = k8s["steps"][names.index("Roll back")]
    assert rollback["if"].startswith("failure()")
    assert 'db", "downgrade"' in rollback["run"]
    assert "rollout status" in rollback["run"]
    compose = steps_text(workflow["jobs"]["compose"])
    assert "deploy/deploy.sh" in compose
    for script in ("deploy.sh", "rollback.sh", "compose-lib.sh"):
        assert (ROOT / "deploy" / script).is_file()
        assert f"deploy/{script}" in compose
