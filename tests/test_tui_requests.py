"""The TUI's cycles against a loopback simulator: requests counted at the server."""

from __future__ import annotations

import time

from callwatch.monitor import Monitor
from callwatch.sim.server import serve_in_thread
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp
from tests.helpers.common import make_client, make_state


async def test_app_cycles_stay_within_the_planners_promise() -> None:
    state = make_state(300)
    now = state.clock.now()
    active = [j.job_id for j in state.jobs.values() if j.status_at(now) not in (2, 3, 4)]
    with serve_in_thread(state) as sim:
        monitor = Monitor(make_client(sim.base_url), interval=3600)
        app = CallwatchApp(monitor, account="test", profile=None, settings=Config(),
                           initial=active, persist=False)
        async with app.run_test(size=(160, 50)) as pilot:
            deadline = time.monotonic() + 20
            while monitor.cycles < 1 and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.pause(0.6)  # the selected row's debounced detail cycle
            for _ in range(3):
                cycles = monitor.cycles
                plan = monitor.current_plan()
                finished_before = {j for j, v in monitor.tasks.items()
                                   if v.job and v.job.state.finished}
                state.stats.clear()
                monitor.refresh_now()
                while monitor.cycles == cycles and time.monotonic() < deadline:
                    await pilot.pause(0.02)
                finals = sum(1 for j, v in monitor.tasks.items() if v.job and
                             v.job.state.finished and j not in finished_before)
                assert state.stats["requests"] <= plan.expected_requests + finals
                assert app.main.table.row_count == len(active)
            app.exit()
