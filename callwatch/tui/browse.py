"""Browse the account's tasks (ApiClient.query) and pick some to watch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from callwatch.api.client import ApiClient
from callwatch.api.models import ACTIVE_STATES, Job, JobState, Page
from callwatch.api.types import TimeWindow
from callwatch.errors import CallwatchError
from callwatch.monitor import TaskView
from callwatch.tui.format import bar, local_time, safe, state_text
from callwatch.tui.messages import plural

PAGE_SIZE = 50
WINDOWS = [("last 1 day", 1), ("last 7 days", 7), ("last 30 days", 30)]
STATE_CHOICES: list[tuple[str, str]] = [("all states", "all"), ("active", "active")] + [
    (s.label, s.slug) for s in JobState if s is not JobState.UNKNOWN]


@dataclass(frozen=True, slots=True)
class BrowseResult:
    ids: tuple[int, ...]
    all_active: bool = False


def states_for(choice: str) -> tuple[JobState, ...] | None:
    if choice == "all":
        return None
    if choice == "active":
        return ACTIVE_STATES
    return tuple(s for s in JobState if s.slug == choice)


class BrowseTable(DataTable[Text]):
    """The movement keys of the watch list: j/k, g/G, home/end (pgup/pgdn: DataTable's)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Move down", show=False, id="browse.down"),
        Binding("k", "cursor_up", "Move up", show=False, id="browse.up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="browse.top"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="browse.bottom"),
    ]


class BrowseScreen(Screen[BrowseResult | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Back", id="browse.back"),
        Binding("space", "mark", "Mark", id="browse.mark"),
        Binding("enter", "watch", "Watch marked", id="browse.watch", priority=True),
        Binding("A", "watch_all_active", "Watch all active", id="browse.all_active"),
        Binding("right_square_bracket,pagedown", "page(1)", "Next page", id="browse.next"),
        Binding("left_square_bracket,pageup", "page(-1)", "Prev page", id="browse.prev"),
        Binding("ctrl+r", "reload", "Reload", id="browse.reload"),
    ]

    def __init__(self, client: ApiClient, watched: set[int],
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.client = client
        self.watched = set(watched)
        self.marked: list[int] = []
        self.page_no = 1
        self.page: Page | None = None
        self.window_days = 1
        self.state_choice = "active"
        self.search = ""
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="browse"):
            yield Static(Text("Browse the account's tasks", style="bold"), id="browse-title")
            with Horizontal(id="browse-filters"):
                yield Select(WINDOWS, value=1, allow_blank=False, id="browse-window")
                yield Select(STATE_CHOICES, value="active", allow_blank=False,
                             id="browse-state")
                yield Input(placeholder="search name / text (enter)", id="browse-search")
            table = BrowseTable(id="browse-table", cursor_type="row")
            yield table
            yield Static("", id="browse-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#browse-table", DataTable)
        table.add_column("", width=1, key="mark")
        table.add_column("ID", width=7, key="id")
        table.add_column("Name", width=24, key="name")
        table.add_column("State", width=15, key="state")
        table.add_column("Progress", width=14, key="progress")
        table.add_column("Created", width=19, key="created")
        table.focus()
        self.reload()

    # --- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.query_one("#browse-status", Static).update(Text("loading…", style="dim"))
        self._load(self.page_no)

    @work(exclusive=True, group="browse", exit_on_error=False)
    async def _load(self, page_no: int) -> None:
        now = self._now() if self._now is not None else None
        window = TimeWindow.last(self.window_days, now)
        try:
            page = await self.client.query(window, states_for(self.state_choice), page_no,
                                           PAGE_SIZE, self.search or None)
        except CallwatchError as exc:
            self.query_one("#browse-status", Static).update(
                Text(f"✗ could not list tasks: {exc.message}", style="bold red"))
            return
        self.page, self.page_no = page, page_no
        self._fill()

    def _fill(self) -> None:
        table: DataTable[Text] = self.query_one("#browse-table", DataTable)
        table.clear()
        page = self.page
        if page is None:
            return
        for job in page.records:
            table.add_row(*self._cells(job), key=str(job.job_id))
        self._status()

    def _cells(self, job: Job) -> list[Text]:
        mark = "✓" if job.job_id in self.marked else ("•" if job.job_id in self.watched else "")
        return [Text(mark, style="bold green"), Text(str(job.job_id)),
                safe(job.task_name, 24), state_text(TaskView(job.job_id, job)),
                bar(job.progress), Text(local_time(job.created_time))]

    def _status(self) -> None:
        page = self.page
        if page is None:
            return
        text = (f"page {page.current}/{max(1, page.pages)} · {plural(page.total, 'task')} · "
                f"{len(self.marked)} marked · • already watched · "
                "space: mark · enter: watch · A: watch all active · [ ]: page")
        self.query_one("#browse-status", Static).update(Text(text))

    # --- filters -------------------------------------------------------------------

    @on(Select.Changed, "#browse-window")
    def window_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.window_days:
            self.window_days = event.value
            self.page_no = 1
            self.reload()

    @on(Select.Changed, "#browse-state")
    def state_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.state_choice:
            self.state_choice = event.value
            self.page_no = 1
            self.reload()

    @on(Input.Submitted, "#browse-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self.page_no = 1
        self.reload()
        self.query_one("#browse-table", DataTable).focus()

    # --- actions -------------------------------------------------------------------

    def _current_id(self) -> int | None:
        table: DataTable[Text] = self.query_one("#browse-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_mark(self) -> None:
        jid = self._current_id()
        if jid is None:
            return
        if jid in self.marked:
            self.marked.remove(jid)
        else:
            self.marked.append(jid)
        table: DataTable[Text] = self.query_one("#browse-table", DataTable)
        mark = "✓" if jid in self.marked else ("•" if jid in self.watched else "")
        table.update_cell(str(jid), "mark", Text(mark, style="bold green"))
        table.action_cursor_down()
        self._status()

    async def action_watch(self) -> None:
        if isinstance(self.focused, Input):
            await self.query_one("#browse-search", Input).action_submit()
            return
        ids = list(self.marked)
        if not ids:
            jid = self._current_id()
            ids = [jid] if jid is not None else []
        self.dismiss(BrowseResult(tuple(ids)))

    def action_watch_all_active(self) -> None:
        self.dismiss(BrowseResult(tuple(self.marked), all_active=True))

    def action_page(self, delta: int) -> None:
        page = self.page
        pages = page.pages if page else 1
        target = max(1, min(max(1, pages), self.page_no + delta))
        if target != self.page_no:
            self.page_no = target
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_cancel(self) -> None:
        self.dismiss(None)
