"""The main screen: status line, banner, job table, detail pane, filter, footer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from callwatch.monitor import TaskView, Update
from callwatch.textsafe import sanitize
from callwatch.tui.detail import SPARK_POINTS, DetailPane, DetailScreen, Freshness
from callwatch.tui.footer import KeysFooter
from callwatch.tui.format import coarse_age, layout_for, sparkline, stale_mark
from callwatch.tui.table import JobTable
from callwatch.tui.widgets import Banner, StatusLine

if TYPE_CHECKING:
    from callwatch.tui.app import CallwatchApp

DETAIL_MIN_WIDTH = 100
DETAIL_MIN_HEIGHT = 30
# Answers arrive one by one; the screen takes them this long after the first of a batch,
# so that a cycle's burst of pages (and the selected task's detail) costs a frame or two,
# not one per answer. Short against any refresh interval, and keys never wait on it.
FLUSH_EVERY = 0.1

MAIN_BINDINGS = [
    Binding("question_mark", "app.help", "Help", id="help"),
    Binding("q", "app.quit_app", "Quit", id="quit"),
    Binding("enter", "open_detail", "Detail", id="detail"),
    Binding("escape", "escape", "Back/clear", show=False, id="back"),
    Binding("slash", "filter", "Filter", id="filter", priority=True),
    Binding("s", "sort", "Sort", id="sort"),
    Binding("S", "reverse_sort", "Reverse sort", show=False, id="sort_reverse"),
    Binding("p", "app.pause", "Pause", id="pause"),
    Binding("r", "app.refresh_now", "Refresh", id="refresh"),
    Binding("plus", "app.interval(1)", "Slower", show=False, id="interval_up"),
    Binding("minus", "app.interval(-1)", "Faster", show=False, id="interval_down"),
    Binding("a", "app.add_jobs", "Add", id="add"),
    Binding("d", "app.remove_selected", "Remove", id="remove"),
    Binding("b", "app.browse", "Browse", id="browse"),
    Binding("c", "app.copy_id", "Copy id", id="copy"),
    Binding("e", "app.export", "Export", id="export"),
    Binding("P", "app.switch_profile", "Profile", show=False, id="profile"),
    Binding("space", "mark", "Mark / unmark for cancel or suspend", show=False, id="mark"),
    Binding("x", "act('cancel')", "Cancel the selected or marked tasks", show=False,
            id="cancel_tasks"),
    Binding("z", "act('suspend')", "Suspend the selected or marked tasks", show=False,
            id="suspend_tasks"),
]


class MainScreen(Screen[None]):
    BINDINGS = list[Binding | tuple[str, str] | tuple[str, str, str]](MAIN_BINDINGS)

    def __init__(self) -> None:
        super().__init__()
        self._detail_timer: Timer | None = None
        self.detail_inline = False
        self._info: Text | None = None
        self._pending: dict[int, TaskView] = {}
        self._flush_timer: Timer | None = None
        self._last_flush = float("-inf")
        self._cw: CallwatchApp | None = None

    @property
    def cw(self) -> CallwatchApp:
        """The app, found once (Textual's ``app`` is a context lookup, and this is asked
        for every row on screen every second)."""
        app = self._cw
        if app is None:
            from callwatch.tui.app import CallwatchApp

            found = self.app
            assert isinstance(found, CallwatchApp)
            app = self._cw = found
        return app

    def compose(self) -> ComposeResult:
        app = self.cw
        status = StatusLine(app.monitor, app.account, app.clock, id="status")
        status.actions = app.actions_enabled
        yield status
        yield Banner(id="banner")
        yield Static("", id="info", markup=False)
        yield JobTable(id="jobs")
        yield DetailPane(id="detail")
        yield KeysFooter()  # the filter's input comes later: see filter_input

    @property
    def table(self) -> JobTable:
        return self.query_one("#jobs", JobTable)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def banner(self) -> Banner:
        return self.query_one("#banner", Banner)

    async def on_mount(self) -> None:
        table = self.table
        state = self.cw.ui_state
        table.sort_key, table.sort_reverse = state.sort.column or "id", state.sort.reverse
        table.filter_text = state.filter
        table.freshness = self.freshness
        events = self.cw.monitor.events
        if events is not None:
            table.marker = events.marker
        self._relayout(self.app.size.width, self.app.size.height)
        table.apply(self.cw.monitor.tasks.values())
        table.focus()
        self._selection_changed()
        self.update_info()
        if self.cw.poll_worker is None:
            await self.cw.start_first_poll()
        self.call_after_refresh(self._make_filter)

    def _make_filter(self) -> None:
        if self.is_attached:  # not when the app quit before its first frame
            self.filter_input()

    def filter_input(self) -> Input:
        """The filter's input, hidden until "/". Not in the first frame, so made after it
        (a few ms of start-up), or at once if "/" comes first."""
        try:
            return self.query_one("#filter", Input)
        except NoMatches:
            filt = Input(self.table.filter_text, id="filter",
                         placeholder="filter by id or name (enter: keep · esc: clear)")
            filt.display = False
            self.mount(filt, before=self.query_one(KeysFooter))  # docked above the footer
            return filt

    # --- size ----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._relayout(event.size.width, event.size.height)

    def _relayout(self, width: int, height: int) -> None:
        self.table.set_layout(layout_for(width), width)
        self.detail_inline = width >= DETAIL_MIN_WIDTH and height >= DETAIL_MIN_HEIGHT
        self.query_one("#detail", DetailPane).display = self.detail_inline

    # --- data from the monitor -------------------------------------------------------

    def take_update(self, update: Update) -> None:
        """An answer was applied: show it now, or with the next batch (see FLUSH_EVERY)."""
        mon = self.cw.monitor
        pending = self._pending
        for view in update.changed:
            pending[view.job_id] = view
        for jid in update.added:
            added = mon.view(jid)
            if added is not None:
                pending[jid] = added
        if self._flush_timer is not None:
            return
        # The first cycle's first answer at once (the first frame shows it, not an empty
        # table); later batches together, a moment after their first answer.
        wait = FLUSH_EVERY if mon.cycles else self._last_flush + FLUSH_EVERY - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._flush_timer = self.set_timer(wait, self.flush)

    def flush(self) -> None:
        """Apply what arrived since the last flush: one table update, one banner."""
        self._flush_timer = None
        mon = self.cw.monitor
        self._last_flush = time.monotonic()
        views, self._pending = self._pending, {}
        table = self.table
        table.apply(views)
        self.banner.show(mon.problems)
        selected = table.selected_id
        if selected is not None and selected in views:
            self.show_detail(mon.view(selected))
        else:
            self._age_detail(clock_only=False)  # a new sample moves its sparkline
        if table.selected_id is None and table.row_count:
            table.move_cursor(0)
        self.status.tick()
        self.update_info()

    def freshness(self, job_id: int) -> str | None:
        """The stale mark of a task's values: older than two intervals, or the API is
        unreachable (None while paused: the header says so)."""
        mon = self.cw.monitor
        confirmed = mon.confirmed_at(job_id)
        if confirmed is None or mon.paused:
            return None
        unreachable = mon.unreachable
        age = mon.now() - confirmed
        if not unreachable and age <= 2 * mon.effective_interval + 2:
            return None  # fresh (most rows, every second): the view is not needed
        view = mon.view(job_id)
        if view is None or view.missing or (view.job is not None and view.job.state.finished
                                            and view.issue is None):
            return None  # final values: they do not age
        return stale_mark(age)

    def tick(self) -> None:
        """Every second: the header's age, and rows turning stale."""
        self.status.tick()
        self.table.tick()
        self._age_detail(clock_only=True)

    def _age_detail(self, *, clock_only: bool) -> None:
        """The detail pane's age marks (and, after new samples, its sparkline), when
        they changed. ``clock_only``: only time passed, so the sparkline stands."""
        if self.detail_inline and self.table.selected_id is not None:
            pane = self.query_one("#detail", DetailPane)
            if pane.view is not None:
                fresh = self._fresh(pane.view.job_id,
                                    pane.fresh.spark if clock_only else None)
                if fresh != pane.fresh:
                    pane.show(pane.view, fresh)

    def add_views(self, views: list[TaskView]) -> None:
        self.table.apply(views)
        self.update_info()

    def forget(self, ids: list[int]) -> None:
        for jid in ids:  # an answer still waiting for the next flush must not bring it back
            self._pending.pop(jid, None)
        self.table.forget(ids)
        self._selection_changed()
        self.update_info()

    def _fresh(self, job_id: int | None, spark: str | None = None) -> Freshness:
        """What the detail pane says about the age of a task's values (coarse, so that
        the pane repaints when it changes, not at every tick); ``spark``: the sparkline
        already drawn (it changes with the samples, not with the clock)."""
        mon = self.cw.monitor
        view = mon.view(job_id) if job_id is not None else None
        if view is None or job_id is None:
            return Freshness()
        now = mon.now()
        confirmed = mon.confirmed_at(job_id)
        stale = self.freshness(job_id) is not None
        age = coarse_age(now - confirmed) if confirmed is not None and (
            stale or view.issue is not None) else None
        issue_for = coarse_age(now - view.issue.since) if view.issue is not None else None
        if spark is None:
            spark = sparkline(mon.sparkline(job_id), SPARK_POINTS)
        return Freshness(spark, age, stale, issue_for)

    def show_detail(self, view: TaskView | None) -> None:
        fresh = self._fresh(view.job_id if view else None)
        if self.detail_inline:
            self.query_one("#detail", DetailPane).show(view, fresh)
        for screen in self.app.screen_stack:
            if isinstance(screen, DetailScreen) and view is not None \
                    and screen.job_id == view.job_id:
                screen.show(view, fresh)

    def update_info(self) -> None:
        table = self.table
        arrow = "↓" if table.sort_reverse else "↑"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {table.row_count}/{len(table.views)} tasks", style="bold")
        text.append(f" · sort {table.sort_key} {arrow}")
        if table.filter_text:
            text.append(" · filter ")
            text.append(f"“{sanitize(table.filter_text, 30)}”", style="bold reverse")
            text.append(" (esc clears)")
        if self.cw.monitor.all_active:
            text.append(" · watching all active")
        if table.marked:
            text.append(f" · {len(table.marked)} marked (x cancel · z suspend)", style="bold")
        if not table.views:
            text.append(" · press a to add job ids or b to browse", style="bold")
        if text != self._info:  # one line, always: no screen layout, and only on change
            self._info = text
            self.query_one("#info", Static).update(text, layout=False)

    # --- selection -----------------------------------------------------------------

    @on(JobTable.Highlighted, "#jobs")
    def _highlighted(self, event: JobTable.Highlighted) -> None:
        self._selection_changed()

    def _selection_changed(self) -> None:
        jid = self.table.selected_id
        mon = self.cw.monitor
        if jid == mon.selected and jid is not None:
            return
        mon.select(jid)
        view = mon.view(jid) if jid is not None else None
        if self.detail_inline:
            self.query_one("#detail", DetailPane).show(view, self._fresh(jid))
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if view is not None and not view.missing and (view.job is None
                                                      or not view.job.has_detail):
            # Fetch the detail soon, but not for every row the cursor passes over.
            self._detail_timer = self.set_timer(0.4, self.cw.fetch_selected_detail)

    # --- actions -------------------------------------------------------------------

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._filter_done(keep=True)

    def action_open_detail(self) -> None:
        jid = self.table.selected_id
        if jid is None:
            return
        self.app.push_screen(DetailScreen(jid, self.cw.monitor.view(jid), self._fresh(jid)))

    def action_escape(self) -> None:
        if isinstance(self.focused, Input) or self.table.filter_text:
            self._filter_done(keep=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In an input "/" is a character (the filter binding has priority over inputs).
        return not (action == "filter" and isinstance(self.focused, Input))

    def action_filter(self) -> None:
        filt = self.filter_input()
        filt.display = True
        filt.value = self.table.filter_text
        # Focus at once (focus() waits for a refresh): with the binding's priority, keys
        # typed in the same burst as "/" (fast typing, a paste over SSH) reach the filter.
        self.set_focus(filt)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.input.display:
            self.table.set_filter(event.value)
            self.update_info()

    def _filter_done(self, keep: bool) -> None:
        filt = self.filter_input()
        if not keep:
            filt.value = ""
        # The input's last Changed messages may still be queued (and are ignored once
        # it is hidden): apply what it holds now.
        self.table.set_filter(filt.value)
        filt.display = False
        self.set_focus(self.table)
        self.update_info()
        self.cw.save_state()

    def action_mark(self) -> None:
        if self.table.selected_id is not None:
            self.table.toggle_mark(self.table.selected_id)
            self.update_info()

    def action_act(self, kind: str) -> None:
        from callwatch.tui.actions import start_action  # on a key press only

        start_action(self.cw, kind)

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.update_info()
        self.cw.save_state()

    def action_reverse_sort(self) -> None:
        self.table.set_sort(self.table.sort_key, not self.table.sort_reverse)
        self.update_info()
        self.cw.save_state()
