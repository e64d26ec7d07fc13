"""What the monitor hands upward (immutable views and updates) and the per-task state
behind each view (mutable, the monitor's own)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from callwatch.api.fastinit import install_fast_init
from callwatch.api.models import FINISHED_CODES, Job, JobState
from callwatch.errors import (
    ApiError,
    ApiTimeoutError,
    BadResponseError,
    CallwatchError,
    HttpStatusError,
    NetworkError,
)
from callwatch.monitor.history import History
from callwatch.monitor.problems import Problem

CALLING = JobState.CALLING.value
TASK_BACKOFF_CAP = 120.0  # s: the longest a failing task waits between tries


@dataclass(frozen=True, slots=True)
class TaskIssue:
    """A task's own problem: its row says ``word``, its detail the rest."""

    word: str  # short, for the state column: "timeout", "HTTP 502", "bad reply", ...
    message: str  # the error in full (foreign text: sanitise before showing)
    since: float  # monotonic time of the first failure in this run of failures
    tries: int  # failed tries in a row


@dataclass(frozen=True, slots=True)
class TaskView:
    """What the UI shows for one watched task (immutable; compare to diff).

    ``job`` holds the last good values; ``issue`` says why they may be old. A view with
    neither is "loading": no answer of any kind yet."""

    job_id: int
    job: Job | None = None
    missing: bool = False  # the API says -24: no such task
    issue: TaskIssue | None = None
    throughput: float | None = None  # calls per minute
    eta: float | None = None  # seconds


install_fast_init(TaskView)  # one per changed task per cycle


@dataclass(frozen=True, slots=True)
class Update:
    """What changed since the last update: one answer's worth (the live loop) or one
    whole cycle's (``Monitor.run_cycle``)."""

    at: float  # monotonic time
    changed: tuple[TaskView, ...]
    finished: tuple[int, ...]  # tasks that became finished
    added: tuple[int, ...]  # tasks discovered (all-active mode)
    problems: tuple[Problem, ...]  # account-wide, for the banner
    requests: int  # sent since the last update
    ok: bool  # no request failed
    skipped: bool = False  # nothing was asked (paused or blocked)

    @classmethod
    def merged(cls, updates: list[Update], at: float, problems: tuple[Problem, ...]) -> Update:
        """Several updates as one (a whole cycle's): the last view of each task."""
        views: dict[int, TaskView] = {}
        finished: dict[int, None] = {}
        added: dict[int, None] = {}
        for u in updates:
            views.update((v.job_id, v) for v in u.changed)
            finished.update(dict.fromkeys(u.finished))
            added.update(dict.fromkeys(u.added))
        return cls(at, tuple(views.values()), tuple(finished), tuple(added), problems,
                   sum(u.requests for u in updates), ok=all(u.ok for u in updates))


def issue_word(error: CallwatchError) -> str:
    if isinstance(error, ApiTimeoutError):
        return "timeout"
    if isinstance(error, HttpStatusError):
        return f"HTTP {error.status}"
    if isinstance(error, BadResponseError):
        return "bad reply"
    if isinstance(error, NetworkError):
        return "no connection"
    if isinstance(error, ApiError) and error.code is not None:
        return f"API {error.code}"
    return "error"


@dataclass(slots=True)
class TaskState:
    view: TaskView
    history: History = field(default_factory=History)
    outside_list: bool = False  # active, but the list query does not return it
    last: Job | None = None  # the record applied last (the client reuses unchanged ones)
    confirmed: float | None = None  # monotonic time the values were last confirmed
    in_flight: bool = False  # a detail request for it is out
    retry_at: float = 0.0  # its own backoff: no detail request before this time

    def update(self, job: Job, now: float) -> bool:
        """Apply a good answer; returns whether the view changed.

        The hot path at 10,000 tasks (run for every record of every cycle): an unchanged
        list record is the very same object (the parse memo), so identity decides; a
        full comparison is made only where a detail and a list record meet."""
        view = self.view
        old, last = view.job, self.last
        same = job is last
        if not same and last is not None and (job.has_detail or last.has_detail):
            same = job == last
        if old is None or (not same and not old.has_detail):
            merged = job  # list over list: the newer record is the whole truth
        else:
            merged = old if same else old.merged(job)
        self.last = job
        self.confirmed = now
        self.retry_at = 0.0
        called = merged.call_num  # Job.called, inline: this runs ~8,000 times a cycle
        if called is None and merged.success is not None and merged.fail is not None:
            called = merged.success + merged.fail
        calling = merged.status_code == CALLING
        rate = merged.rate  # Job.progress's usual case, inline
        progress = rate if rate is not None and 0.0 <= rate <= 100.0 else merged.progress
        per_min = self.history.record(now, called, progress, calling)
        # A failed detail is cleared by a good detail, not by a list record: the row
        # keeps saying so until the request that failed works again.
        issue = None if job.has_detail else view.issue
        if same and not calling and issue is view.issue and not view.missing:
            return False  # the same record as last time
        total = merged.num_cnt
        eta = None  # eta_seconds, inline
        if per_min is not None and per_min > 0 and total is not None:
            eta = max(0.0, (total - (called or 0)) / per_min * 60.0)
        if (issue is view.issue and not view.missing and per_min == view.throughput
                and eta == view.eta and (merged is old or merged == old)):
            return False  # a new record, the same values (a detail meeting its list record)
        self.view = TaskView(view.job_id, merged, False, issue, per_min, eta)
        return True

    def fail(self, error: CallwatchError, now: float, interval: float,
             rng: random.Random) -> bool:
        """A failed answer: the row says so and keeps its last good values; the task
        backs off on its own (exponential, capped, with jitter)."""
        old = self.view.issue
        word = issue_word(error)
        tries = (old.tries if old else 0) + 1
        since = old.since if old is not None else now
        delay = min(TASK_BACKOFF_CAP, interval * 2 ** min(tries - 1, 10))
        self.retry_at = now + delay * (0.75 + 0.5 * rng.random())
        self.view = TaskView(self.view.job_id, self.view.job, issue=TaskIssue(
            word, error.message, since, tries))
        return True

    def mark_missing(self, message: str, now: float) -> bool:
        was = self.view.missing
        self.view = TaskView(self.view.job_id, self.view.job, missing=True,
                             issue=TaskIssue("not found", message, now, 1))
        return not was

    def eligible(self, now: float) -> bool:
        """Whether a detail request may be sent now."""
        return not self.in_flight and not self.view.missing and self.retry_at <= now

    def ended(self, before: Job | None) -> bool:
        """Whether the task turned finished since its values were ``before`` (known
        then, unfinished then, finished now)."""
        return (before is not None and before.status_code not in FINISHED_CODES
                and self.finished)

    @property
    def finished(self) -> bool:
        job = self.view.job  # by code, not state: asked for every task every cycle
        return job is not None and job.status_code in FINISHED_CODES
