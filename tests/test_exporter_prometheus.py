"""A real Prometheus scrapes the real exporter, which polls the simulator; all on
loopback. Prometheus' HTTP API must then give a task's progress as the simulator has it,
load the alert rules, and run every dashboard query."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callwatch.api.models import parse_detail_data
from callwatch.sim.server import free_port, serve_in_thread
from tests.helpers.common import require_tools
from tests.helpers.exporter import OPS, frozen_state, poll, prometheus_query, run_exporter

pytestmark = pytest.mark.e2e


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Prometheus on a free loopback port; yields its URL and its config file (written
    by the test, then reloaded through the API)."""
    require_tools("prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\n")
    proc = subprocess.Popen(
        [shutil.which("prometheus") or "prometheus", f"--config.file={config}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--web.enable-lifecycle", "--log.level=warn"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: _ok(url + "/-/ready") or None, "Prometheus to be ready")
        yield url, config
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ok(url: str, method: str = "GET") -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method),
                                    timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: dict[str, Any] = json.loads(resp.read())
    return body


def test_prometheus_scrapes_the_exporter(prometheus: tuple[str, Path]) -> None:
    prom, config = prometheus
    state = frozen_state()
    job_id = next(j for j in state.jobs if state.ground_truth(j)["status"] == 1)
    truth = parse_detail_data(state.ground_truth(job_id))
    assert truth.progress is not None and 0 < truth.progress < 100
    with serve_in_thread(state) as sim, \
            run_exporter(sim.base_url, "--interval", "1", *map(str, state.jobs)) as exporter:
        target = exporter.url.removeprefix("http://")
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: [{json.dumps(str(OPS / 'callwatch-alerts.yml'))}]\n"
            "scrape_configs:\n"
            "  - job_name: callwatch\n"
            f"    static_configs: [{{targets: [{json.dumps(target)}]}}]\n")
        assert _ok(prom + "/-/reload", "POST")

        def progress() -> float | None:
            result = prometheus_query(
                prom, f'callwatch_task_progress_ratio{{job_id="{job_id}"}}')["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        ratio = poll(progress, "Prometheus to have the task's progress")
        assert ratio == pytest.approx(truth.progress / 100)
        [up] = prometheus_query(prom, 'up{job="callwatch"}')["data"]["result"]
        assert up["value"][1] == "1"
        _check_rules(prom)
        _check_dashboard_queries(prom)


def _check_rules(prom: str) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        groups = _get(prom + "/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "").startswith("2")
                                      and r["health"] != "unknown" for r in rules) else None
    rules = poll(evaluated, "the alert rules to be evaluated")
    assert sorted(r["name"] for r in rules) == ["CallwatchApiDown", "CallwatchExporterDown",
                                               "CallwatchHighFailRate", "CallwatchTaskStalled"]
    assert all(r["health"] == "ok" for r in rules), rules
    # The API answers and the exporter is up: neither of those alerts is even pending.
    firing = {a["labels"]["alertname"] for r in rules for a in r.get("alerts", [])}
    assert not firing & {"CallwatchApiDown", "CallwatchExporterDown"}


def _check_dashboard_queries(prom: str) -> None:
    """Every dashboard query runs on the real Prometheus (PromQL syntax, functions)."""
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs
    for expr in exprs:
        body = prometheus_query(prom, expr.replace("$profile", ".*"))
        assert body["status"] == "success", (expr, body)
    table = prometheus_query(prom, 'callwatch_task_progress_ratio{profile=~".*"}')
    assert table["data"]["result"], "the progress table has rows"
