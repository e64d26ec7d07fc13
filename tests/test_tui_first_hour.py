"""Pilot tests for a new user's first hour (issue 17): names at 80 columns, counts that
cannot read as a fraction, the same movement keys in every list, honest add toasts."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest
from rich.cells import cell_len
from textual.containers import VerticalScroll
from textual.widgets import OptionList

from callwatch.api.models import Job
from callwatch.monitor import TaskView
from callwatch.store.config import Config, Profile
from callwatch.tui.app import CallwatchApp
from callwatch.tui.browse import BrowseScreen, BrowseTable
from callwatch.tui.detail import DetailPane, DetailScreen
from callwatch.tui.export import export_views
from callwatch.tui.format import columns_for, count4, fit_middle
from callwatch.tui.messages import stop_question, watching_message
from callwatch.tui.modals import HelpScreen, ProfileScreen
from tests.helpers.tui import frozen_state, make_app, settle

ALIKE = {5000600: "bulk-campaign-2026-11-a", 5000601: "bulk-campaign-2026-11-b",
         5000602: "日本語のキャンペーン-2026-11-c"}


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def rows(app: CallwatchApp) -> list[str]:
    table = app.main.table
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_names_alike_stay_apart_at_80_columns() -> None:
    state = frozen_state()
    for jid, name in ALIKE.items():
        state.jobs[jid].name = name
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.main.table
        lines = rows(app)
        by_id = {line.split()[0]: line for line in lines[1:] if line.strip()}
        assert "bulk-cam…-11-a" in by_id["5000600"]
        assert "bulk-cam…-11-b" in by_id["5000601"]
        assert "june-promo-01" not in lines[1]  # renamed; the next one is whole:
        assert "survey-wave-04 " in by_id["5000603"]  # 14 characters: not cut at all
        wide = by_id["5000602"]
        assert "日本語の…-11-c " in wide  # cut by cells (two each), the end kept
        # Every row is exactly the table's width, the state column at one x on each:
        # the wide characters took their two cells each, and nothing needs a scroll.
        assert {cell_len(line) for line in lines} == {table.size.width}
        starts = {cell_len(line[:line.index(g)]) for line in lines[1:13]
                  for g in "▶✓✗⊘‖◷↑" if g in line}
        assert len(starts) == 1
        assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_ok_and_fail_are_two_labelled_columns_not_a_fraction() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        header, *body = rows(app)
        assert header.split()[-3:] == ["OK", "Fail", "ETA"]
        big = next(line for line in body if line.startswith(" 5000611"))
        job = app.monitor.view(5000611).job  # type: ignore[union-attr]
        assert job is not None and job.success is not None and job.success >= 10_000
        assert f"{count4(job.success)}   {count4(job.fail)}" in big
        assert not any("/" in line for line in body)  # "276/238" read as 276 of 238


def test_counts_fit_four_cells_and_names_fit_their_column() -> None:
    for value in (0, 7, 999, 1000, 9949, 9950, 99_499, 99_500, 999_499, 999_500,
                  9_949_999, 9_950_000, 123_456_789, 999_999_999):
        assert len(count4(value)) <= 4, value
    assert count4(9_950) == "10k" and count4(1_234) == "1.2k" and count4(None) == "–"
    assert fit_middle("bulk-campaign-2026-11-a", 14) == "bulk-cam…-11-a"
    assert fit_middle("june-promo-01", 14) == "june-promo-01"
    for name in ("日本語のキャンペーン名前です", "😀" * 20, "a\u0301" * 30, "x" * 50):
        for width in range(1, 20):
            cut = fit_middle(name, width)
            assert cell_len(cut) <= width and (cut == name or "…" in cut)
    # More screen, more name: the narrow layout gives a 100-column screen's room to it.
    at80, at100 = (next(c.width for c in columns_for("narrow", w) if c.key == "name")
                   for w in (80, 100))
    assert at80 == 14 and at100 == 34
    assert next(c.width for c in columns_for("narrow") if c.key == "name") == at80


async def open_browse(pilot: object, app: CallwatchApp) -> BrowseScreen:
    await pilot.press("b")  # type: ignore[attr-defined]
    for _ in range(200):
        screen = app.screen
        if isinstance(screen, BrowseScreen) and screen.page is not None:
            return screen
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError("browse did not load")


async def test_browse_takes_the_same_movement_keys_as_the_watch_list() -> None:
    app = make_app(frozen_state(120), watch=[])
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot, app)
        screen = await open_browse(pilot, app)
        table = screen.query_one(BrowseTable)
        last = table.row_count - 1
        page = table.scrollable_content_region.height
        assert last > page  # enough rows for a page move to differ from the end
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == last
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == last
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("pagedown")
        assert 1 < table.cursor_row < last
        await pilot.press("pageup")
        assert table.cursor_row == 0
        assert isinstance(app.screen, BrowseScreen)  # none of them left the screen


async def test_profile_list_and_help_take_the_movement_keys() -> None:
    app = make_app(settings=Config(profiles={n: Profile(n) for n in ("test", "night", "day")}))

    async def never(profile: str) -> tuple[Any, str]:
        raise AssertionError("no profile is chosen here")

    app.connector = never
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("P")
        for _ in range(100):
            if isinstance(app.screen, ProfileScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ProfileScreen)
        options = app.screen.query_one(OptionList)
        await pilot.press("j")
        first = options.highlighted
        await pilot.press("j")
        assert options.highlighted == (first or 0) + 1
        await pilot.press("k")
        assert options.highlighted == first
        await pilot.press("G")
        assert options.highlighted == 2
        await pilot.press("g")
        assert options.highlighted == 0
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box", VerticalScroll)
        assert box.max_scroll_y > 0
        await pilot.press("G")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert box.scroll_y == 0


async def test_detail_scrolls_to_its_ends_and_names_its_sparkline() -> None:
    app = make_app()
    async with app.run_test(size=(80, 14)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        pane = app.screen.query_one(DetailPane)
        for _ in range(100):
            if pane.max_scroll_y > 0:
                break
            await pilot.pause(0.05)
        await pilot.press("G")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert pane.scroll_y == 0
        shown = re.sub(r"<[^>]+>", "", app.export_screenshot()).replace("&#160;", " ")
        # The sparkline sits beside the percentage it plots, whole (not cut at 80).
        assert re.search(r"progress +80\.0% +[▁-█]+", shown), shown
        assert "session" not in shown


async def test_adding_an_already_watched_task_says_so() -> None:
    app = make_app(watch=[5000600])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("a", *"123 5000600", "enter")
        assert app.monitor.watched == [5000600, 123]
        messages = [n.message for n in app._notifications]
        assert "Watching 1 more task: 123; 5000600 was already watched" in messages


async def test_browse_counts_only_the_new_tasks() -> None:
    app = make_app(watch=[])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        screen = await open_browse(pilot, app)
        assert screen.page is not None
        first, second = (r.job_id for r in screen.page.records[:2])
        app.monitor.watch([first])  # watched meanwhile (another way in)
        await pilot.press("space", "space", "enter")
        assert app.screen is app.main
        messages = [n.message for n in app._notifications]
        assert f"Watching 1 more task: {second}; {first} was already watched" in messages


def test_messages() -> None:
    assert watching_message([1, 2], [1, 2]) == "Watching 2 more tasks: 1 2"
    assert watching_message([1, 2, 2], []) == "1 2 were already watched"
    many = list(range(1, 12))
    assert watching_message(many, many).endswith("1 2 3 4 5 6 7 8 and 3 more")
    assert stop_question(123, "") == "Stop watching #123?\n(The task itself is not touched.)"
    assert stop_question(5, "a\x1bb").startswith("Stop watching #5 a?b?")


def test_export_rounds_estimates_and_stamps_iso_8601_basic() -> None:
    view = TaskView(7, Job(job_id=7, task_name="x"), throughput=90.24716685587532,
                    eta=123.456)
    when = datetime(2026, 3, 4, 5, 6, 7).astimezone()
    csv_path, json_path = export_views([view], "work", when)
    match = re.fullmatch(r"callwatch-work-(20260304T050607[+-]\d{4})", csv_path.stem)
    assert match, csv_path.name
    stamp = match.group(1)
    assert datetime.fromisoformat(stamp) == when
    body = csv_path.read_text().splitlines()[1]
    assert ",90.2,123" in body and "90.247" not in body
    assert json.loads(json_path.read_text())["exported"] == stamp
