"""docs/ops: the Prometheus config and alert rules pass promtool (and the rules' unit
tests), and every query in them and in the Grafana dashboard names only metrics the
exporter serves (exposed_names() is itself checked against a real scrape in
tests/test_exporter.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callwatch.exporter import exposed_names
from tests.helpers.common import require_tools
from tests.helpers.exporter import OPS

# Metric names in PromQL; label names that share the prefix (the state set's) are
# metric names too, so they pass the same check.
_METRIC = re.compile(r"\bcallwatch_[a-z0-9_]+")
# Prometheus' own series the rules may use.
_BUILTIN = {"up"}


def promtool(*args: str, cwd: Path = OPS) -> subprocess.CompletedProcess[str]:
    require_tools("promtool")
    return subprocess.run([shutil.which("promtool") or "promtool", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def unknown_metrics(exprs: list[str]) -> set[str]:
    return {m for e in exprs for m in _METRIC.findall(e)} - exposed_names()


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OPS / "grafana-dashboard.json").read_text())
    return data


def dashboard_exprs(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, query) for every panel's targets."""
    for panel in data["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def rule_exprs() -> list[str]:
    # The rules file is YAML; its expressions are the lines under `expr:` (folded).
    text = (OPS / "callwatch-alerts.yml").read_text()
    return [block for block in re.split(r"\n\s+(?:for|labels|annotations):", text)
            if "expr:" in block]


def test_prometheus_config_is_valid() -> None:
    proc = promtool("check", "config", "prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rule files found" in proc.stdout + proc.stderr


def test_alert_rules_are_valid() -> None:
    proc = promtool("check", "rules", "callwatch-alerts.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 rules found" in proc.stdout + proc.stderr


def test_alert_rules_unit_tests_pass() -> None:
    proc = promtool("test", "rules", "callwatch-alerts.test.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_the_rules_unit_tests_can_fail(tmp_path: Path) -> None:
    """A rule that no longer fires as the tests expect is caught."""
    rules = (OPS / "callwatch-alerts.yml").read_text()
    broken = rules.replace("up{job=\"callwatch\"} == 0", "up{job=\"callwatch\"} == 2")
    assert broken != rules
    (tmp_path / "callwatch-alerts.yml").write_text(broken)
    shutil.copy(OPS / "callwatch-alerts.test.yml", tmp_path)
    proc = promtool("test", "rules", "callwatch-alerts.test.yml", cwd=tmp_path)
    assert proc.returncode != 0
    assert "CallwatchExporterDown" in proc.stdout + proc.stderr


def test_the_alerts_cover_the_four_cases() -> None:
    text = (OPS / "callwatch-alerts.yml").read_text()
    alerts = re.findall(r"- alert: (\w+)", text)
    assert sorted(alerts) == ["CallwatchApiDown", "CallwatchExporterDown",
                              "CallwatchHighFailRate", "CallwatchTaskStalled"]
    tests = (OPS / "callwatch-alerts.test.yml").read_text()
    assert all(f"alertname: {a}" in tests for a in alerts)


def test_rules_name_only_exposed_metrics() -> None:
    exprs = rule_exprs()
    assert len(exprs) == 4
    assert unknown_metrics(exprs) == set()
    assert {m for e in exprs for m in _METRIC.findall(e)}, "the rules use the exporter"


def test_dashboard_queries_name_only_exposed_metrics() -> None:
    data = dashboard()
    exprs = [e for _, e in dashboard_exprs(data)]
    variables = [v["definition"] for v in data["templating"]["list"]]
    assert unknown_metrics(exprs + variables) == set()
    assert unknown_metrics(["rate(callwatch_nope_total[5m])"]) == {"callwatch_nope_total"}


def test_dashboard_has_the_four_views() -> None:
    data = dashboard()
    titles: dict[str, list[str]] = {}
    for title, expr in dashboard_exprs(data):
        titles.setdefault(title, []).append(expr)
    assert all(_METRIC.search(" ".join(e)) for e in titles.values())
    joined = " ".join(titles).lower()
    for view in ("progress", "throughput", "fail rate", "api"):
        assert view in joined
    table = next(p for p in data["panels"] if p["type"] == "table")
    assert any("callwatch_task_progress_ratio" in t["expr"] for t in table["targets"])
    assert data["__inputs"][0]["pluginId"] == "prometheus"


@pytest.mark.parametrize("name", ["prometheus.yml", "callwatch-alerts.yml",
                                  "callwatch-alerts.test.yml", "grafana-dashboard.json"])
def test_ops_files_are_plain_text(name: str) -> None:
    text = (OPS / name).read_text()
    assert text.isascii() and "\t" not in text and text.endswith("\n")
