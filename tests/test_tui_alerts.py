"""Alerts in the TUI: the balance in the header, monitor events as toasts (the bell for
finished and failed), and the row's ``stalled`` marker."""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.widgets import Static

from callwatch.cli.demo import demo_client
from callwatch.monitor import Monitor
from callwatch.monitor.balance import BalancePoller
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp
from tests.helpers.common import ManualClock
from tests.helpers.tui import FIXED, frozen_state, settle

pytestmark = pytest.mark.usefixtures("utc")


def _app(clock: ManualClock) -> CallwatchApp:
    state = frozen_state()
    state.wallet.gift = 50.0
    monitor = Monitor(demo_client(state), interval=3600.0, clock=clock,
                      list_window_days=3650)
    monitor.watch(state.jobs)
    monitor.balance = BalancePoller()
    return CallwatchApp(monitor, account="test · itnio", profile="test", settings=Config(),
                        clock=clock, persist=False,
                        wall=lambda: datetime.fromtimestamp(FIXED).astimezone())


@pytest.mark.parametrize(("size", "shown"), [
    ((80, 24), "bal 10k"),  # narrow: short, the balance alone
    ((120, 40), "bal 10,000.00 +gift 50.00"),
])
async def test_the_header_shows_the_balance_and_gift(size: tuple[int, int],
                                                     shown: str) -> None:
    app = _app(ManualClock(1000.0))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        line = app.main.status.build().plain
        assert line.endswith(f"│ {shown}")
        assert "credit" not in line  # zero: not shown
        # On screen, whole: the part that holds it ends inside the terminal.
        tail = list(app.main.status.query(Static))[-1]
        assert shown in str(tail.render()) and tail.region.right <= size[0]


async def test_a_stalled_task_is_a_toast_and_a_row_marker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock(1000.0)
    app = _app(clock)
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        # The simulator's clock is frozen: calling tasks make no calls while 6 min pass.
        clock.advance(360)
        before = app.monitor.cycles
        app.monitor.refresh_now()
        await settle(pilot, app, before + 1)
        calling = 5000600  # calling in the demo mix
        # Five calling tasks stall in the same cycle: one toast names them (the first few).
        assert any(f"#{calling}" in n.message and "stalled" in n.message
                   and n.title == "Task stalled: 5 tasks" for n in app._notifications)
        assert "stalled" in app.main.table.cell_text(calling, "state").plain
        assert not bells  # a stall toasts; only finished and failed ring
