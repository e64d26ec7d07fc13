"""`callwatch exporter`: the real command against the simulator on loopback, scraped
over HTTP. The simulator's clock is frozen where values are compared with its ground
truth; it runs where rates and retention are the point."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from callwatch.api.models import JobState, parse_detail_data
from callwatch.errors import NotFoundError
from callwatch.exporter import exposed_names
from callwatch.exporter.metrics import NAME_LIMIT, PROBLEM_KINDS, STATES
from callwatch.sim.server import RunningSim, serve_in_thread
from callwatch.textsafe import is_unsafe
from tests.helpers.common import make_client, make_state
from tests.helpers.exporter import Exporter, frozen_state, poll, run_exporter
from tests.helpers.oneshot import add_sim_job, run_cli, sim_env

HOSTILE = "\x1b]0;pwned\x07<script>alert(1)</script>\"\\" + "L" * 200

Samples = dict[str, list[tuple[dict[str, str], float]]]


@pytest.fixture(scope="module")
def frozen() -> Iterator[tuple[RunningSim, Exporter, int]]:
    state = frozen_state()
    with serve_in_thread(state) as sim:
        hostile = add_sim_job(sim.base_url, taskName=HOSTILE, numCnt=50, startIn=-5)
        ids = [str(j) for j in state.jobs]
        with run_exporter(sim.base_url, "--interval", "1", *ids) as exporter:
            yield sim, exporter, hostile


def by_job(samples: Samples, name: str) -> dict[int, float]:
    return {int(labels["job_id"]): value for labels, value in samples.get(name, [])}


def read_all(exporter: Exporter, count: int) -> Samples:
    """A scrape once every watched task has a progress ratio."""
    def ready() -> Samples | None:
        samples = exporter.scrape()
        return samples if len(by_job(samples, "callwatch_task_progress_ratio")) == count \
            else None
    return poll(ready, "every task's progress in the scrape")


def test_task_values_match_the_simulators_ground_truth(frozen: tuple[RunningSim, Exporter, int]
                                                      ) -> None:
    sim, exporter, _ = frozen
    samples = read_all(exporter, len(sim.state.jobs))
    ratio = by_job(samples, "callwatch_task_progress_ratio")
    called = by_job(samples, "callwatch_task_called")
    total = by_job(samples, "callwatch_task_total")
    for job_id in sim.state.jobs:
        truth = parse_detail_data(sim.state.ground_truth(job_id))
        assert truth.progress is not None and truth.called is not None
        assert ratio[job_id] == pytest.approx(truth.progress / 100)
        assert called[job_id] == truth.called
        assert total[job_id] == truth.num_cnt
    for metric, attr in (("callwatch_task_success", "success"), ("callwatch_task_fail", "fail")):
        for job_id, value in by_job(samples, metric).items():
            assert value == getattr(parse_detail_data(sim.state.ground_truth(job_id)), attr)


def test_state_is_a_state_set_with_one_current_state(frozen: tuple[RunningSim, Exporter, int]
                                                     ) -> None:
    sim, exporter, _ = frozen
    samples = read_all(exporter, len(sim.state.jobs))
    seen: dict[int, dict[str, float]] = {}
    for labels, value in samples["callwatch_task_state"]:
        seen.setdefault(int(labels["job_id"]), {})[labels["callwatch_task_state"]] = value
    assert set(seen) == set(sim.state.jobs)
    for job_id, states in seen.items():
        assert set(states) == set(STATES)
        current = [s for s, v in states.items() if v == 1]
        truth = JobState.from_code(sim.state.ground_truth(job_id)["status"])
        assert current == [truth.slug]


def test_labels_are_sanitised_and_capped(frozen: tuple[RunningSim, Exporter, int]) -> None:
    sim, exporter, hostile = frozen
    samples = read_all(exporter, len(sim.state.jobs))
    names = {int(labels["job_id"]): labels["task_name"]
             for labels, _ in samples["callwatch_task_progress_ratio"]}
    # Quote and backslash escaped in the exposition, read back as they were.
    assert names[hostile].startswith('?]0;pwned?<script>alert(1)</script>"\\L')
    assert len(names[hostile]) == NAME_LIMIT
    for labels, _ in samples["callwatch_task_progress_ratio"]:
        assert labels["profile"] == "env"
        assert not any(is_unsafe(c) for v in labels.values() for c in v)


def test_request_counter_and_histogram_agree(frozen: tuple[RunningSim, Exporter, int]) -> None:
    sim, exporter, _ = frozen
    read_all(exporter, len(sim.state.jobs))
    samples = exporter.scrape()
    counted: dict[str, float] = {}
    for labels, value in samples["callwatch_api_requests_total"]:
        assert labels["outcome"] == "ok", labels
        counted[labels["endpoint"]] = counted.get(labels["endpoint"], 0) + value
    timed = {labels["endpoint"]: value
             for labels, value in samples["callwatch_api_request_duration_seconds_count"]}
    assert "query" in counted and set(counted) <= {"query", "detail"}
    assert counted == timed
    # Every request the exporter made reached the simulator, and was counted once.
    assert sum(counted.values()) <= sum(sim.state.stats.values())


def test_account_metrics(frozen: tuple[RunningSim, Exporter, int]) -> None:
    sim, exporter, _ = frozen
    read_all(exporter, len(sim.state.jobs))
    samples = exporter.scrape()
    assert samples["callwatch_api_up"] == [({"profile": "env"}, 1.0)]
    problems = {labels["kind"]: value for labels, value in samples["callwatch_problem"]}
    assert set(PROBLEM_KINDS) <= set(problems) and not any(problems.values())
    [(_, last)] = samples["callwatch_last_success_timestamp_seconds"]
    assert time.time() - 60 < last <= time.time() + 1
    assert samples["callwatch_watched_tasks"] == [({"profile": "env"}, len(sim.state.jobs))]


def test_pages_for_people(frozen: tuple[RunningSim, Exporter, int]) -> None:
    sim, exporter, hostile = frozen
    status, ctype, body = exporter.get("/")
    assert status == 200 and ctype.startswith("text/html")
    assert 'href="/metrics"' in body
    read_all(exporter, len(sim.state.jobs))
    status, ctype, body = exporter.get("/tasks")
    assert status == 200 and ctype.startswith("text/html")
    assert "june-promo-01" in body and f"<td>{hostile}</td>" in body
    assert "?]0;pwned?&lt;script&gt;" in body
    assert "<script" not in body and "\x1b" not in body


def test_exposed_names_are_what_a_scrape_shows() -> None:
    """With the simulator's clock running, every metric appears (rates and ETAs too),
    and no other: the ops files are checked against exposed_names()."""
    state = make_state(12)
    calling = [j for j in state.jobs if state.ground_truth(j)["status"] == 1]
    with serve_in_thread(state) as sim, \
            run_exporter(sim.base_url, "--interval", "1", *map(str, calling)) as exporter:
        def all_there() -> set[str] | None:
            names = set(exporter.scrape())
            return names if names >= exposed_names() else None
        names = poll(all_there, "every metric in one scrape")
    assert names == exposed_names()


def test_finished_tasks_are_dropped_after_keep_finished() -> None:
    state = frozen_state()
    done = next(j for j in state.jobs if state.ground_truth(j)["status"] == 2)
    active = next(j for j in state.jobs if state.ground_truth(j)["status"] == 1)
    with serve_in_thread(state) as sim, run_exporter(
            sim.base_url, "--interval", "1", "--keep-finished", "3", str(done), str(active)
    ) as exporter:
        def shown() -> set[int]:
            return set(by_job(exporter.scrape(), "callwatch_task_progress_ratio"))
        poll(lambda: True if done in shown() else None, "the finished task, at first")
        poll(lambda: True if done not in shown() else None, "the finished task to go")
        assert shown() == {active}
        watched = exporter.scrape()["callwatch_watched_tasks"]
        assert watched == [({"profile": "env"}, 1.0)]


def test_all_active_discovers_the_unfinished_tasks() -> None:
    state = frozen_state()
    unfinished = {j for j in state.jobs
                  if not JobState.from_code(state.ground_truth(j)["status"]).finished}
    with serve_in_thread(state) as sim, \
            run_exporter(sim.base_url, "--interval", "1", "--all-active") as exporter:
        found = poll(lambda: ids if (ids := set(by_job(
            exporter.scrape(), "callwatch_task_progress_ratio"))) == unfinished else None,
            "the active tasks")
    assert found == unfinished


@pytest.mark.parametrize("args", [
    ["--listen", "0.0.0.0:9464", "1"],
    ["--listen", "192.0.2.1:9464", "--all-active"],
])
def test_a_non_loopback_listen_is_refused(args: list[str]) -> None:
    ran = run_cli(["exporter", *args], sim_env("http://127.0.0.1:9"))
    assert ran.code == 2
    assert ran.err.count("\n") == 1 and "--allow-remote" in ran.err and ran.out == ""


def test_nothing_to_watch_is_a_usage_error() -> None:
    ran = run_cli(["exporter"], sim_env("http://127.0.0.1:9"))
    assert ran.code == 2 and "--all-active" in ran.err


async def test_the_client_tells_its_observer_each_attempt() -> None:
    state = make_state(3)
    seen: list[tuple[str, str, float]] = []
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url) as client:
            client.observer = lambda *a: seen.append(a)
            await client.detail(next(iter(state.jobs)))
            with pytest.raises(NotFoundError):
                await client.detail(999)
            await asyncio.sleep(0)
    assert [(e, o) for e, o, _ in seen] == [("detail", "ok"), ("detail", "not_found")]
    assert all(s >= 0 for _, _, s in seen)
