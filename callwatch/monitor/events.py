"""Alert events, detected in the monitor core (the TUI, the headless runner and the rules
all see the same ones).

Each condition fires once per episode: ``stalled`` until progress (``resumed``),
``fail_rate`` until the rate drops back below the threshold minus a margin,
``balance_low`` until the balance is back above the threshold plus a margin,
``api_problem`` until the banner is clear (``recovered``).

:meth:`EventDetector.feed` runs for every changed task view, up to 10,000 per cycle:
a dict lookup and a few comparisons, nothing allocated unless an event fires. Stalls
are found by :meth:`EventDetector.tick` once a cycle, from the front of a dict kept in
order of last progress (only the overdue tasks are looked at).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from callwatch.api.models import JobState
from callwatch.monitor.problems import Problem
from callwatch.monitor.views import TaskView
from callwatch.store.alerts_config import AlertSettings
from callwatch.textsafe import sanitize

log = logging.getLogger(__name__)

FAIL_RATE_MARGIN = 5.0  # percentage points below the threshold that end a fail_rate episode
BALANCE_MARGIN = 0.1  # the balance must be 10% above the threshold to have recovered
_FAILED = (JobState.SUBMISSION_FAILED, JobState.CANCELLED)
# Problems that are not the API failing us: a corrected clock, a capped list, tasks of
# their own (their rows say so).
_NOT_API = frozenset({"clock_skew", "list_cap", "tasks"})

EventSink = Callable[["Event"], None]


@dataclass(frozen=True, slots=True)
class Event:
    event: str  # finished, failed, stalled, resumed, fail_rate, balance_low, api_problem,
    # recovered
    at: str  # ISO 8601, UTC
    profile: str | None
    text: str  # one line for people (toast, webhook, desktop)
    job_id: int | None = None
    task_name: str | None = None  # sanitised
    state: str | None = None  # the task's state slug
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The stable shape: event, at, profile, [jobId, taskName, state], detail, text."""
        out: dict[str, Any] = {"event": self.event, "at": self.at, "profile": self.profile}
        if self.job_id is not None:
            out["jobId"] = self.job_id
            out["taskName"] = self.task_name
            out["state"] = self.state
        out["detail"] = dict(self.detail)
        out["text"] = self.text
        return out


class Watched(Protocol):
    """What the detector reads of the monitor."""

    @property
    def problems(self) -> tuple[Problem, ...]: ...

    def confirmed_at(self, job_id: int) -> float | None: ...

    def view(self, job_id: int) -> TaskView | None: ...


class _Track:
    """One task as the detector last saw it."""

    __slots__ = ("called", "high_fail", "since", "stalled", "status")

    def __init__(self, status: int | None, called: int | None, now: float) -> None:
        self.status = status
        self.called = called
        self.since = now  # monotonic time the called count last moved
        self.stalled = False
        self.high_fail = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventDetector:
    def __init__(self, settings: AlertSettings | None = None, profile: str | None = None,
                 *, wall: Callable[[], datetime] = _utc_now) -> None:
        self.settings = settings or AlertSettings()
        self.profile = profile
        self.sinks: list[EventSink] = []
        self._wall = wall
        self._tracks: dict[int, _Track] = {}
        # Calling tasks not (yet) stalled, oldest progress first.
        self._calling: OrderedDict[int, None] = OrderedDict()
        self._problem_since: float | None = None
        self._problem_fired = False
        self._balance_low = False
        self.fired = 0

    # --- per task (hot path) --------------------------------------------------------

    def feed(self, views: Iterable[TaskView], now: float) -> None:
        tracks, calling = self._tracks, self._calling
        rate_limit, min_calls = self.settings.fail_rate, self.settings.min_calls
        for view in views:
            job = view.job
            if job is None:
                continue
            jid = view.job_id
            t = tracks.get(jid)
            status, called = job.status_code, job.call_num  # Job.called, inline
            if called is None and job.success is not None and job.fail is not None:
                called = job.success + job.fail
            if t is None:
                tracks[jid] = _Track(status, called, now)
                if status == 1:  # JobState.CALLING
                    calling[jid] = None
                continue
            if status != t.status:
                t.status = status
                self._state_changed(jid, t, view, now)
            if called != t.called:
                t.called, t.since = called, now
                if status == 1:
                    if t.stalled:
                        t.stalled = False
                        self._fire("resumed", view, {"called": called})
                    calling[jid] = None
                    calling.move_to_end(jid)
            fail = job.fail
            if fail is not None and called:
                if not t.high_fail:
                    if called >= min_calls and fail * 100.0 > rate_limit * called:
                        t.high_fail = True
                        self._fire("fail_rate", view, {
                            "failRate": round(100.0 * fail / called, 1), "fail": fail,
                            "called": called, "threshold": rate_limit})
                elif fail * 100.0 < (rate_limit - FAIL_RATE_MARGIN) * called:
                    t.high_fail = False

    def _state_changed(self, jid: int, t: _Track, view: TaskView, now: float) -> None:
        assert view.job is not None
        state = view.job.state
        if state is JobState.CALLING:
            t.since = now
            self._calling[jid] = None
            self._calling.move_to_end(jid)
        else:
            self._calling.pop(jid, None)
            t.stalled = False  # suspended or over: no longer a stall
        if state is JobState.COMPLETED:
            self._fire("finished", view, {"called": view.job.called,
                                          "success": view.job.success})
        elif state in _FAILED:
            self._fire("failed", view, {"called": view.job.called})

    def marker(self, job_id: int) -> str | None:
        """The row's marker: ``stalled`` or ``high fail`` (None: nothing to say)."""
        t = self._tracks.get(job_id)
        if t is None:
            return None
        return "stalled" if t.stalled else "high fail" if t.high_fail else None

    def forget(self, job_ids: Iterable[int]) -> None:
        for jid in job_ids:
            self._tracks.pop(jid, None)
            self._calling.pop(jid, None)

    # --- once a cycle ---------------------------------------------------------------

    def tick(self, monitor: Watched, now: float) -> None:
        """Stalls and account-wide problems (time passing is the event here)."""
        stall = self.settings.stall_minutes * 60.0
        overdue: list[int] = []
        for jid in self._calling:
            if now - self._tracks[jid].since < stall:
                break  # the rest moved later
            overdue.append(jid)
        for jid in overdue:
            t = self._tracks[jid]
            view, confirmed = monitor.view(jid), monitor.confirmed_at(jid)
            if view is None:  # no longer watched
                self.forget((jid,))
            elif confirmed is not None and confirmed - t.since >= stall:
                # The API said so after the stall time: unchanged, not just unheard of.
                t.stalled = True
                del self._calling[jid]
                self._fire("stalled", view, {"called": t.called,
                                             "minutes": round((now - t.since) / 60.0, 2)})
        self._problems(monitor.problems, now)

    def _problems(self, problems: tuple[Problem, ...], now: float) -> None:
        api = [p for p in problems if p.level != "info" and p.kind not in _NOT_API]
        if not api:
            if self._problem_fired:
                self._fire("recovered", None, {"condition": "api_problem"},
                           "the API answers again")
            self._problem_since, self._problem_fired = None, False
            return
        if self._problem_since is None:
            self._problem_since = now
        lasted = now - self._problem_since
        if not self._problem_fired and lasted >= self.settings.problem_minutes * 60.0:
            self._problem_fired = True
            first = api[0]
            self._fire("api_problem", None, {
                "kinds": [p.kind for p in api], "message": sanitize(first.message, 300),
                "minutes": round(lasted / 60.0, 2)},
                f"API problem for {lasted / 60.0:.0f} min: {sanitize(first.message, 200)}")

    def balance_seen(self, amount: float) -> None:
        threshold = self.settings.balance_below
        if threshold is None:
            return
        if not self._balance_low and amount < threshold:
            self._balance_low = True
            self._fire("balance_low", None, {"balance": amount, "threshold": threshold},
                       f"balance {amount:,.2f} is below {threshold:,.2f}")
        elif self._balance_low and amount >= threshold * (1 + BALANCE_MARGIN):
            self._balance_low = False
            self._fire("recovered", None, {"condition": "balance_low", "balance": amount},
                       f"balance back to {amount:,.2f}")

    # --- firing ---------------------------------------------------------------------

    def _fire(self, name: str, view: TaskView | None, detail: dict[str, Any],
              text: str | None = None) -> None:
        job = view.job if view is not None else None
        task_name = sanitize(job.task_name or "", 200) if job is not None else None
        event = Event(name, self._wall().isoformat(timespec="seconds"), self.profile,
                      text or _task_text(name, view, task_name, detail),
                      view.job_id if view is not None else None, task_name,
                      job.state.slug if job is not None else None, detail)
        self.fired += 1
        for sink in list(self.sinks):
            try:
                sink(event)
            except Exception:  # one broken sink must not silence the others
                log.exception("an event sink failed")


def _task_text(name: str, view: TaskView | None, task_name: str | None,
               detail: Mapping[str, Any]) -> str:
    jid = view.job_id if view is not None else "?"
    label = f"#{jid} {task_name}".rstrip()
    job = view.job if view is not None else None
    if name == "finished":
        return f"{label} finished: completed"
    if name == "failed":
        return f"{label} finished: {job.state.label if job else 'failed'}"
    if name == "stalled":
        return f"{label} stalled: no new calls for {detail['minutes']:g} min"
    if name == "resumed":
        return f"{label} resumed calling"
    if name == "fail_rate":
        return f"{label} high failure rate: {detail['failRate']:g}% of {detail['called']:,} calls"
    return f"{label} {name}"
