"""The job table: a virtual list of rows, of which only the visible ones are drawn.

Textual's DataTable keeps per-row bookkeeping and measures every cell of every
row it is given, so a filter typed over 10,000 tasks took seconds to show. Here
the rows are a list of job ids: filter and sort rebuild that list (milliseconds),
and only the lines on screen are rendered. A row on screen keeps the signature of
its cells, so an update repaints only the cells that changed; rows off screen keep
nothing and cost a dict write per update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from callwatch.monitor import TaskView
from callwatch.tui.format import (
    RIGHT_ALIGNED,
    SORT_KEYS,
    Column,
    cell,
    columns_for,
    sort_value,
)
from callwatch.tui.rows import Drawn, matches, row_strip, signature

PAD = 1  # blank cells on each side of a column
ROW_CACHE = 1000  # drawn rows kept (a few screens' worth)

class JobTable(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("j,down", "cursor_down", "Move down", show=False, id="table.down"),
        Binding("k,up", "cursor_up", "Move up", show=False, id="table.up"),
        Binding("g,home", "first", "First row", show=False, id="table.top"),
        Binding("G,end", "last", "Last row", show=False, id="table.bottom"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
    ]
    COMPONENT_CLASSES = {"jobtable--header", "jobtable--cursor"}

    class Highlighted(Message):
        """The selected task changed (``job_id`` is None when the table is empty)."""

        def __init__(self, table: JobTable, job_id: int | None) -> None:
            super().__init__()
            self.table = table
            self.job_id = job_id

        @property
        def control(self) -> JobTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.views: dict[int, TaskView] = {}
        self.filter_text = ""
        self.sort_key = "id"
        self.sort_reverse = False
        self.layout_name = "narrow"
        self.cursor_row = 0
        # Cells repainted by apply() and tick() since the table was made (benchmarks).
        self.cells_changed = 0
        # The stale mark of a task's values (None: fresh); the screen sets it.
        self.freshness: Callable[[int], str | None] = lambda job_id: None
        # A task's alert marker ("stalled", "high fail"; None: none); the screen sets it.
        self.marker: Callable[[int], str | None] = lambda job_id: None
        self._columns: list[Column] = []
        self._offsets: list[int] = []  # x of each column's first cell
        self._width = 0  # of a whole row
        self._name_width = 16
        # Rows drawn lately (a few screens): what they showed, to repaint only the
        # cells that changed. Rows off screen keep nothing: a cycle that changes
        # 8,000 tasks builds cells for the ~45 on screen, not for 8,000.
        self._rows: dict[int, Drawn] = {}
        self._keys: dict[int, tuple[int, float | str]] = {}  # sort values, by job id
        self._order: list[int] = []  # the job ids shown, in order
        self._index: dict[int, int] = {}  # job id -> row
        self._highlighted: int | None = None
        self.marked: set[int] = set()  # marked with space, for cancel/suspend
        self._laid_out: tuple[Size, Size, Size] | None = None  # see _size_updated
        self.set_layout(self.layout_name)

    # --- queries -------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_id(self) -> int | None:
        return self._order[self.cursor_row] if self._order else None

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def visible_ids(self) -> list[int]:  # the ids the filter lets through, in order
        return list(self._order)

    def cell_text(self, job_id: int, key: str) -> Text:
        return cell(self.views[job_id], key, self._name_width, self.freshness(job_id),
                    self.marker(job_id))

    # --- layout --------------------------------------------------------------------

    def set_layout(self, layout: str, width: int | None = None) -> None:
        """Choose the columns for this screen width: the name takes the room the others
        leave (every row is drawn again when the columns change)."""
        columns = columns_for(layout, width)
        if self._columns and columns == self._columns:
            return
        self.layout_name = layout
        self._columns = columns
        self._offsets, x = [], 0
        for col in self._columns:
            self._offsets.append(x)
            x += col.width + 2 * PAD
            if col.key == "name":
                self._name_width = col.width
        self._width = x
        self._rows.clear()
        self._resize_virtual()
        self.refresh()
        self._scroll_to_cursor()

    # --- data ----------------------------------------------------------------------

    def apply(self, views: Iterable[TaskView] | Mapping[int, TaskView]) -> None:
        """Take new views (by id, or a list); repaint only the cells on screen that
        changed; re-order once. Cells are built only for rows on screen, so the cost of
        a cycle does not grow with the rows off screen."""
        needle, key, keys = self.filter_text, self.sort_key, self._keys
        drawn, index, all_views = self._rows, self._index, self.views
        if not needle and key == "id":
            # The default view (no filter, by id): a view changes no row's place, so
            # the rows to add and to repaint are set operations, not a loop per view.
            by_id = views if isinstance(views, Mapping) else {v.job_id: v for v in views}
            reorder = not by_id.keys() <= all_views.keys()
            all_views.update(by_id)
            self._place(reorder, list(by_id.keys() & drawn.keys()))
            return
        reorder = False
        repaint: list[int] = []
        for view in views.values() if isinstance(views, Mapping) else views:
            jid = view.job_id
            known = jid in all_views
            all_views[jid] = view
            if not known:
                reorder = True
                continue
            if needle and (jid in index) != matches(view, needle):
                reorder = True
            if key != "id":
                value = sort_value(view, key)
                if keys.get(jid) != value:
                    keys[jid] = value
                    reorder = True
            if jid in drawn:
                repaint.append(jid)
        self._place(reorder, repaint)

    def _place(self, reorder: bool, repaint: list[int]) -> None:
        """Re-order when asked (rows moved: all on screen drawn again), else repaint."""
        if reorder and self._reorder(self.selected_id):
            for jid in repaint:
                self._rows.pop(jid, None)
            return
        for jid in repaint:
            self._repaint(jid)

    def tick(self) -> None:
        """Time passed: rows on screen whose stale mark changed are repainted."""
        top = round(self.scroll_y)
        for jid in self._order[top:top + self.size.height]:
            drawn = self._rows.get(jid)
            if drawn is not None and (drawn.mark != self.freshness(jid)
                                      or drawn.flag != self.marker(jid)):
                self._repaint(jid)

    def forget(self, job_ids: Iterable[int]) -> None:
        gone = False
        for jid in job_ids:
            self.views.pop(jid, None)
            self._rows.pop(jid, None)
            self._keys.pop(jid, None)
            self.marked.discard(jid)
            gone = gone or jid in self._index
        if gone:
            self._reorder(self.selected_id)

    def toggle_mark(self, job_id: int) -> bool:
        """Mark or unmark a task; True when it is marked now. Its row repaints."""
        self.marked.symmetric_difference_update({job_id})
        self._repaint(job_id)
        return job_id in self.marked

    def clear_marks(self) -> None:
        for jid in self.marked.copy():
            self.toggle_mark(jid)

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self._reorder(self.selected_id)

    def set_sort(self, key: str, reverse: bool) -> None:
        key = key if key in SORT_KEYS else "id"
        if key != self.sort_key:
            self._keys.clear()
        self.sort_key = key
        self.sort_reverse = reverse
        self._reorder(self.selected_id)
        self.refresh(Region(0, 0, self.size.width, 1))  # the header's arrow

    def cycle_sort(self) -> str:
        idx = SORT_KEYS.index(self.sort_key) if self.sort_key in SORT_KEYS else 0
        self.set_sort(SORT_KEYS[(idx + 1) % len(SORT_KEYS)], self.sort_reverse)
        return self.sort_key

    def select_id(self, job_id: int | None) -> None:
        if job_id is not None and job_id in self._index:
            self.move_cursor(self._index[job_id])

    def move_cursor(self, row: int) -> None:
        last = len(self._order) - 1
        row = max(0, min(row, last)) if last >= 0 else 0
        if row != self.cursor_row:
            self._refresh_row(self.cursor_row)
            self.cursor_row = row
            self._refresh_row(row)
        self._scroll_to_cursor()
        self._announce()

    # --- keys and mouse ---------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * self._page())

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:  # not the header
            self.move_cursor(round(self.scroll_y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        # The compositor's virtual size for a line-API view is never the one we set, so
        # Textual updated the scrollbar at every screen layout (a toast coming or going,
        # a header part changing width): ~850 B to the terminal each time at 160x50.
        # Only a new size or a new row count changes the scrollbar.
        state = (size, container_size, self.virtual_size)
        if state == self._laid_out:
            return False
        self._laid_out = state
        return super()._size_updated(size, virtual_size, container_size, layout)

    # --- internals -----------------------------------------------------------------

    def _reorder(self, keep: int | None) -> bool:
        """Rebuild the shown ids from the filter and sort; keep the selected task.

        Returns whether the rows moved (then the whole table is repainted)."""
        needle, key, views = self.filter_text, self.sort_key, self.views
        shown = [jid for jid, v in views.items() if matches(v, needle)] if needle \
            else list(views)
        if key == "id":
            shown.sort(reverse=self.sort_reverse)
        else:
            keys = self._keys
            for jid in shown:
                if jid not in keys:
                    keys[jid] = sort_value(views[jid], key)
            shown.sort(key=lambda j: (keys[j], j), reverse=self.sort_reverse)
        moved = shown != self._order
        if moved:
            self._order = shown
            self._index = {jid: i for i, jid in enumerate(shown)}
            self._resize_virtual()
            self.refresh()
        row = self._index.get(keep, self.cursor_row) if keep is not None else self.cursor_row
        self.move_cursor(row)
        return moved

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._width, len(self._order) + 1)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        if not self.size.height:
            return
        top, page = round(self.scroll_y), self._page()
        # force: the scrollbars (which allow scrolling) catch up only at the next layout.
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, force=True)

    def _announce(self) -> None:
        jid = self.selected_id
        if jid != self._highlighted:
            self._highlighted = jid
            self.post_message(self.Highlighted(self, jid))

    def _screen_y(self, jid: int) -> int | None:
        """The line a task's row is on, when it is on screen."""
        row = self._index.get(jid)
        if row is None:
            return None
        y = row - round(self.scroll_y) + 1
        return y if 1 <= y < self.size.height else None

    def _refresh_row(self, row: int) -> None:
        if 1 <= (y := row - round(self.scroll_y) + 1) < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _repaint(self, jid: int) -> None:
        """A drawn row's task changed: on screen, repaint the cells that differ."""
        y = self._screen_y(jid)
        before = self._rows.pop(jid, None)
        if y is None or before is None:
            return  # off screen: drawn again when it scrolls into view
        after = self._draw(jid)
        if before.mark != after.mark or before.picked != after.picked:  # the whole row
            changed = list(range(len(self._columns)))
        else:
            changed = [i for i, (a, b) in enumerate(zip(before.sig, after.sig, strict=True))
                       if a != b]
        self.cells_changed += len(changed)
        scroll_x = round(self.scroll_x)
        for i in changed:
            width = self._columns[i].width + 2 * PAD
            self.refresh(Region(self._offsets[i] - scroll_x, y, width, 1))

    # --- drawing -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:  # the header's colour runs the full width
            style = base + self.get_component_rich_style("jobtable--header")
            return self._header().apply_style(style).crop_extend(
                scroll_x, scroll_x + width, style)
        row = scroll_y + y - 1
        if row >= len(self._order):
            return Strip.blank(width, base)
        strip = self._row(self._order[row])
        if row == self.cursor_row:
            cursor = self.get_component_rich_style("jobtable--cursor")
            strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip.apply_style(base).crop_extend(scroll_x, scroll_x + width, base)

    def _header(self) -> Strip:
        arrow = " ↓" if self.sort_reverse else " ↑"
        labels = [Text(c.label + (arrow if c.key == self.sort_key else ""),
                       justify="right" if c.key in RIGHT_ALIGNED else "left")
                  for c in self._columns]
        return row_strip(self._columns, labels, self.app.console, PAD)

    def _row(self, jid: int) -> Strip:
        drawn = self._rows.get(jid)
        if drawn is None or drawn.view is not self.views[jid] \
                or drawn.mark != self.freshness(jid) or drawn.picked != (jid in self.marked) \
                or drawn.flag != self.marker(jid):
            drawn = self._draw(jid)
        return drawn.strip

    def _draw(self, jid: int) -> Drawn:
        if len(self._rows) > ROW_CACHE:  # scrolled far: keep memory flat
            self._rows.clear()
        view, mark, flag = self.views[jid], self.freshness(jid), self.marker(jid)
        picked = jid in self.marked
        cells = [cell(view, c.key, self._name_width, mark, flag) for c in self._columns]
        strip = row_strip(self._columns, cells, self.app.console, PAD, dim=mark is not None,
                          picked=picked)
        drawn = self._rows[jid] = Drawn(view, mark, picked, signature(cells), strip, flag)
        return drawn
