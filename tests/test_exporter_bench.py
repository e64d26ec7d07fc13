"""The exporter benchmark (behaviour only: no timing is asserted)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from benchmarks.exporter import budget_met, per_cycle, quantile, render, target_row


@pytest.mark.e2e
def test_exporter_benchmark_counts_both_the_same_way_and_renders_its_table() -> None:
    from benchmarks.exporter import measure

    result = measure(tasks=30, cycles=2, interval=1.0)
    exporter, tui = result["exporter"], result["tui"]
    assert result["active"] > 0 and exporter["watched"] >= result["active"]
    assert exporter["cycles"] >= 2 and tui["cycles"] >= 2
    exp, app = per_cycle(exporter), per_cycle(tui)
    # The same planner: the list pages a cycle agree; the TUI may add its selected row's
    # detail, and nothing else separates them.
    assert exp["query"] >= 1 and abs(exp["query"] - app["query"]) < 0.5
    assert exp["requests"] <= app["requests"] <= exp["requests"] + 1.5
    assert budget_met(result)
    # /metrics was fetched during the counted cycles, and answered with every series.
    assert len(exporter["seconds"]) >= 2 and min(exporter["bytes"]) > 1000
    lines = render(result)
    assert "## 8. Exporter" in lines
    assert any(re.match(r"^\| 30 \(\d+ active\) \| [\d.]+ \(list [\d.]+, detail [\d.]+\) "
                        r"\| [\d.]+ \(list", line) for line in lines)
    rows = target_row(result)
    assert [r[0] for r in rows] == [
        "exporter requests/cycle vs the TUI's, 30 tasks",
        "/metrics render, 30 tasks (client-side p90, HTTP included)"]
    assert rows[0][3] is True and isinstance(rows[1][3], bool)


def _result(exporter_detail: int, tui_detail: int, times: list[float]) -> dict[str, Any]:
    return {"tasks": 1000, "active": 946, "cycles": 10, "interval": 2.0,
            "exporter": {"cycles": 10, "watched": 946, "seconds": times,
                         "bytes": [1_500_000] * len(times),
                         "stats": {"requests": 100 + exporter_detail, "query": 100,
                                   "detail": exporter_detail}},
            "tui": {"cycles": 10, "stats": {"requests": 100 + tui_detail, "query": 100,
                                            "detail": tui_detail}}}


def test_the_table_row_and_targets_from_a_result() -> None:
    result = _result(1, 10, [0.010, 0.020, 0.030, 0.040, 0.060])
    lines = render(result)
    assert lines[-1] == ("| 1,000 (946 active) | 10.1 (list 10.0, detail 0.1) "
                         "| 11.0 (list 10.0, detail 1.0) | 0.92 | 30.0 ms | 60.0 ms "
                         "| 60.0 ms | 5 | 1.50 MB |")
    budget, render_time = target_row(result)
    assert budget[1:] == ("10.1 vs 11.0 (list pages 10.0 vs 10.0)",
                          "equal list pages, no more in all (the TUI's selected row adds "
                          "a detail)", True)
    assert render_time[1:] == ("60.0 ms (max 60.0 ms)", "< 50 ms", False)
    # More than the TUI sends is a miss, as is another number of list pages.
    assert not budget_met(_result(12, 10, [0.01]))
    more_pages = _result(0, 0, [0.01])
    more_pages["exporter"]["stats"]["query"] = 110
    assert not budget_met(more_pages)
    assert target_row(_result(0, 0, []))[1][1:] == ("–", "< 50 ms", None)


def test_quantile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert quantile(values, 0.5) == 5.0
    assert quantile(values, 0.9) == 9.0
    assert quantile(values, 0.99) == 10.0
    assert quantile([3.0], 0.9) == 3.0
