"""Pilot tests: every key of the monitor, asserting on state."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from textual import events

from callwatch.api.types import parse_job_ids
from callwatch.store.config import Config, Profile
from callwatch.store.state import load_ui_state, ui_state_file
from callwatch.tui.app import CallwatchApp
from callwatch.tui.browse import BrowseScreen
from callwatch.tui.detail import DetailScreen
from callwatch.tui.footer import KeysFooter
from callwatch.tui.main import MAIN_BINDINGS
from callwatch.tui.modals import AddJobsScreen, ConfirmScreen, HelpScreen
from tests.helpers.tui import frozen_state, make_app, settle

pytestmark = pytest.mark.usefixtures("utc")


def on_main(app: CallwatchApp) -> bool:
    return app.screen is app.main


def names(app: CallwatchApp) -> dict[int, str]:
    return {jid: (v.job.task_name or "") for jid, v in app.monitor.tasks.items() if v.job}


async def test_moves_with_j_k_arrows_g_G() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.main.table
        ids = table.visible_ids()
        assert table.selected_id == ids[0]
        await pilot.press("j")
        assert table.selected_id == ids[1]
        await pilot.press("down", "down")
        assert table.selected_id == ids[3]
        await pilot.press("k")
        assert table.selected_id == ids[2]
        await pilot.press("up")
        assert table.selected_id == ids[1]
        await pilot.press("G")
        assert table.selected_id == ids[-1]
        await pilot.press("g")
        assert table.selected_id == ids[0]
        assert app.monitor.selected == ids[0]


async def test_enter_opens_detail_and_escape_returns() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.job_id == app.main.table.visible_ids()[1]
        await pilot.press("escape")
        assert on_main(app)


async def test_filter_by_name_and_id_then_escape_clears() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        table = app.main.table
        everything = set(table.visible_ids())
        await pilot.press("slash", *"promo")
        expected = {j for j, n in names(app).items() if "promo" in n}
        assert expected and set(table.visible_ids()) == expected
        await pilot.press("enter")
        assert table.has_focus and table.filter_text == "promo"
        assert table.selected_id in expected
        await pilot.press("escape")
        assert set(table.visible_ids()) == everything and table.filter_text == ""
        await pilot.press("slash", *"5000603")
        assert table.visible_ids() == [5000603]
        await pilot.press("escape")
        assert set(table.visible_ids()) == everything


async def test_keys_typed_in_one_burst_after_slash_reach_the_filter() -> None:
    """Over SSH or in a paste, "/608<enter>" arrives at once: no key may go astray."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        table = app.main.table
        burst = [("slash", "/"), ("6", "6"), ("0", "0"), ("8", "8"), ("enter", "\r")]
        for key, char in burst:  # all queued before any is handled
            app.post_message(events.Key(key, char))
        await pilot.pause(0.2)
        assert table.filter_text == "608" and table.visible_ids() == [5000608]
        assert table.has_focus and not app.main.query_one("#filter").display
        await pilot.press("enter")  # with the filter closed, enter opens the detail
        assert isinstance(app.screen, DetailScreen) and app.screen.job_id == 5000608
        await pilot.press("escape")
        for key, char in [("slash", "/"), ("a", "a"), ("slash", "/"), ("b", "b")]:
            app.post_message(events.Key(key, char))
        await pilot.pause(0.2)
        # Reopening selects the old filter (typing replaces it); "/" is a character there.
        assert table.filter_text == "a/b"


async def test_sort_cycles_and_reverses_keeping_the_cursor_on_its_job() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        table = app.main.table
        await pilot.press("j", "j", "j")
        chosen = table.selected_id
        await pilot.press("s")
        assert table.sort_key == "name"
        by_name = names(app)
        assert table.visible_ids() == sorted(by_name, key=lambda j: by_name[j].lower())
        assert table.selected_id == chosen
        await pilot.press("S")
        assert table.sort_reverse
        assert table.visible_ids() == sorted(by_name, key=lambda j: by_name[j].lower(),
                                             reverse=True)
        assert table.selected_id == chosen
        await pilot.press("s", "s")
        assert table.sort_key == "progress"
        progress = [app.monitor.tasks[j].job.progress or 0.0  # type: ignore[union-attr]
                    for j in table.visible_ids()]
        assert progress == sorted(progress, reverse=True)
        assert table.selected_id == chosen


async def test_pause_resume_and_status_line() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        assert app.monitor.paused
        assert "PAUSED" in app.main.status.build().plain
        cycles = app.monitor.cycles
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.monitor.cycles == cycles  # paused: no requests
        await pilot.press("p")
        assert not app.monitor.paused
        await settle(pilot, app, cycles + 1)
        assert "PAUSED" not in app.main.status.build().plain


async def test_refresh_now_runs_a_cycle() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        before = app.monitor.cycles
        await pilot.press("r")
        await settle(pilot, app, before + 1)
        assert app.monitor.cycles > before


async def test_interval_plus_minus_clamped_at_one_second() -> None:
    app = make_app(interval=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("plus")
        assert app.monitor.interval == 10
        for _ in range(8):
            await pilot.press("minus")
        assert app.monitor.interval == 1
        assert "every 1s" in app.main.status.build().plain


async def test_add_jobs_validates_and_persists() -> None:
    app = make_app(watch=[5000600])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        assert isinstance(app.screen, AddJobsScreen)
        await pilot.press(*"5000601 abc", "enter")
        assert isinstance(app.screen, AddJobsScreen)
        error = str(app.screen.query_one("#add-error").render())
        assert "not a job id" in error and "abc" in error
        first = app.monitor.cycles
        await pilot.press(*("backspace",) * 4, *", 5000602", "enter")
        assert on_main(app)
        assert app.monitor.watched == [5000600, 5000601, 5000602]
        await settle(pilot, app, first + 1)
        assert set(app.main.table.visible_ids()) == {5000600, 5000601, 5000602}
    assert load_ui_state("test").watched == (5000600, 5000601, 5000602)


def test_parse_job_ids() -> None:
    assert parse_job_ids("1, 2 3,,4 2") == [1, 2, 3, 4]
    for bad in ("", "x", "-1", "0", "1.5"):
        with pytest.raises(ValueError):
            parse_job_ids(bad)


async def test_remove_asks_first_and_persists() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("j")
        victim = app.main.table.selected_id
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert victim in app.monitor.watched
        await pilot.press("d", "y")
        assert victim not in app.monitor.watched
        assert victim not in app.main.table.visible_ids()
    saved = json.loads(ui_state_file("test").read_text())
    assert victim not in saved["watched"] and len(saved["watched"]) == 11


async def test_browse_marks_and_watches() -> None:
    state = frozen_state()
    app = make_app(state, watch=[])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("b")
        assert isinstance(app.screen, BrowseScreen)
        screen = app.screen
        for _ in range(100):
            if screen.page is not None:
                break
            await pilot.pause(0.05)
        assert screen.page is not None and screen.page.total > 0
        first = app.monitor.cycles  # read before the keys: the cycle may end at once
        await pilot.press("space", "space", "enter")
        assert on_main(app)
        assert len(app.monitor.watched) == 2
        await settle(pilot, app, first + 1)
        before = app.monitor.cycles
        await pilot.press("b")
        for _ in range(100):
            if isinstance(app.screen, BrowseScreen) and app.screen.page is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("A")
        assert app.monitor.all_active
        await settle(pilot, app, before + 1)
        active = [j for j, s in state.jobs.items() if s.status_at(state.clock.now())
                  not in (2, 3, 4)]
        assert set(active) <= set(app.monitor.watched)


async def test_copy_id(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "c")
        assert copied == [str(app.main.table.visible_ids()[1])]
        assert any("Copied job id" in n.message for n in app._notifications)


async def test_export_writes_visible_rows() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"call", "enter", "e")
        visible = app.main.table.visible_ids()
        assert app.last_export is not None
        csv_path, json_path = app.last_export
    rows = list(csv.DictReader(csv_path.open()))
    assert [int(r["jobId"]) for r in rows] == visible
    body = json.loads(json_path.read_text())
    assert [t["jobId"] for t in body["tasks"]] == visible
    assert Path(os.environ["CALLWATCH_STATE_DIR"]) in csv_path.parents


async def test_profile_switch_without_profiles_says_how() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        assert on_main(app)
        assert any("callwatch login --profile" in n.message for n in app._notifications)


async def test_help_lists_every_binding() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {b.id for b in MAIN_BINDINGS} <= ids
        await pilot.press("escape")
        assert on_main(app)


async def test_quit_saves_and_exits_zero() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "q")
    assert app.return_code == 0
    assert load_ui_state("test").sort.column == "name"


async def test_keymap_from_config_remaps_by_binding_id() -> None:
    app = make_app(settings=Config(keys={"pause": "z"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        assert not app.monitor.paused
        await pilot.press("z")
        assert app.monitor.paused


async def test_state_persists_across_restarts() -> None:
    app = make_app(watch=[5000600, 5000601, 5000604])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "S", "slash", *"500060", "enter", "q")
    again = make_app(watch=[])
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot, again)
        table = again.main.table
        assert again.monitor.watched == [5000600, 5000601, 5000604]
        assert (table.sort_key, table.sort_reverse, table.filter_text) == ("name", True,
                                                                          "500060")


async def test_command_palette_offers_the_actions() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p", *"pause", "enter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.monitor.paused


async def test_switch_profile_with_P() -> None:
    import asyncio

    from callwatch.cli.demo import demo_client
    from callwatch.store.state import UiState, save_ui_state
    from tests.helpers.tui import frozen_state

    other = frozen_state()
    save_ui_state("night", UiState(watched=(5000601, 5000602)))
    calls: list[str] = []

    async def connector(profile: str) -> tuple[Any, str]:
        calls.append(profile)
        await asyncio.sleep(0.2)  # a slow keyring: the UI keeps answering meanwhile
        return demo_client(other), f"{profile} · onbuka"

    app = make_app(settings=Config(profiles={"test": Profile("test"), "night": Profile("night")}))
    app.connector = connector
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        old_client = app.monitor.client
        await pilot.press("P")
        await pilot.pause()
        await pilot.press("enter")  # "night" sorts first
        for _ in range(100):
            if app.profile == "night":
                break
            await pilot.pause(0.05)
        assert calls == ["night"] and app.profile == "night"
        assert app.monitor.client is not old_client and old_client.is_closed
        assert app.monitor.watched == [5000601, 5000602]
        assert "night · onbuka" in app.main.status.build().plain


async def test_a_click_on_a_footer_key_presses_it() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        line = app.main.query_one(KeysFooter).render().plain
        await pilot.click(KeysFooter, offset=(line.index("s Sort") + 2, 0))
        assert app.main.table.sort_key == "name"


def _palette_lines(app: CallwatchApp) -> list[str]:
    from textual.command import CommandList, CommandPalette

    assert isinstance(app.screen, CommandPalette)
    options = app.screen.query_one(CommandList)
    # Each prompt is the title line, then the action as help.
    return [str(options.get_option_at_index(i).prompt).splitlines()[0]
            for i in range(options.option_count)]


async def test_help_and_palette_show_the_remapped_keys() -> None:
    """A key remapped in config.toml's [keys] is shown as remapped, and the old key is
    not: in the help screen (opened by its new key) and in the command palette."""
    app = make_app(settings=Config(keys={"pause": "y", "help": "f1", "palette": "ctrl+k"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")  # the old help key does nothing now
        assert on_main(app)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = {bid: key for key, _desc, bid in app.screen.rows}
        assert (rows["pause"], rows["help"], rows["palette"]) == ("y", "f1", "^k")
        assert rows["refresh"] == "r"  # keys not remapped keep theirs
        keys = [key for key, _desc, _bid in app.screen.rows]
        assert "p" not in keys and "?" not in keys and "^p" not in keys
        await pilot.press("escape")
        assert on_main(app)

        await pilot.press("ctrl+p")  # the palette moved to ctrl+k
        assert on_main(app)
        await pilot.press("ctrl+k", *"pause")
        for _ in range(50):
            lines = _palette_lines(app)
            if any("Pause" in line for line in lines):
                break
            await pilot.pause(0.05)
        [pause] = [line for line in lines if line.startswith("Pause / resume")]
        assert pause.endswith("(y)") and "(p)" not in pause
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.monitor.paused


def test_every_palette_command_is_a_binding() -> None:
    """A palette title whose binding id is gone would drop its command silently."""
    from callwatch.tui.keys import PALETTE_TITLES, palette_commands

    commands = palette_commands(make_app(persist=False), {})
    assert [title for title, _action, _key in commands] == list(PALETTE_TITLES.values())
    assert ("Filter rows", "filter", "/") in commands
    assert ("Refresh less often (+ interval)", "app.interval(1)", "+") in commands
