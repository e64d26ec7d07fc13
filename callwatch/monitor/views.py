"""What the monitor hands upward: per-task views and cycle results (immutable)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from callwatch.api.models import Job
from callwatch.monitor.history import History
from callwatch.monitor.problems import Problem


@dataclass(frozen=True, slots=True)
class TaskView:
    """What the UI shows for one watched task (immutable; compare to diff)."""

    job_id: int
    job: Job | None = None
    missing: bool = False  # the API says -24: no such task
    error: str | None = None
    throughput: float | None = None  # calls per minute
    eta: float | None = None  # seconds
    sparkline: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class CycleResult:
    at: float  # monotonic time the cycle ended
    changed: tuple[TaskView, ...]
    finished: tuple[int, ...]  # tasks that became finished during this cycle
    added: tuple[int, ...]  # tasks discovered (all-active mode)
    problems: tuple[Problem, ...]
    requests: int
    ok: bool  # every request of the cycle succeeded
    skipped: bool = False  # nothing was asked (paused or blocked)


@dataclass
class TaskState:
    view: TaskView
    history: History = field(default_factory=History)
    outside_list: bool = False  # active, but the list query does not return it
    last: Job | None = None  # the record applied last (the client reuses unchanged ones)


def view_changed(old: TaskView | None, task: TaskState) -> bool:
    """Whether a task's view changed this cycle. A longer sparkline alone is no change:
    the old view stays (the sparkline catches up with the next visible change)."""
    if old is None or old is task.view:
        return old is None
    if old == task.view or replace(task.view, sparkline=old.sparkline) == old:
        task.view = old
        return False
    return True
