"""The virtual job table on its own: rows, filter, sort, cursor, and what it repaints."""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region

from callwatch.api.models import Job
from callwatch.monitor import TaskView
from callwatch.tui.table import JobTable


def view(jid: int, name: str, rate: float = 0.5, success: int = 0) -> TaskView:
    return TaskView(jid, Job(job_id=jid, status_code=2, task_name=name, rate=rate,
                             num_cnt=100, call_num=int(rate * 100), success=success,
                             fail=0))


def views(n: int) -> list[TaskView]:
    return [view(1000 + i, f"task-{i:05d}", rate=(i % 100) / 100) for i in range(n)]


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlights: list[int | None] = []

    def compose(self) -> ComposeResult:
        yield JobTable(id="jobs")

    def on_job_table_highlighted(self, event: JobTable.Highlighted) -> None:
        self.highlights.append(event.job_id)


def screen_rows(table: JobTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def test_rows_header_and_only_visible_lines_rendered() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.apply(views(10_000))
        await pilot.pause()
        rows = screen_rows(table)
        assert rows[0].split()[:4] == ["ID", "↑", "Name", "State"]
        assert rows[1].split()[:2] == ["1000", "task-00000"]
        assert table.row_count == 10_000 and table.virtual_size.height == 10_001
        # Only what is on screen was drawn, not 10,000 rows.
        assert len(table._rows) <= table.size.height


async def test_filter_sort_and_cursor_keep_the_selected_task() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.apply(views(10_000))
        table.select_id(1077)
        table.set_filter("77")
        assert table.selected_id == 1077
        assert all("77" in str(j) or "77" in f"task-{j - 1000:05d}"
                   for j in table.visible_ids())
        assert len(table.visible_ids()) == sum(
            "77" in str(1000 + i) or "77" in f"task-{i:05d}" for i in range(10_000))
        table.set_sort("progress", reverse=True)
        ids = table.visible_ids()
        rates = [table.views[j].job.rate for j in ids]  # type: ignore[union-attr]
        assert rates == sorted(rates, reverse=True)  # type: ignore[type-var]
        assert table.selected_id == 1077
        table.set_filter("")
        assert table.row_count == 10_000 and table.selected_id == 1077
        await pilot.pause()
        # The cursor's row is on screen after all this.
        assert any(r.split()[:1] == ["1077"] for r in screen_rows(table)[1:])


async def test_keys_move_by_row_page_and_ends_and_announce_the_selection() -> None:
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(JobTable)
        table.apply(views(50))
        table.focus()
        await pilot.pause()
        await pilot.press("j", "down")
        assert table.selected_id == 1002
        await pilot.press("pagedown")
        page = table.size.height - 1
        assert table.cursor_row == 2 + page
        await pilot.press("G")
        assert table.selected_id == 1049
        assert screen_rows(table)[-1].split()[:1] == ["1049"]  # scrolled into view
        await pilot.press("g", "k")
        assert table.selected_id == 1000
        await pilot.pause()
        assert app.highlights[0] == 1000 and app.highlights[-1] == 1000
        assert 1049 in app.highlights


async def test_click_selects_a_row() -> None:
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(JobTable)
        table.apply(views(5))
        await pilot.pause()
        await pilot.click(JobTable, offset=(3, 4))  # line 4: the fourth row
        assert table.selected_id == 1003


async def test_a_cycle_repaints_only_the_cells_that_changed() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        first = views(30)
        table.apply(first)
        await pilot.pause()
        painted: list[Region] = []
        original = table.refresh

        def spy(*regions: Region, **kwargs: object) -> JobTable:
            painted.extend(regions)
            if not regions:
                painted.append(Region(0, 0, 9999, 9999))
            return original(*regions, **kwargs)  # type: ignore[arg-type]

        table.refresh = spy  # type: ignore[method-assign]
        before = table.cells_changed
        table.apply(first)  # nothing changed
        assert painted == [] and table.cells_changed == before
        table.apply([replace(first[2], job=replace(first[2].job, success=7))])  # type: ignore[type-var]
        assert table.cells_changed == before + 1
        # One cell of the third row: its line, and far narrower than the table.
        assert len(painted) == 1
        assert painted[0].y == 3 and painted[0].height == 1
        assert painted[0].width < table.size.width // 4
        assert "7" in table.cell_text(1002, "ok4").plain


async def test_rows_filtered_out_by_a_change_leave_and_return() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.apply(views(5))
        table.set_filter("task-0000")
        assert table.row_count == 5
        renamed = replace(table.views[1001], job=replace(
            table.views[1001].job, task_name="other"))  # type: ignore[type-var]
        table.apply([renamed])
        assert 1001 not in table.visible_ids() and table.row_count == 4
        table.set_filter("")
        assert table.visible_ids() == [1000, 1001, 1002, 1003, 1004]
        table.forget([1000, 1004])
        assert table.visible_ids() == [1001, 1002, 1003]
        await pilot.pause()
        assert screen_rows(table)[1].split()[:2] == ["1001", "other"]


async def test_wide_and_hostile_names_keep_the_columns_aligned() -> None:
    app = Host()
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(JobTable)
        table.apply([view(1000, "plain"), view(1001, "日本語の長いタスク名前です😀😀"),
                     view(1002, "[bold]x[/] \x1b[2J\u200b\u202etail")])
        await pilot.pause()
        rows = [table.render_line(y) for y in range(1, 4)]
        assert all(r.cell_length == table.size.width for r in rows)
        columns = {cell_len(r.text[:r.text.index("✓")]) for r in rows}  # completed
        assert len(columns) == 1  # the state column starts at the same x on every row
        assert "\x1b" not in rows[2].text and "[bold]x" in rows[2].text  # literal
        name = rows[1].text.split("✓")[0]
        # Cut visibly, in the middle: the end (where names alike differ) stays.
        assert name.split()[-1].startswith("日本語") and "…" in name
        assert name.rstrip().endswith("😀😀")


async def test_views_by_id_add_new_rows_in_place_and_repaint_changed_ones() -> None:
    """The flush hands views by id: in the default view (by id, no filter) new rows are
    placed by set operations; the result is the one the per-view path gives."""
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(JobTable)
        table.apply({v.job_id: v for v in views(10)})
        await pilot.pause()
        assert table.visible_ids() == list(range(1000, 1010))
        changed = view(1002, "renamed")
        table.apply({1002: changed, 999: view(999, "new-first"), 1500: view(1500, "new-last")})
        assert table.visible_ids() == [999, *range(1000, 1010), 1500]
        await pilot.pause()
        rows = screen_rows(table)
        assert rows[1].split()[:2] == ["999", "new-first"]
        assert rows[4].split()[:2] == ["1002", "renamed"]
        table.apply({1004: view(1004, "edited")})  # no new row: a repaint alone
        await pilot.pause()
        assert screen_rows(table)[6].split()[:2] == ["1004", "edited"]
        # The same changes through the per-view path (a sort key) give the same rows.
        table.set_sort("name", False)
        table.apply([view(1003, "renamed-too")])
        table.set_sort("id", False)
        assert table.visible_ids() == [999, *range(1000, 1010), 1500]
        assert "renamed-too" in table.cell_text(1003, "name").plain
