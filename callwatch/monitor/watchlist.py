"""The watch list: every watched task's state, and what the screens may read of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from callwatch.api.models import FINISHED_CODES, Job, RecordMemo
from callwatch.monitor.views import TaskState, TaskView


class WatchList:
    """Watched tasks by id (insertion order), the selected one, and the failing ones."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tasks: dict[int, TaskState] = {}
        self._selected: int | None = None
        self._failing: set[int] = set()  # tasks with their own problem (not missing)
        # The list's parse cache: an unchanged record is not parsed again.
        self.memo: RecordMemo = {}

    @property
    def watched(self) -> list[int]:
        return list(self._tasks)

    @property
    def watched_count(self) -> int:
        return len(self._tasks)  # without copying the ids (the header asks every second)

    @property
    def tasks(self) -> dict[int, TaskView]:
        return {jid: t.view for jid, t in self._tasks.items()}

    def view(self, job_id: int) -> TaskView | None:
        task = self._tasks.get(job_id)
        return task.view if task else None

    def confirmed_at(self, job_id: int) -> float | None:
        """Monotonic time the task's values were last confirmed by the API."""
        task = self._tasks.get(job_id)
        return task.confirmed if task else None

    def sparkline(self, job_id: int) -> tuple[float, ...]:
        task = self._tasks.get(job_id)
        return task.history.progress_series() if task else ()

    def watch(self, job_ids: Iterable[int]) -> list[int]:
        tasks = self._tasks
        ids = job_ids if isinstance(job_ids, list | tuple) else list(job_ids)
        if not ids or set(ids) <= tasks.keys():  # discovery names them all, every cycle
            return []
        added = []
        for jid in ids:
            if jid not in tasks:
                tasks[jid] = TaskState(TaskView(jid))
                added.append(jid)
        return added

    def unwatch(self, job_ids: Iterable[int]) -> None:
        for jid in job_ids:
            self._tasks.pop(jid, None)
            self._failing.discard(jid)
            if self._selected == jid:
                self._selected = None

    def select(self, job_id: int | None) -> None:
        self._selected = job_id

    @property
    def selected(self) -> int | None:
        return self._selected

    def now(self) -> float:
        return self._clock()

    @property
    def failing(self) -> int:
        """Watched tasks whose last request failed (the missing ones aside)."""
        return len(self._failing)

    def apply(self, records: Iterable[Job], now: float) -> tuple[list[TaskView], list[int]]:
        """List records onto their watched tasks: the views that changed, and the tasks
        that turned finished. Run for every record of every page: a few lookups each."""
        changed: list[TaskView] = []
        finished: list[int] = []
        tasks, failing = self._tasks, self._failing
        for job in records:
            task = tasks.get(job.job_id)
            if task is None:
                continue
            task.outside_list = False
            before = task.view.job
            if task.update(job, now):
                view = task.view
                if view.issue is None:
                    failing.discard(job.job_id)
                changed.append(view)
                if (before is not None and before.status_code not in FINISHED_CODES
                        and job.status_code in FINISHED_CODES):  # task.ended, inline
                    finished.append(job.job_id)
        return changed, finished

    def _active_ids(self) -> list[int]:
        """Watched tasks neither missing nor finished (``TaskState.finished``, inline:
        this runs over every task every cycle)."""
        finished = FINISHED_CODES
        return [jid for jid, t in self._tasks.items()
                if not (v := t.view).missing and (v.job is None
                                                  or v.job.status_code not in finished)]

    def mark_outside_list(self, job_ids: Iterable[int]) -> None:
        for jid in job_ids:
            task = self._tasks.get(jid)
            if task is not None and task.view.job is not None and not task.finished:
                task.outside_list = True
