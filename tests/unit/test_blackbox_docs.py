"""docs/monitors.md quotes the blackbox_exporter setup that tests/e2e/test_blackbox_e2e.py runs:
each file of deploy/blackbox/ (less its leading comment lines) is one fenced block of the page,
so the page cannot drift from what is tested; and the files are what the e2e test expects to
edit (one scrape job with the exporter's address relabeled, one rule, one receiver)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml

from tocsin.domain.policy_file import parse_policy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "blackbox"
PAGE = ROOT / "docs" / "monitors.md"
FILES = {"blackbox.yml": "yaml", "prometheus.yml": "yaml", "blackbox-rules.yml": "yaml",
         "alertmanager.yml": "yaml", "policy.toml": "toml"}  # fmt: skip


def _body(name: str) -> str:
    lines = (DEPLOY / name).read_text().splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def test_every_file_of_the_blackbox_setup_is_listed() -> None:
    """No file in deploy/blackbox/ is left out of the page (and so of this check)."""
    assert sorted(p.name for p in DEPLOY.iterdir()) == sorted(FILES)


@pytest.mark.parametrize(("name", "lang"), FILES.items())
def test_the_page_quotes_each_file_as_it_is(name: str, lang: str) -> None:
    """The file's content, verbatim, is a fenced block of docs/monitors.md."""
    assert f"```{lang}\n{_body(name)}```\n" in PAGE.read_text()


def test_the_files_have_the_parts_the_e2e_test_changes() -> None:
    """One blackbox scrape job probing through the exporter (module http_2xx, the target as
    the ``target`` parameter and ``instance``, the exporter as ``__address__``), one rule on
    probe_success, one webhook receiver with send_resolved, and a route tocsin's policy parser
    accepts that matches the rule's alert."""
    prom = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = prom["scrape_configs"]
    assert (job["metrics_path"], job["params"]) == ("/probe", {"module": ["http_2xx"]})
    relabel = {r["target_label"]: r for r in job["relabel_configs"]}
    assert relabel["__param_target"]["source_labels"] == ["__address__"]
    assert relabel["instance"]["source_labels"] == ["__param_target"]
    assert "replacement" in relabel["__address__"]
    modules = yaml.safe_load((DEPLOY / "blackbox.yml").read_text())["modules"]
    assert modules["http_2xx"]["prober"] == "http"
    [rule] = yaml.safe_load((DEPLOY / "blackbox-rules.yml").read_text())["groups"][0]["rules"]
    assert rule["expr"] == 'probe_success{job="blackbox"} == 0'
    manager = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text())
    [receiver] = manager["receivers"]
    assert manager["route"]["receiver"] == receiver["name"]
    assert receiver["webhook_configs"][0]["send_resolved"] is True
    policy = parse_policy(tomllib.loads((DEPLOY / "policy.toml").read_text()))
    route = policy.alert_routes.route({"alertname": rule["alert"], "job": job["job_name"]})
    assert (route.action.value, route.severity.value, route.auto_resolve) == ("declare", "P2", True)
