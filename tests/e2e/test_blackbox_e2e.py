"""blackbox_exporter in the loop: Debian's ``prometheus-blackbox-exporter`` probes a local HTTP
target with the ``http_2xx`` module, Prometheus scrapes ``/probe?target=…&module=http_2xx``
through it, the rule ``probe_success == 0`` fires, Alertmanager posts to a tocsin alertmanager
integration URL served by ``tocsin serve``, and tocsin declares an incident (the route of
``deploy/blackbox/policy.toml``); the target recovering resolves the group and the incident.

The configurations are the files of ``deploy/blackbox/`` that docs/monitors.md quotes (a unit
test keeps the two equal); the test changes only addresses, intervals and the rule's ``for``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.prom_stack import (
    PACKAGES,
    WAIT,
    alertmanager_command,
    blackbox_command,
    cli_json,
    loopback_target,
    need,
    prometheus_command,
    query,
    running,
)
from e2e.test_serve import Server, free_port, migrated_sqlite, poll

pytestmark = pytest.mark.slow

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "blackbox"


@pytest.fixture
def target() -> Iterator[ThreadingHTTPServer]:
    """The probed endpoint on loopback (skipped first without the three binaries)."""
    need(*PACKAGES)
    with loopback_target() as served:
        yield served


def _load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


@dataclass
class Ports:
    blackbox: int
    prometheus: int
    alertmanager: int


def _write_configs(folder: Path, ports: Ports, target_url: str, hook_url: str) -> None:
    """deploy/blackbox's files with this machine's addresses, 1 s intervals and no ``for``."""
    (folder / "blackbox.yml").write_text((DEPLOY / "blackbox.yml").read_text())
    rules = _load("blackbox-rules.yml")
    [rule] = rules["groups"][0]["rules"]
    rule["for"] = "0s"
    (folder / "blackbox-rules.yml").write_text(yaml.safe_dump(rules))
    prom = _load("prometheus.yml")
    prom["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    prom["rule_files"] = [str(folder / "blackbox-rules.yml")]
    [manager] = prom["alerting"]["alertmanagers"]
    manager["static_configs"] = [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]
    [job] = prom["scrape_configs"]
    job["static_configs"] = [{"targets": [target_url]}]
    [address] = [r for r in job["relabel_configs"] if r["target_label"] == "__address__"]
    address["replacement"] = f"127.0.0.1:{ports.blackbox}"
    (folder / "prometheus.yml").write_text(yaml.safe_dump(prom))
    manager_config = _load("alertmanager.yml")
    manager_config["route"].update(group_wait="1s", group_interval="1s")
    [receiver] = manager_config["receivers"]
    receiver["webhook_configs"][0]["url"] = hook_url
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(manager_config))


def _commands(folder: Path, ports: Ports) -> list[list[str]]:
    return [
        blackbox_command(folder / "blackbox.yml", ports.blackbox),
        alertmanager_command(folder / "alertmanager.yml", folder / "am-data", ports.alertmanager),
        prometheus_command(folder / "prometheus.yml", folder / "prom-data", ports.prometheus),
    ]


@pytest.fixture
def stack(tmp_path: Path, target: ThreadingHTTPServer) -> Iterator[tuple[Server, Ports]]:
    """tocsin serve (SQLite, the policy of deploy/blackbox/policy.toml), an alertmanager
    integration, and blackbox_exporter, Alertmanager and Prometheus configured from
    deploy/blackbox; every process stopped afterwards."""
    policy = tmp_path / "policy.toml"
    policy.write_text((DEPLOY / "policy.toml").read_text())
    server = Server(tmp_path, migrated_sqlite(tmp_path), TOCSIN_POLICY_FILE=str(policy))
    server.env["TOCSIN_PUBLIC_URL"] = server.base
    server.start()
    try:
        made = cli_json(server, "integration", "create", "alertmanager", "blackbox", "--json")
        ports = Ports(free_port(), free_port(), free_port())
        with tempfile.TemporaryDirectory(prefix="tocsin-blackbox-") as tmp:
            folder = Path(tmp)
            url = f"http://127.0.0.1:{target.server_address[1]}/health"
            _write_configs(folder, ports, url, made["url"])
            with running(*_commands(folder, ports)):
                yield server, ports
    finally:
        server.stop()


def _probe_success(prom_port: int) -> list[str]:
    return query(prom_port, 'probe_success{job="blackbox"}')


def _blackbox_group(server: Server) -> dict[str, Any] | None:
    for group in cli_json(server, "alerts", "list", "--json"):
        if group["labels"].get("alertname") == "EndpointDown":
            return dict(group)
    return None


def test_a_failing_probe_declares_an_incident_and_its_recovery_resolves_it(
    target: ThreadingHTTPServer, stack: tuple[Server, Ports]
) -> None:
    """The probe succeeds while the target answers 200; switched to 503, probe_success drops
    to 0, the rule fires, and tocsin stores a firing group with the blackbox labels (job,
    instance = the probed URL, severity) that declares INC-1 at P2 with the rule's description
    on its timeline; back to 200, the group resolves and so does the incident."""
    server, ports = stack
    url = f"http://127.0.0.1:{target.server_address[1]}/health"
    poll(lambda: _probe_success(ports.prometheus) == ["1"], WAIT, "a successful probe")
    assert _blackbox_group(server) is None
    target.status = 503  # type: ignore[attr-defined]
    poll(lambda: _probe_success(ports.prometheus) == ["0"], WAIT, "a failed probe")
    group = poll(lambda: _blackbox_group(server), WAIT, "the firing group in tocsin")
    assert group["status"] == "firing"
    labels = group["labels"]
    assert (labels["job"], labels["instance"], labels["severity"]) == ("blackbox", url, "critical")
    assert group["title"] == f"{url} is down"
    poll(lambda: (_blackbox_group(server) or {}).get("incident") == "INC-1", WAIT, "INC-1")
    shown = cli_json(server, "incident", "show", "INC-1", "--json")
    assert shown["severity"] == "P2"
    notes = [entry["text"] for entry in shown["timeline"] if entry["kind"] == "note"]
    described = f"The http_2xx probe of {url} failed for a minute."
    assert notes[0] == f"Alert group #{group['id']} ({url} is down): {described}"
    target.status = 200  # type: ignore[attr-defined]
    poll(lambda: _probe_success(ports.prometheus) == ["1"], WAIT, "the probe succeeding again")

    def resolved() -> bool:
        group = _blackbox_group(server) or {}
        incident = cli_json(server, "incident", "show", "INC-1", "--json")
        return group.get("status") == "resolved" and incident["status"] == "resolved"

    poll(resolved, WAIT, "the group and INC-1 resolved")
