"""Start-up: the first frame shows the first refresh, but a silent API never holds it."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from rich.console import RenderableType

from callwatch.sim.faults import Fault
from callwatch.tui.app import CallwatchApp
from callwatch.tui.footer import KeysFooter
from tests.helpers.tui import frozen_state, make_app, settle


def record_first_frame(monkeypatch: pytest.MonkeyPatch, app: CallwatchApp
                       ) -> list[tuple[int, list[str]]]:
    """(monitor cycles, task names in the table) when the first frame is painted."""
    seen: list[tuple[int, list[str]]] = []
    display = app._display

    def first(screen: Any, renderable: RenderableType | None) -> None:
        if renderable is not None and not seen:
            views = app.main.table.views.values()
            seen.append((app.monitor.cycles,
                         [v.job.task_name or "" for v in views if v.job is not None]))
        display(screen, renderable)

    monkeypatch.setattr(app, "_display", first)
    return seen


async def test_first_frame_shows_the_first_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(persist=False)
    seen = record_first_frame(monkeypatch, app)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
    _, names = seen[0]
    assert "june-promo-01" in names  # not an empty table first, then a full one


async def test_silent_api_does_not_hold_the_first_frame(
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = frozen_state()
    state.faults.script([], then=Fault.SLOW)  # no answer for longer than the test runs
    app = make_app(state, persist=False)
    seen = record_first_frame(monkeypatch, app)
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(100):
            if seen:
                break
            await pilot.pause(0.05)
        assert seen == [(0, [])]  # the UI is up, its rows waiting for the API
        await pilot.press("q")
    assert app.return_code == 0


def test_startup_gc_pauses_collections_and_always_restores_them() -> None:
    from callwatch.cli.common import YOUNG_GC_THRESHOLD
    from callwatch.cli.monitor_cmd import _startup_gc

    assert gc.isenabled()
    threshold = gc.get_threshold()
    try:
        with pytest.raises(RuntimeError), _startup_gc():
            assert not gc.isenabled()
            raise RuntimeError("build failed")
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # start-up objects are not walked again
        # Fewer, larger young collections for the monitor's churn; the older ones as they were.
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *threshold[1:])
        gc.disable()
        with _startup_gc():
            pass
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.unfreeze()
        gc.enable()
        gc.set_threshold(*threshold)


def footer_shows(app: CallwatchApp) -> list[str]:
    """The descriptions on the footer's line, read back from what it draws."""
    footer = app.screen.query_one(KeysFooter)
    line = footer.render().plain
    found = [d for _, _, d, _ in footer.items if f" {d} " in f"{line} "]
    return found if len(found) == len(footer.items) else []


def bindings_shown(app: CallwatchApp) -> list[str]:
    return [b.description for _, b, _, _ in app.screen.active_bindings.values() if b.show]


async def test_footer_follows_the_bindings_and_has_the_keys_at_once() -> None:
    app = make_app(persist=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        assert "Quit" in footer_shows(app)
        assert footer_shows(app) == bindings_shown(app)
        await pilot.press("slash")  # the filter input takes the focus: other bindings
        await pilot.pause()
        assert footer_shows(app) == bindings_shown(app)
        await pilot.press("escape")
        await pilot.pause()
        assert footer_shows(app) == bindings_shown(app)
