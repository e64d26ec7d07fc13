"""Cancel and suspend from the monitor (Pilot), against the simulator on loopback."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from callwatch.api.models import JobState
from callwatch.monitor import Monitor
from callwatch.sim.app import SimState
from callwatch.sim.server import RunningSim, serve_in_thread
from callwatch.store.config import Config, Profile
from callwatch.tui.actions import ActionScreen
from callwatch.tui.app import CallwatchApp
from tests.helpers.common import make_client, make_state

CANARY = "Canary-Secret-7f3q"


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    state = make_state()
    state.config.keys = {"tuiKey01": CANARY}
    with serve_in_thread(state) as running:
        yield running


def calling(state: SimState) -> list[int]:
    now = state.clock.now()
    return sorted(j.job_id for j in state.jobs.values() if j.status_at(now) == 1)


def app_for(sim: RunningSim, *, allow: bool = False, settings: Config | None = None,
            profile: str | None = None) -> CallwatchApp:
    client = make_client(sim.base_url, key="tuiKey01", secret=CANARY)
    monitor = Monitor(client, interval=3600)
    return CallwatchApp(monitor, account="test · itnio", profile=profile,
                        settings=settings or Config(), initial=sorted(sim.state.jobs),
                        persist=False, allow_actions=allow)


async def until(pilot: Pilot[int], check: object, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not callable(check) or not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def ready(pilot: Pilot[int], app: CallwatchApp, job_id: int) -> None:
    await until(pilot, lambda: app.monitor.cycles >= 1, "the first cycle")
    app.main.flush()
    await pilot.pause()
    app.main.table.select_id(job_id)
    await pilot.pause()


def audit_lines() -> list[dict[str, object]]:
    path = Path(os.environ["CALLWATCH_STATE_DIR"]) / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] \
        if path.exists() else []


def on_main(app: CallwatchApp) -> bool:
    return app.screen is app.main


def toasts(app: CallwatchApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_x_with_actions_off_shows_how_to_enable_and_sends_nothing(
        sim: RunningSim) -> None:
    target = calling(sim.state)[0]
    app = app_for(sim)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(pilot, app, target)
        assert "ACTIONS ON" not in app.main.status.build().plain
        await pilot.press("x")
        await pilot.press("z")
        await pilot.pause()
        assert app.screen is app.main  # no dialog
        hints = [t for t in toasts(app) if "--allow-actions" in t and "actions = true" in t]
        assert len(hints) == 2
    assert sim.state.stats["cancel"] == sim.state.stats["provisional"] == 0
    assert sim.state.jobs[target].status_at(sim.state.clock.now()) == 1
    assert audit_lines() == []


async def test_cancel_needs_the_typed_id_then_the_row_says_cancelled(
        sim: RunningSim) -> None:
    target = calling(sim.state)[0]
    app = app_for(sim, allow=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(pilot, app, target)
        assert "ACTIONS ON" in app.main.status.build().plain
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), "the dialog")
        dialog = app.screen
        assert isinstance(dialog, ActionScreen)
        shown = str(dialog.query_one("#action-tasks").render())
        name = sim.state.jobs[target].name
        assert str(target) in shown and name in shown and "calling" in shown
        await pilot.press("enter")  # nothing typed: nothing happens
        await pilot.press(*"5000", "enter")  # a wrong id
        await pilot.pause()
        assert app.screen is dialog
        assert "not the task id" in str(dialog.query_one("#action-error").render())
        assert sim.state.stats["cancel"] == 0
        dialog.query_one("#action-input", Input).value = ""
        await pilot.press(*str(target), "enter")
        await until(pilot, lambda: on_main(app), "the dialog to close")

        def row_cancelled() -> bool:
            app.main.flush()
            return "cancelled" in app.main.table.cell_text(target, "state").plain

        await until(pilot, row_cancelled, "the row to say cancelled")
        assert any(t == f"#{target} cancelled" for t in toasts(app))
    assert sim.state.stats["cancel"] == 1
    assert sim.state.jobs[target].status_at(sim.state.clock.now()) == 4
    [line] = audit_lines()
    assert line["action"] == "cancel" and line["ids"] == [target]
    assert line["profile"] is None and line["host"] == "127.0.0.1"
    text = (Path(os.environ["CALLWATCH_STATE_DIR"]) / "audit.jsonl").read_text()
    assert CANARY not in text and "tuiKey01" not in text


async def test_escape_aborts_and_marks_act_on_several(sim: RunningSim) -> None:
    first, second = calling(sim.state)[:2]
    settings = Config(profiles={"ops": Profile("ops", actions=True)})
    app = app_for(sim, settings=settings, profile="ops")  # the profile enables actions
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(pilot, app, first)
        assert "ACTIONS ON" in app.main.status.build().plain
        table = app.main.table
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), "the dialog")
        assert "No resume call is documented" in str(
            app.screen.query_one("#action-tasks").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("space")
        table.select_id(second)
        await pilot.press("space")
        assert table.marked == {first, second}
        assert table._row(first).text.startswith("●")  # the mark, whatever the colours
        assert "2 marked" in str(app.main.query_one("#info").render())
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), "the dialog")
        await pilot.press(*str(first), "enter")  # several: the count is asked, not an id
        await pilot.pause()
        assert isinstance(app.screen, ActionScreen)
        app.screen.query_one("#action-input", Input).value = ""
        await pilot.press("2", "enter")
        await until(pilot, lambda: on_main(app), "the dialog to close")
        await until(pilot, lambda: all(
            (v := app.monitor.view(j)) is not None and v.job is not None
            and v.job.state is JobState.SUSPENDED for j in (first, second)),
            "both tasks suspended")
        assert table.marked == set()
        assert not table._row(first).text.startswith("●")
    assert sim.state.stats["provisional"] == 2  # one request per task
    [line] = audit_lines()
    assert line["action"] == "suspend" and line["ids"] == sorted([first, second])


async def test_keys_remap_by_binding_id(sim: RunningSim) -> None:
    target = calling(sim.state)[0]
    app = app_for(sim, allow=True, settings=Config(keys={"cancel_tasks": "C", "mark": "M"}))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(pilot, app, target)
        await pilot.press("x", "space")
        await pilot.pause()
        assert on_main(app) and app.main.table.marked == set()
        await pilot.press("M")
        assert app.main.table.marked == {target}
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ActionScreen), "the dialog")
        await pilot.press("escape")
    assert sim.state.stats["cancel"] == 0
