"""Monitor behaviour in the UI: finishing tasks, banners, -24 rows, literal API text,
worker errors, layouts, and crash output without secrets."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from dataclasses import replace
from typing import Any, cast

import pytest
from rich.console import Console, RenderableType
from textual.widgets import Static

from callwatch.tui.detail import DetailPane
from callwatch.tui.format import bar, duration, sparkline
from tests.helpers.tui import BANNERS, frozen_state, make_app, settle, settle_detail

pytestmark = pytest.mark.usefixtures("utc")


async def test_finished_task_toasts_and_rings(monkeypatch: pytest.MonkeyPatch) -> None:
    state = frozen_state()
    app = make_app(state)
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        state.clock.advance(30)  # 5000600 (240 numbers at 4/s, 80% done) completes
        before = app.monitor.cycles
        app.monitor.refresh_now()
        await settle(pilot, app, before + 1)
        assert any("5000600" in n.message and "completed" in n.message
                   for n in app._notifications)
        assert bells


async def test_bell_and_toast_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from callwatch.store.config import Config, UiSettings

    state = frozen_state()
    app = make_app(state, settings=Config(ui=UiSettings(bell=False, toast=False)))
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        state.clock.advance(30)
        before = app.monitor.cycles
        app.monitor.refresh_now()
        await settle(pilot, app, before + 1)
        assert not bells and not any("finished" in n.message for n in app._notifications)


async def test_banner_shows_problems_and_hides_without() -> None:
    app = make_app(problems=[BANNERS["auth"], BANNERS["rate_limited"]])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        banner = app.main.banner
        assert banner.display
        text = str(banner.render())
        assert "ERROR" in text and "Bad credentials" in text and "callwatch login" in text
        assert "WARN" in text and "Rate limited" in text
        banner.show(())
        assert not banner.display


async def test_unknown_task_is_marked_in_its_row_not_the_banner() -> None:
    app = make_app(watch=[5000600, 999])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        for _ in range(40):
            view = app.monitor.view(999)
            if view is not None and view.missing:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        cell = app.main.table.cell_text(999, "state")
        assert "not found" in cell.plain
        assert not app.main.banner.display


async def test_api_text_is_literal_and_stripped_of_controls() -> None:
    state = frozen_state()
    state.jobs[5000600].name = "[bold red]boom[/] \x1b[2J"
    app = make_app(state)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        cell = app.main.table.cell_text(5000600, "name")
        assert cell.plain.startswith("[bold red]boom[/]") and "\x1b" not in cell.plain
        assert not cell.spans


async def test_internal_error_becomes_a_banner_and_clears(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        original = app.monitor.current_plan

        def broken(*args: object) -> object:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.monitor, "current_plan", broken)
        app.monitor.refresh_now()
        for _ in range(100):
            if app.main.banner.display:
                break
            await pilot.pause(0.05)
        assert "Internal error in callwatch: RuntimeError" in str(app.main.banner.render())
        assert app.is_running and app.poll_worker and not app.poll_worker.is_finished
        monkeypatch.setattr(app.monitor, "current_plan", original)
        before = app.monitor.cycles
        await pilot.press("r")
        await settle(pilot, app, before + 1)
        await pilot.pause(0.2)
        assert not app.main.banner.display


async def test_detail_pane_inline_only_on_big_terminals() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert not app.main.query_one("#detail", DetailPane).display
        assert app.main.table.column_keys == [
            "id", "name", "state", "progress", "ok4", "fail4", "eta"]
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.main.query_one("#detail", DetailPane).display
        assert "called" in app.main.table.column_keys


def shown(static: Static) -> str:
    """The text a Static holds, rendered as a terminal would show it."""
    console = Console(width=140, file=io.StringIO(), record=True)
    console.print(cast(RenderableType, static.content))
    return console.export_text()


async def test_detail_config_part_is_drawn_again_only_when_it_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters move every cycle; the content/config group (a dear Rich table) does not,
    and is not drawn again for them. When it does change, it shows the new values."""
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, app)
        await settle_detail(pilot, app)
        pane = app.main.query_one("#detail", DetailPane)
        view = pane.view
        assert view is not None and view.job is not None
        config = pane.query_one("#detail-config", Static)
        updates: list[object] = []
        original = config.update

        def counted(*args: Any, **kwargs: Any) -> None:
            updates.append(args)
            original(*args, **kwargs)

        monkeypatch.setattr(config, "update", counted)
        moved = replace(view.job, success=(view.job.success or 0) + 7)
        pane.show(replace(view, job=moved), pane.fresh)
        await pilot.pause()
        assert updates == []
        assert f"{moved.success:,}" in shown(pane.query_one("#detail-body", Static))
        renamed = replace(moved, text="a brand new TTS text")
        pane.show(replace(view, job=renamed), pane.fresh)
        await pilot.pause()
        assert len(updates) == 1
        assert "a brand new TTS text" in shown(config)


def test_formatting_helpers() -> None:
    assert duration(133) == "2m 13s" and duration(5) == "5s" and duration(3720) == "1h 02m"
    assert bar(45).plain == "████       45%"
    assert bar(100).plain.endswith("100%") and len(bar(3).plain) == len(bar(100).plain)
    assert sparkline((0.0, 50.0, 100.0)) == "▁▄█"


CRASH_SCRIPT = textwrap.dedent('''
    import sys
    from callwatch.api.signing import Secret
    from tests.helpers.tui import make_app

    app = make_app(persist=False)

    def explode() -> None:
        secret = Secret("canary-7f3a9")
        revealed = secret.reveal()  # a plain str local, as careless code would hold
        raise RuntimeError("deliberate crash " + str(len(revealed)))

    app.action_copy_id = explode
    app.call_later(lambda: app.set_timer(0.5, lambda: app.run_action("copy_id")))
    app.run(headless=True, size=(100, 30))
    sys.exit(app.return_code or 0)
''')


def test_crash_output_never_shows_locals_or_secrets(tmp_path: object) -> None:
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT], capture_output=True,
                          text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "deliberate crash" in out  # the traceback is shown ...
    assert "canary" not in out  # ... but not the locals


async def test_a_removed_task_does_not_come_back_with_the_next_batch() -> None:
    """An answer for the task is waiting for the next flush when it is removed: the
    flush must not put its row back (it once did: a ghost row nobody updates)."""
    from callwatch.monitor import Update

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        main, victim = app.main, 5000601
        view = app.monitor.view(victim)
        assert view is not None and app.monitor.cycles > 0
        main.take_update(Update(app.monitor.now(), (view,), (), (), (), 1, True))
        assert main._flush_timer is not None  # batched: waiting for the flush
        app.monitor.unwatch([victim])
        main.forget([victim])
        main.flush()
        assert victim not in main.table.visible_ids()
        assert victim not in main.table.views
