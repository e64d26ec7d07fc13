"""The exporter's metrics: per task (read from the monitor at scrape time) and per account.

Task series are written on each scrape from the monitor's own views, so a task the
monitor no longer watches simply stops being exported: cardinality is the watch list's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callwatch.api.states import NOT_FOUND as NOT_FOUND_LOOK
from callwatch.api.states import JobState
from callwatch.monitor import Monitor, TaskView
from callwatch.textsafe import sanitize

NAME_LIMIT = 64  # characters of a task name in a label: names are free text, often long
NOT_FOUND = NOT_FOUND_LOOK.slug
# One series per state in the state set: the API's states and "the API says no such task".
STATES = (*(s.slug for s in JobState), NOT_FOUND)
# Problem kinds always exported (0 when absent), so that an alert can compare with 0.
PROBLEM_KINDS = ("auth", "ip_denied", "timestamp", "clock_skew", "rate_limited", "server",
                 "network", "timeout", "bad_response", "api", "list", "list_cap", "tasks",
                 "internal")
# Request durations: the API answers in tens of ms; the monitor's deadline is >= 8 s.
DURATION_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)

STATE_HELP = "The task's state (one series per state, 1 for the current)"

# Every metric name the exporter serves (the ops files are checked against this).
TASK_GAUGES = {
    "callwatch_task_progress_ratio": "Share of the task's numbers dialled (0-1)",
    "callwatch_task_called": "Numbers dialled so far",
    "callwatch_task_total": "Numbers in the task",
    "callwatch_task_success": "Calls answered",
    "callwatch_task_fail": "Calls not answered",
    "callwatch_task_eta_seconds": "Estimated seconds until the task is done (calling only)",
    "callwatch_task_calls_per_minute": "Recent dialling speed (calling only)",
    "callwatch_task_last_update_timestamp_seconds":
        "Unix time the task's values were last confirmed by the API",
}
GAUGE_NAMES = tuple(TASK_GAUGES)  # in the order TaskRenderer.render gives the values
ACCOUNT_GAUGES = {
    "callwatch_problem": "Account-wide problem in force (1) by kind",
    "callwatch_last_success_timestamp_seconds": "Unix time of the API's last good answer",
    "callwatch_api_up": "1 unless the API cannot be reached or refuses the credentials",
    "callwatch_watched_tasks": "Tasks the exporter watches",
    "callwatch_refresh_interval_seconds": "Seconds between refresh cycles (backoff included)",
}
# A counter: its rate is the poller's pulse (0: stalled), and requests per cycle can be
# read against the API counter (the exporter benchmark does).
CYCLES = "callwatch_refresh_cycles"
CYCLES_HELP = "Refresh cycles whose requests have all ended"


class ApiMetrics:
    """Counts and times each API attempt; ``observe`` is the client's observer."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "callwatch_api_requests", "API requests sent, by endpoint and outcome",
            ("endpoint", "outcome"), registry=registry)
        self.duration = Histogram(
            "callwatch_api_request_duration_seconds", "API request duration (one attempt)",
            ("endpoint",), buckets=DURATION_BUCKETS, registry=registry)

    def observe(self, endpoint: str, outcome: str, seconds: float) -> None:
        # Both come from the client's fixed vocabulary; sanitised all the same (labels).
        endpoint, outcome = sanitize(endpoint, 32), sanitize(outcome, 32)
        self.requests.labels(endpoint, outcome).inc()
        self.duration.labels(endpoint).observe(seconds)


class MonitorCollector(Collector):
    """Builds the account series from the monitor at each scrape."""

    def __init__(self, monitor: Monitor, profile: str,
                 wall: Callable[[], float] = time.time) -> None:
        self.monitor = monitor
        self.profile = sanitize(profile, NAME_LIMIT)
        self._wall = wall

    def describe(self) -> Iterable[Metric]:
        return ()  # unchecked: the series differ scrape to scrape

    def _to_wall(self, monotonic: float | None) -> float | None:
        return to_wall(self.monitor, monotonic, self._wall())

    def collect(self) -> Iterator[Metric]:
        """The account's series (the task series: :func:`render_tasks`, for speed)."""
        yield from self._account()

    def _account(self) -> Iterator[Metric]:
        mon = self.monitor
        problem = GaugeMetricFamily("callwatch_problem", ACCOUNT_GAUGES["callwatch_problem"],
                                    labels=("kind", "profile"))
        present = {p.kind for p in mon.problems}
        for kind in dict.fromkeys((*PROBLEM_KINDS, *sorted(present))):
            problem.add_metric([sanitize(kind, 32), self.profile], float(kind in present))
        yield problem
        last = self._to_wall(mon.last_success)
        plain = {
            "callwatch_last_success_timestamp_seconds": last,
            "callwatch_api_up": float(not mon.unreachable and not mon.blocked),
            "callwatch_watched_tasks": float(mon.watched_count),
            "callwatch_refresh_interval_seconds": mon.effective_interval,
        }
        for name, value in plain.items():
            family = GaugeMetricFamily(name, ACCOUNT_GAUGES[name], labels=("profile",))
            if value is not None:
                family.add_metric([self.profile], value)
            yield family
        cycles = CounterMetricFamily(CYCLES, CYCLES_HELP, labels=("profile",))
        cycles.add_metric([self.profile], float(mon.cycles))
        yield cycles


def to_wall(monitor: Monitor, monotonic: float | None, wall_now: float) -> float | None:
    return None if monotonic is None else wall_now - (monitor.now() - monotonic)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_SPECIAL = {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}  # Python's spelling -> the format's


class TaskSource(Protocol):
    """What the renderer reads of the monitor."""

    @property
    def tasks(self) -> Mapping[int, TaskView]: ...

    def now(self) -> float: ...

    def confirmed_at(self, job_id: int) -> float | None: ...


class TaskRenderer:
    """Every watched task's series in the text format (0.0.4), written directly: through
    the client library's objects 1,000 tasks took ~115 ms a scrape. A task's labels and
    its ten state lines (most of the body) are kept between scrapes while its name and
    state stay the same, so a scrape writes only the numbers. A task not read yet has no
    series; a value the API has not given is absent, never 0."""

    def __init__(self, profile: str, wall: Callable[[], float] = time.time) -> None:
        self.profile = _label(sanitize(profile, NAME_LIMIT))
        self._wall = wall
        # job_id -> (task name, state slug, labels, state lines); rebuilt at each scrape,
        # so a task no longer watched leaves it.
        self._kept: dict[int, tuple[str | None, str, str, str]] = {}

    def _labels_and_states(self, job_id: int, name: str | None, current: str
                           ) -> tuple[str, str]:
        kept = self._kept.get(job_id)
        if kept is not None and kept[0] == name and kept[1] == current:
            return kept[2], kept[3]
        shown = sanitize(name or "", NAME_LIMIT)
        labels = f'job_id="{job_id}",task_name="{_label(shown)}",profile="{self.profile}"'
        states = "\n".join(f'callwatch_task_state{{{labels},callwatch_task_state="{s}"}} '
                           f'{"1.0" if s == current else "0.0"}' for s in STATES)
        return labels, states

    def render(self, monitor: TaskSource) -> str:
        lines: dict[str, list[str]] = {name: [] for name in TASK_GAUGES}
        outs = [lines[name].append for name in GAUGE_NAMES]
        states: list[str] = []
        kept: dict[int, tuple[str | None, str, str, str]] = {}
        offset = self._wall() - monitor.now()  # monotonic -> wall, once a scrape
        for view in monitor.tasks.values():
            job = view.job
            if job is None and not view.missing:
                continue
            name = job.task_name if job is not None else None
            current = NOT_FOUND if view.missing or job is None else job.state.slug
            labels, block = self._labels_and_states(view.job_id, name, current)
            kept[view.job_id] = (name, current, labels, block)
            states.append(block)
            confirmed = monitor.confirmed_at(view.job_id)
            if job is None:
                values: tuple[float | None, ...] = (None,) * 5 + (
                    view.eta, view.throughput, None if confirmed is None else confirmed + offset)
            else:
                progress = job.progress
                values = (None if progress is None else progress / 100, job.called,
                          job.num_cnt, job.success, job.fail, view.eta, view.throughput,
                          None if confirmed is None else confirmed + offset)
            for metric, add, value in zip(GAUGE_NAMES, outs, values, strict=True):
                if value is not None:
                    text = repr(float(value))
                    add(f"{metric}{{{labels}}} {_SPECIAL.get(text, text)}")
        self._kept = kept
        out: list[str] = []
        for metric, doc in TASK_GAUGES.items():
            out += [f"# HELP {metric} {doc}", f"# TYPE {metric} gauge", *lines[metric]]
        out += [f"# HELP callwatch_task_state {STATE_HELP}", "# TYPE callwatch_task_state gauge",
                *states]
        return "\n".join(out) + "\n"


def render_tasks(monitor: TaskSource, profile: str, wall: Callable[[], float] = time.time
                 ) -> str:
    """One scrape's task series, nothing kept (see :class:`TaskRenderer`)."""
    return TaskRenderer(profile, wall).render(monitor)


def exposed_names() -> set[str]:
    """Every metric name a scrape can show (Prometheus' names: counters end ``_total``,
    histograms have ``_bucket``/``_sum``/``_count``)."""
    histogram = "callwatch_api_request_duration_seconds"
    return {*TASK_GAUGES, *ACCOUNT_GAUGES, "callwatch_task_state", f"{CYCLES}_total",
            "callwatch_api_requests_total", f"{histogram}_bucket", f"{histogram}_sum",
            f"{histogram}_count"}
