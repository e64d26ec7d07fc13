"""The exporter's task series as text: what a scrape writes after the tasks change
(a renderer keeps each task's labels and state lines between scrapes)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from callwatch.api.models import Job
from callwatch.exporter.metrics import TaskRenderer, render_tasks
from callwatch.monitor import TaskView


@dataclass
class FakeMonitor:
    """What the renderer reads: the views, a monotonic clock, when each was confirmed."""

    tasks: dict[int, TaskView] = field(default_factory=dict)
    clock: float = 100.0
    confirmed: dict[int, float] = field(default_factory=dict)

    def now(self) -> float:
        return self.clock

    def confirmed_at(self, job_id: int) -> float | None:
        return self.confirmed.get(job_id)


def view(jid: int, status: int = 1, name: str = "t", **values: object) -> TaskView:
    job = Job(job_id=jid, status_code=status, task_name=name, num_cnt=100, call_num=40,
              success=30, fail=10, rate=40.0)
    return TaskView(jid, job, **values)  # type: ignore[arg-type]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def state_of(text: str, jid: int) -> list[str]:
    return [dict(labels)["callwatch_task_state"] for (name, labels), v in samples(text).items()
            if name == "callwatch_task_state" and dict(labels)["job_id"] == str(jid) and v == 1]


def names_of(text: str) -> set[str]:
    return {dict(labels)["task_name"] for (_, labels) in samples(text)}


def test_a_kept_renderer_writes_what_a_fresh_one_writes_as_tasks_change() -> None:
    mon = FakeMonitor({1: view(1), 2: view(2, name="b")}, confirmed={1: 90.0})
    kept = TaskRenderer("ops", wall=lambda: 1_000_000.0)

    def fresh() -> str:
        return render_tasks(mon, "ops", wall=lambda: 1_000_000.0)

    assert kept.render(mon) == fresh()
    assert state_of(kept.render(mon), 1) == ["calling"]
    # The state changes, a name changes, a task goes missing, one leaves, one arrives.
    mon.tasks[1] = view(1, status=2)
    mon.tasks[2] = view(2, name="renamed")
    mon.tasks[3] = TaskView(3, missing=True)
    mon.tasks[4] = TaskView(4)  # not read yet: no series
    text = kept.render(mon)
    assert text == fresh()
    assert state_of(text, 1) == ["completed"]
    assert state_of(text, 3) == ["not_found"]
    assert "b" not in names_of(text) and "renamed" in names_of(text)
    del mon.tasks[2]
    text = kept.render(mon)
    assert text == fresh() and "renamed" not in names_of(text)
    assert set(kept._kept) == {1, 3}  # what left the watch list is not kept


def test_values_are_written_in_the_format_wall_time_included() -> None:
    mon = FakeMonitor({1: view(1, eta=float("inf"), throughput=12.5)}, clock=100.0,
                      confirmed={1: 90.0})
    got = samples(TaskRenderer("ops", wall=lambda: 5000.0).render(mon))
    by_name = {name: v for (name, labels), v in got.items() if dict(labels)["job_id"] == "1"}
    assert by_name["callwatch_task_progress_ratio"] == 0.4
    assert by_name["callwatch_task_called"] == 40
    assert by_name["callwatch_task_calls_per_minute"] == 12.5
    assert math.isinf(by_name["callwatch_task_eta_seconds"])
    # Confirmed 10 s before the monotonic now: 10 s before the wall's now.
    assert by_name["callwatch_task_last_update_timestamp_seconds"] == 4990.0
