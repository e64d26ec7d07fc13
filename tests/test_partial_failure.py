"""Every task stands alone: scripted per-task faults over the real simulator (uvicorn on
loopback) hold back only their own tasks, and hostile list counts size no work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.models import JobState
from callwatch.monitor import Monitor, TaskView, Update
from callwatch.monitor.listing import MAX_DISCOVERY_PAGES
from callwatch.sim.app import SimState
from callwatch.sim.faults import Fault
from callwatch.sim.model import CALLING
from callwatch.sim.remote import set_list_lie, set_task_fault
from callwatch.sim.server import serve_in_thread
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp
from tests.helpers.common import make_client, make_state

FAULTS = {"hang": "timeout", "http_502": "HTTP 502", "truncated": "bad reply",
          "wrong_shape": "bad reply"}


def _view(mon: Monitor, job_id: int) -> TaskView:
    view = mon.view(job_id)
    assert view is not None
    return view


def _client(base_url: str) -> ApiClient:
    # A hung request ends at its 2 s deadline; other faults are retried once.
    return make_client(base_url, timeouts=Timeouts(connect=1, read=1.5, write=1, pool=1),
                       retry=RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1,
                                         deadline=2.0))


def _calling_ids(state: SimState, count: int) -> list[int]:
    now = state.clock.now()
    ids = [j for j, job in state.jobs.items() if job.status_at(now) == CALLING][:count]
    assert len(ids) == count
    return ids


async def _until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_failing_tasks_hold_back_only_themselves() -> None:
    # ~1,000 tasks in the account, 7 watched: after the first cycle (a list, to learn
    # the account's size) details are cheaper than the list's 10 pages.
    state = make_state(1000)
    with serve_in_thread(state) as sim:
        ids = _calling_ids(state, 7)
        bad, healthy = ids[:4], ids[4:]
        for jid, kind in zip(bad, FAULTS, strict=False):
            set_task_fault(sim.base_url, jid, kind)
        client = _client(sim.base_url)
        mon = Monitor(client, interval=1.0)
        mon.watch(ids)
        updates: list[Update] = []
        task = asyncio.create_task(mon.run(updates.append))
        await _until(lambda: all(_view(mon, j).job is not None for j in healthy), 10)
        # Each failing row says its own problem, the hung one within its deadline.
        await _until(lambda: all(_view(mon, j).issue is not None for j in bad), 15)
        # The healthy rows had their values before the hung request ended (in the order
        # of the updates: whatever the machine's speed).
        def first(check: Callable[[TaskView], bool]) -> int:
            return next(i for i, u in enumerate(updates) if any(check(v) for v in u.changed))
        hang_ended = first(lambda v: v.job_id == bad[0] and v.issue is not None)
        for j in healthy:
            valued = first(lambda v, jid=j: v.job_id == jid and v.job is not None)  # type: ignore[misc]
            assert valued < hang_ended
        for jid, kind in zip(bad, FAULTS, strict=False):
            issue = _view(mon, jid).issue
            assert issue is not None and issue.word == FAULTS[kind], (kind, issue)
            assert issue.tries >= 1
        assert {p.kind for p in mon.problems} == {"tasks"}  # not an account problem
        assert "4 tasks failing" in mon.problems[0].message
        # Healthy tasks keep their interval meanwhile (one detail each a second), while
        # one request hangs.
        confirmed = {j: mon.confirmed_at(j) for j in healthy}
        healthy_before = state.stats["requests"]
        await asyncio.sleep(3.0)
        assert all(mon.confirmed_at(j) > confirmed[j] for j in healthy)  # type: ignore[operator]
        per_second = (state.stats["requests"] - healthy_before) / 3.0
        assert per_second <= len(ids) + 1  # failing tasks back off; nothing is a storm
        # The hung task was not asked again while its request was out: in ~6 s, at most
        # 3 tries (2 s deadline each, then 1 s and 2 s of its own backoff), each at most
        # 2 requests (the client's retry inside the deadline). Asked every cycle: ~12.
        assert state.stats["task_fault_hang"] <= 6
        assert all(mon.confirmed_at(j) is not None for j in healthy)
        assert all(_view(mon, j).issue is None for j in healthy)
        # Faults cleared: each recovers on its first good answer (r lifts backoffs).
        for jid in bad:
            set_task_fault(sim.base_url, jid, "none")
        mon.refresh_now()
        await _until(lambda: all(_view(mon, j).issue is None and _view(mon, j).job is not None
                                 for j in bad), 5.0)
        assert mon.failing == 0 and not mon.problems
        mon.stop()
        await asyncio.wait_for(task, 3)
        await client.aclose()


async def test_not_found_is_a_row_word_and_never_retried() -> None:
    state = make_state(1000)
    with serve_in_thread(state) as sim:
        jid = _calling_ids(state, 1)[0]
        set_task_fault(sim.base_url, jid, "not_found")
        client = _client(sim.base_url)
        mon = Monitor(client, interval=1.0)
        mon.watch([jid])
        await mon.run_cycle()
        view = _view(mon, jid)
        assert view is not None and view.missing and view.issue and view.issue.word == "not found"
        before = state.stats["requests"]
        await mon.run_cycle()
        assert state.stats["requests"] == before  # nothing asked for a missing task
        await client.aclose()


async def test_a_list_claiming_a_billion_pages_costs_a_handful_of_requests() -> None:
    state = make_state(400)
    with serve_in_thread(state) as sim:
        set_list_lie(sim.base_url, pages=1_000_000_000, records_per_page=3)
        client = _client(sim.base_url)
        mon = Monitor(client, interval=1.0, all_active=True)
        for _ in range(3):
            r = await mon.run_cycle()
            assert r.requests <= 2, r  # page 1 is short: the list ends there
        assert len(mon.watched) <= 3
        # Full pages for ever: the pass stops at its cap and says so.
        set_list_lie(sim.base_url, pages=1_000_000_000, records_per_page=100)
        r = await mon.run_cycle()
        assert r.requests <= MAX_DISCOVERY_PAGES + 5
        assert "list_cap" in {p.kind for p in r.problems}
        await client.aclose()


async def test_tui_rows_say_their_own_problem_and_stale_rows_are_marked() -> None:
    state = make_state(1000)
    with serve_in_thread(state) as sim:
        ids = _calling_ids(state, 5)
        set_task_fault(sim.base_url, ids[0], "hang")
        set_task_fault(sim.base_url, ids[1], "http_502")
        client = _client(sim.base_url)
        mon = Monitor(client, interval=1.0)
        app = CallwatchApp(mon, account="partial · itnio", settings=Config(),
                           initial=ids, persist=False)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.main.table

            def state_cell(jid: int) -> str:
                return table.cell_text(jid, "state").plain

            async def until(check: object, timeout: float) -> None:
                deadline = time.monotonic() + timeout
                while not check():  # type: ignore[operator]
                    assert time.monotonic() < deadline
                    await pilot.pause(0.05)

            await until(lambda: all(jid in table.views and table.views[jid].job is not None
                                    for jid in ids[2:]), 10)
            await until(lambda: "HTTP 502" in state_cell(ids[1]), 10)
            await until(lambda: "timeout" in state_cell(ids[0]), 15)
            assert state_cell(ids[0]) == "⚠ timeout"
            assert "2 failing" in app.main.status.build().plain
            assert "2 tasks failing" in str(app.main.banner.render())
            assert JobState.CALLING.label in state_cell(ids[2])
            # The API goes away: every row with values is marked stale, in words too.
            state.faults.script([], then=Fault.DROP)
            await until(lambda: mon.unreachable, 15)
            app.main.tick()
            await pilot.pause()
            assert table.cell_text(ids[2], "eta").plain.startswith("⌛")
            pressed = time.monotonic()
            await pilot.press("q")
        assert time.monotonic() - pressed < 5  # "at once": no request or answer is waited for
        assert app.return_code == 0
        await client.aclose()


def test_list_command_ends_at_once_against_a_billion_page_claim() -> None:
    from callwatch.sim.remote import control
    from tests.helpers.oneshot import run_cli, sim_env

    state = make_state(40)
    with serve_in_thread(state) as sim:
        set_list_lie(sim.base_url, pages=1_000_000_000, records_per_page=3)
        started = time.monotonic()
        ran = run_cli(["list", "--json"], sim_env(sim.base_url))
        assert ran.code == 0, ran.err
        assert len(ran.json()) == 3
        assert time.monotonic() - started < 20
        served = control(sim.base_url, "stats")
        assert served["requests"] <= 3, served  # one short page, and that is the end


async def test_quits_at_random_moments_of_a_1s_cycle_exit_cleanly() -> None:
    """q pressed at random moments of a 1 s cycle (answers landing while the screens
    go away): always exit 0, never an exception. CALLWATCH_QUITS=200 for the long run."""
    import os
    import random

    from callwatch.cli.demo import demo_client
    from tests.helpers.tui import frozen_state

    rng = random.Random(11)
    for _ in range(int(os.environ.get("CALLWATCH_QUITS", "10"))):
        mon = Monitor(demo_client(frozen_state(200)), interval=1.0)
        mon.watch(range(5000600, 5000800))
        app = CallwatchApp(mon, account="quit · itnio", settings=Config(), persist=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(rng.uniform(0.0, 1.2))
            await pilot.press("q")
        assert app.return_code == 0


async def test_uncorrectable_clock_skew_backs_off_like_a_rate_limit() -> None:
    """The server's clock 30 days off: its Date header is implausible, so no correction;
    every request is -16. The monitor backs off (it retried every cycle: 114 requests in
    60 s at --interval 1 with 3 ids)."""
    from callwatch.sim.remote import control

    state = make_state(12)
    with serve_in_thread(state) as sim:
        control(sim.base_url, "skew", {"seconds": 30 * 86400})
        client = _client(sim.base_url)
        mon = Monitor(client, interval=1.0)
        mon.watch(list(state.jobs)[:3])
        updates: list[Update] = []
        task = asyncio.create_task(mon.run(updates.append))
        await asyncio.sleep(6.5)
        mon.stop()
        await asyncio.wait_for(task, 5)
        assert "timestamp" in {p.kind for p in mon.problems}
        assert mon.backoff >= 4  # x2 a cycle
        # Cycles 1, 2 and 4 s apart: at most 4 requests in 6.5 s (not 7).
        assert control(sim.base_url, "stats")["requests"] <= 4
        await client.aclose()
