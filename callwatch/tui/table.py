"""The job table: keyed by job id, updated cell by cell, filtered and sorted in place."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from callwatch.monitor import TaskView
from callwatch.tui.format import SORT_KEYS, cell, columns_for, sort_value

REBUILD_AT = 20  # rows to remove at once above which the table is rebuilt instead


def matches(view: TaskView, needle: str) -> bool:
    """Filter: case-insensitive substring over the id and the name."""
    if not needle:
        return True
    n = needle.lower()
    name = view.job.task_name if view.job and view.job.task_name else ""
    return n in str(view.job_id) or n in name.lower()


class JobTable(DataTable[Text]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.views: dict[int, TaskView] = {}
        self.filter_text = ""
        self.sort_key = "id"
        self.sort_reverse = False
        self.layout_name = "narrow"
        self._cells: dict[int, dict[str, Text]] = {}  # the rows shown, by job id
        # Cells of rows the filter hides, kept with the view they were made from.
        self._hidden: dict[int, tuple[TaskView, dict[str, Text]]] = {}
        self._name_width = 16
        self._built = False

    # --- queries -------------------------------------------------------------------

    @property
    def selected_id(self) -> int | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    def visible_ids(self) -> list[int]:
        return [int(row.key.value) for row in self.ordered_rows if row.key.value is not None]

    # --- layout --------------------------------------------------------------------

    def set_layout(self, layout: str) -> None:
        """Choose the columns for this width; rebuilds only when the set changes."""
        if self._built and layout == self.layout_name:
            return
        keep = self.selected_id
        self.layout_name = layout
        self._built = True
        self.clear(columns=True)
        self._cells.clear()
        self._hidden.clear()
        cols = columns_for(layout)
        for col in cols:
            if col.key == "name":
                self._name_width = col.width
            self.add_column(col.label, width=col.width, key=col.key)
        self._sync_rows(keep)

    # --- data ----------------------------------------------------------------------

    def apply(self, views: Iterable[TaskView]) -> None:
        """Take new views; update only cells whose content changed; sort once."""
        if not self._built:
            self.set_layout(self.layout_name)
        resort = False
        keep = self.selected_id
        keys = [str(c.key.value) for c in self.ordered_columns]
        for view in views:
            old = self.views.get(view.job_id)
            self.views[view.job_id] = view
            if old is not None and sort_value(old, self.sort_key) != sort_value(
                    view, self.sort_key):
                resort = True
            if not matches(view, self.filter_text):
                if view.job_id in self._cells:
                    self._remove_row(view.job_id, keep=False)  # its cells are stale
                continue
            if view.job_id not in self._cells:
                self._add_row(view, keys)
                resort = True
                continue
            cached = self._cells[view.job_id]
            for key in keys:
                new = cell(view, key, self._name_width)
                if cached.get(key) != new:
                    cached[key] = new
                    self.update_cell(str(view.job_id), key, new)
        if resort:
            self._sort(keep)

    def forget(self, job_ids: Iterable[int]) -> None:
        for jid in job_ids:
            self.views.pop(jid, None)
            self._hidden.pop(jid, None)
            if jid in self._cells:
                self._remove_row(jid)

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self._sync_rows(self.selected_id)

    def set_sort(self, key: str, reverse: bool) -> None:
        self.sort_key = key if key in SORT_KEYS else "id"
        self.sort_reverse = reverse
        self._sort(self.selected_id)

    def cycle_sort(self) -> str:
        idx = SORT_KEYS.index(self.sort_key) if self.sort_key in SORT_KEYS else 0
        self.set_sort(SORT_KEYS[(idx + 1) % len(SORT_KEYS)], self.sort_reverse)
        return self.sort_key

    def select_id(self, job_id: int | None) -> None:
        if job_id is None or job_id not in self._cells:
            return
        try:
            index = self.get_row_index(str(job_id))
        except RowDoesNotExist:
            return
        self.move_cursor(row=index)

    # --- internals -----------------------------------------------------------------

    def _add_row(self, view: TaskView, keys: list[str]) -> None:
        hidden = self._hidden.pop(view.job_id, None)
        if hidden is not None and hidden[0] is view:
            cells = hidden[1]
        else:
            cells = {key: cell(view, key, self._name_width) for key in keys}
        self._cells[view.job_id] = cells
        self.add_row(*(cells[k] for k in keys), key=str(view.job_id))

    def _hide(self, job_id: int) -> None:
        cells = self._cells.pop(job_id, None)
        view = self.views.get(job_id)
        if cells is not None and view is not None:
            self._hidden[job_id] = (view, cells)

    def _remove_row(self, job_id: int, keep: bool = True) -> None:
        if keep:
            self._hide(job_id)
        else:
            self._cells.pop(job_id, None)
        self.remove_row(str(job_id))

    def _sync_rows(self, keep: int | None) -> None:
        """Make the rows match the filter (adding and removing only what differs)."""
        keys = [str(c.key.value) for c in self.ordered_columns]
        gone = [j for j in self._cells if j not in self.views
                or not matches(self.views[j], self.filter_text)]
        if len(gone) > REBUILD_AT:
            # DataTable.remove_row renumbers every row: many removals cost O(rows²).
            # Rebuilding is O(rows) (a filter typed over 10,000 tasks).
            self._rebuild(keep, keys)
            return
        for jid in gone:
            self._remove_row(jid)
        for view in self.views.values():
            if view.job_id not in self._cells and matches(view, self.filter_text):
                self._add_row(view, keys)
        self._sort(keep)

    def _rebuild(self, keep: int | None, keys: list[str]) -> None:
        """Clear and add the matching rows already in order (no DataTable.sort)."""
        for jid in list(self._cells):
            self._hide(jid)
        self.clear()
        key, needle = self.sort_key, self.filter_text
        for view in sorted((v for v in self.views.values() if matches(v, needle)),
                           key=lambda v: (*sort_value(v, key), v.job_id),
                           reverse=self.sort_reverse):
            self._add_row(view, keys)
        if keep is not None and keep in self._cells:
            self.select_id(keep)

    def _sort(self, keep: int | None) -> None:
        if self.row_count == 0:
            return
        key, views = self.sort_key, self.views

        def order(id_cell: Text) -> tuple[object, ...]:
            jid = int(id_cell.plain)
            return (*sort_value(views.get(jid), key), jid)

        self.sort("id", key=order, reverse=self.sort_reverse)
        if keep is not None and keep in self._cells:
            self.select_id(keep)
