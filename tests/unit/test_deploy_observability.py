"""The Grafana dashboard and the Prometheus alerts use only metrics tocsin really exports.

Metric names are read out of every PromQL expression (label matchers, ranges, strings,
`by (...)` lists and Grafana variables removed; what is left is functions, keywords and
metric names) and looked up in the registry of tocsin.observability.metrics, where a counter
`x` is exported as `x_total` and a histogram `x` as `x_bucket`, `x_sum` and `x_count`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from tocsin.observability.metrics import create_metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "tocsin.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_OWN = {"up"}
FUNCTIONS = {
    "abs", "absent", "avg", "avg_over_time", "ceil", "clamp_max", "clamp_min", "count",
    "count_over_time", "delta", "deriv", "floor", "histogram_quantile", "idelta", "increase",
    "irate", "label_replace", "label_values", "max", "max_over_time", "min", "min_over_time",
    "quantile", "rate", "round", "scalar", "sort", "sort_desc", "sum", "sum_over_time", "time",
    "topk", "bottomk", "vector",
}  # fmt: skip
KEYWORDS = {"and", "or", "unless", "bool", "offset"}


def exported_names() -> set[str]:
    """Every series name tocsin's registry can export."""
    names: set[str] = set()
    for family in create_metrics(process=False).registry.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        elif family.type == "summary":
            names.update(f"{family.name}{suffix}" for suffix in ("", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    assert expr.count("(") == expr.count(")"), f"unbalanced parentheses: {expr}"
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", " ", text)
    text = re.sub(r"\blabel_values\(([^,()]+),\s*\w+\s*\)", r"(\1)", text)  # Grafana's
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match[0]
        if word in KEYWORDS:
            continue
        if text[match.end() :].lstrip().startswith("("):
            assert word in FUNCTIONS, f"unknown PromQL function {word!r} in {expr}"
            continue
        names.add(word)
    return names


def dashboard_exprs(node: Any) -> Iterator[str]:
    """Every PromQL string in the dashboard: panel targets and template variable queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            promql = key in ("expr", "definition") or (key == "query" and "(" in str(value))
            if promql and isinstance(value, str):
                yield value
            else:
                yield from dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_exprs(item)


@pytest.fixture(scope="module")
def alerts() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_metric_name_extraction() -> None:
    """The extractor finds metric names and ignores functions, labels, ranges and variables."""
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{job="$job", a=~"5.."}'
        "[$__rate_interval]))) / ignoring(route) sum(up) or absent(y_total)"
    )
    assert metric_names(expr) == {"x_bucket", "up", "y_total"}
    assert metric_names("label_values(build_info, job)") == {"build_info"}


def test_dashboard_uses_only_exported_metrics() -> None:
    """Every metric the Grafana dashboard queries exists in tocsin's registry."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = set().union(*(metric_names(expr) for expr in dashboard_exprs(dashboard)))
    assert used - exported_names() - PROMETHEUS_OWN == set()
    for needed in (
        "commands_total", "command_duration_seconds_bucket", "open_incidents", "outbox_pending",
        "outbox_oldest_pending_seconds", "circuit_breaker_state", "time_to_acknowledge_seconds_sum",
        "time_to_acknowledge_seconds_count", "time_to_resolve_seconds_sum",
        "time_to_resolve_seconds_count", "http_requests_total",
    ):  # fmt: skip
        assert needed in used, needed


def test_dashboard_shows_the_alert_metrics() -> None:
    """An Alerts row charts every alert metric: received, groups by state, refusals by reason
    and redeliveries, each panel below the row and not overlapping another."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    [row] = [p for p in panels if p["type"] == "row" and p["title"] == "Alerts"]
    below = [p for p in panels if p["gridPos"]["y"] > row["gridPos"]["y"]]
    used = set().union(*(metric_names(e) for p in below for e in dashboard_exprs(p)))
    assert {
        "alerts_received_total", "alert_groups", "alert_intake_rejected_total",
        "alerts_deduplicated_total",
    } <= used  # fmt: skip
    cells = [
        (x, y)
        for p in panels
        for x in range(p["gridPos"]["x"], p["gridPos"]["x"] + p["gridPos"]["w"])
        for y in range(p["gridPos"]["y"], p["gridPos"]["y"] + p["gridPos"]["h"])
    ]
    assert len(cells) == len(set(cells)), "two panels overlap"


def test_an_alert_fires_on_refused_alert_bodies(alerts: list[dict[str, Any]]) -> None:
    """TocsinAlertIntakeRejected watches alert_intake_rejected_total by reason, leaves out the
    harmless `method` refusals and links its runbook section."""
    [rule] = [r for r in alerts if r["alert"] == "TocsinAlertIntakeRejected"]
    assert metric_names(rule["expr"]) == {"alert_intake_rejected_total"}
    assert "by (reason)" in rule["expr"]
    assert 'reason!="method"' in rule["expr"]
    assert rule["labels"]["severity"] == "warning"
    assert "docs/operations.md#alert-intake-rejected" in rule["annotations"]["description"]


def test_dashboard_is_importable() -> None:
    """The dashboard has a uid, a title, a data source variable and uniquely numbered panels
    that all query through that variable."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "tocsin-overview"
    assert dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"]


def test_alerts_use_only_exported_metrics(alerts: list[dict[str, Any]]) -> None:
    """Every metric an alert uses exists in tocsin's registry (or is Prometheus's `up`)."""
    used = set().union(*(metric_names(rule["expr"]) for rule in alerts))
    assert used - exported_names() - PROMETHEUS_OWN == set()


def test_alerts_cover_the_runbook(alerts: list[dict[str, Any]]) -> None:
    """Down, stuck backlog, open breaker and 5xx rate alerts exist, each with a severity, a
    summary and a runbook link into docs/operations.md. "Nobody on call" needs an on-call
    metric: while the registry has none, the file says the rule is left out."""
    by_name = {rule["alert"]: rule for rule in alerts}
    assert {"TocsinDown", "TocsinOutboxBacklogOld", "TocsinCircuitBreakerOpen"} <= set(by_name)
    assert "TocsinHighServerErrorRate" in by_name
    assert "outbox_oldest_pending_seconds" in by_name["TocsinOutboxBacklogOld"]["expr"]
    assert 'status=~"5.."' in by_name["TocsinHighServerErrorRate"]["expr"]
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r"^#+ (.+)$", operations, re.MULTILINE))
    slugs = {re.sub(r"[^a-z0-9 -]", "", a.lower()).replace(" ", "-") for a in anchors}
    for rule in alerts:
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"]
        link = re.search(r"docs/operations\.md#([a-z0-9-]+)", rule["annotations"]["description"])
        assert link, rule["alert"]
        assert link[1] in slugs, f"{rule['alert']}: no section #{link[1]} in docs/operations.md"
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s"))
    on_call = [name for name in exported_names() if "on_call" in name or "oncall" in name]
    if on_call:
        assert any(set(on_call) & metric_names(rule["expr"]) for rule in alerts)
    else:
        assert "nobody on call" in ALERTS.read_text(encoding="utf-8").lower()


def test_alerts_file_passes_yamllint() -> None:
    """alerts.yml lints clean with the repository's .yamllint."""
    config = YamlLintConfig(file=str(ROOT / ".yamllint"))
    assert list(linter.run(ALERTS.read_text(encoding="utf-8"), config, str(ALERTS))) == []
