"""The Kubernetes manifests under deploy/k8s, rendered and validated without a cluster.

Each overlay is rendered with ``kubectl kustomize`` when kubectl is installed (it is on our
machines), otherwise with the small renderer below, which does what these overlays use
(resources, namespace, labels, images, strategic-merge patches by kind and name). Every
rendered object is validated against the Kubernetes API schema with kubernetes-validate in
strict mode (unknown fields are errors), then checked for what the deployment relies on.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
KUBERNETES_VERSION = "1.30"
Doc = dict[str, Any]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as these patches need it: maps merge, lists of named maps merge by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and all(
        isinstance(item, dict) and "name" in item for item in base + patch
    ):  # fmt: skip
        by_name = {item["name"]: item for item in base}
        extra = [item for item in patch if item["name"] not in by_name]
        merged_list = [_merge(item, next((p for p in patch if p["name"] == item["name"]), {}))
                       for item in base]  # fmt: skip
        return merged_list + copy.deepcopy(extra)
    return copy.deepcopy(patch)


def _set_image(doc: Doc, name: str, image: str) -> None:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    for container in spec.get("containers", []):
        if container["image"].split(":")[0] == name:
            container["image"] = image


def render_fallback(folder: Path) -> list[Doc]:
    """A tiny kustomize: enough for deploy/k8s (see the module docstring)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[Doc] = []
    for resource in kustomization.get("resources", []):
        path = (folder / resource).resolve()
        if path.is_dir():
            docs.extend(render_fallback(path))
        else:
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    for entry in kustomization.get("patches", []):
        patch = yaml.safe_load((folder / entry["path"]).read_text())
        for i, doc in enumerate(docs):
            same = (doc["kind"], doc["metadata"]["name"])
            if same == (patch["kind"], patch["metadata"]["name"]):
                docs[i] = _merge(doc, patch)
    for doc in docs:
        for labels in kustomization.get("labels", []):
            doc["metadata"].setdefault("labels", {}).update(labels["pairs"])
        if "namespace" in kustomization and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = kustomization["namespace"]
        for image in kustomization.get("images", []):
            _set_image(doc, image["name"], f"{image['newName']}:{image['newTag']}")
    return docs


def kubectl() -> str | None:
    binary = shutil.which("kubectl")
    if binary is None:
        return None
    probe = subprocess.run(
        [binary, "kustomize", "--help"], capture_output=True, timeout=30, check=False
    )
    return binary if probe.returncode == 0 else None


def render(folder: Path) -> list[Doc]:
    binary = kubectl()
    if binary is None:
        return render_fallback(folder)
    done = subprocess.run(
        [binary, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=True
    )
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, dict[str, Doc]]:
    """(overlay name, rendered objects by kind)."""
    docs = render(K8S / "overlays" / request.param)
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(by_kind) == len(docs), "one object of each kind expected"
    return request.param, by_kind


def test_every_manifest_file_passes_yamllint() -> None:
    """All YAML under deploy/ lints clean with the repository's .yamllint."""
    config = YamlLintConfig(file=str(ROOT / ".yamllint"))
    files = sorted((ROOT / "deploy").rglob("*.y*ml"))
    assert len(files) >= 15
    for path in files:
        problems = list(linter.run(path.read_text(encoding="utf-8"), config, str(path)))
        assert problems == [], f"{path}: {[str(p) for p in problems]}"


def test_rendered_overlays_validate_against_the_kubernetes_schema(
    overlay: tuple[str, dict[str, Doc]],
) -> None:
    """Every object each overlay renders is valid Kubernetes (strict: no unknown fields),
    and the overlay holds the whole set of objects."""
    _name, objects = overlay
    assert set(objects) == {
        "Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "Job",
        "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy",
    }  # fmt: skip
    for doc in objects.values():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_secret_example_is_valid_but_not_applied() -> None:
    """secret.example.yaml is a valid Secret, and no kustomization applies its placeholders."""
    secret = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert secret["metadata"]["name"] == "tocsin-secrets"
    for path in K8S.rglob("kustomization.yaml"):
        assert "secret.example.yaml" not in yaml.safe_load(path.read_text())["resources"]


def test_the_validator_rejects_a_typo() -> None:
    """The schema check has teeth: a misspelt field fails validation."""
    broken = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dat": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_deployment_runs_two_locked_down_replicas_with_probes(
    overlay: tuple[str, dict[str, Doc]],
) -> None:
    """Two replicas, rolled one at a time; /health liveness and /ready readiness; resources;
    non-root, read-only root, no privilege escalation, all capabilities dropped; the metrics
    port annotated for scraping; the overlay's image and namespace applied."""
    name, objects = overlay
    deployment = objects["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9090",
        "prometheus.io/path": "/metrics",
    }
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["spec"]["containers"]
    assert container["image"].startswith("registry.example.com/tocsin:")
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    config = objects["ConfigMap"]["data"]
    assert ports == {
        "http": int(config["TOCSIN_PORT"]),
        "metrics": int(config["TOCSIN_METRICS_PORT"]),
    }
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/tmp", config["TOCSIN_DATA_DIR"]}
    namespace = objects["Namespace"]["metadata"]["name"]
    assert namespace == ("tocsin" if name == "production" else f"tocsin-{name}")
    assert all(
        doc["metadata"].get("namespace") == namespace
        for kind, doc in objects.items()
        if kind != "Namespace"
    )


def test_migration_job_pdb_hpa_service_and_network_policy(
    overlay: tuple[str, dict[str, Doc]],
) -> None:
    """The migration Job runs `tocsin db upgrade` with the same image and settings; the PDB
    keeps a pod up; the HPA scales the Deployment from 2; the Service and NetworkPolicy expose
    the HTTP and metrics ports."""
    _name, objects = overlay
    app = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    job = objects["Job"]["spec"]["template"]["spec"]
    (migrate,) = job["containers"]
    assert migrate["args"] == ["tocsin", "db", "upgrade"]
    assert migrate["image"] == app["image"]
    assert migrate["envFrom"] == app["envFrom"]
    assert job["restartPolicy"] == "Never"
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert objects["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1
    hpa = objects["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == objects["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] == 2
    assert hpa["maxReplicas"] > 2
    service_ports = {p["name"] for p in objects["Service"]["spec"]["ports"]}
    assert service_ports == {"http", "metrics"}
    policy = objects["NetworkPolicy"]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    allowed = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert allowed == {"http", "metrics"}


def test_the_fallback_renderer_agrees_with_kustomize() -> None:
    """Where kubectl is installed, the small renderer used without it gives the same objects."""
    binary = kubectl()
    if binary is None:
        pytest.skip("kubectl is not installed; the fallback renderer was used above")
    for name in OVERLAYS:
        ours = {d["kind"]: d for d in render_fallback(K8S / "overlays" / name)}
        theirs = {d["kind"]: d for d in render(K8S / "overlays" / name)}
        assert set(ours) == set(theirs)
        for kind, doc in theirs.items():
            assert ours[kind] == doc, (name, kind)
