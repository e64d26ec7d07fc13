"""The detail of one task: every field, grouped, in human units, plus a sparkline."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from callwatch.api.models import Job
from callwatch.monitor import TaskView
from callwatch.textsafe import sanitize
from callwatch.tui.format import (
    called_total,
    duration,
    is_running,
    local_time,
    number,
    per_minute,
    percent,
    safe,
    state_text,
)

Row = tuple[str, Text | str]
SPARK_POINTS = 12  # fits beside the percentage in a third of a 120-column screen


_SOURCES = {1: "voice file (1)", 2: "uploaded file (2)", 3: "text-to-speech (3)"}


def _opt(value: object) -> str:
    if value is None or value == "":
        return "–"
    return str(value)


VALUE_WIDTH = 44  # the config group's values fold at this many cells


def _fold(value: Text, width: int) -> list[Text]:
    """``value`` in lines of at most ``width`` cells: broken between words, and inside a
    word only when it is longer than a line (Rich's "fold")."""
    if value.cell_len <= width:
        return [value]
    offsets: list[int] = []
    used = 0  # cells on the current line
    for match in re.finditer(r"\S+\s*", value.plain):
        word = match.group().rstrip()
        size = cell_len(word)
        if used and used + size > width:
            offsets.append(match.start())
            used = 0
        start = match.start()
        while size > width:  # a word longer than a line: cut it
            cut, cells = start, 0
            while cells + cell_len(value.plain[cut]) <= width:
                cells += cell_len(value.plain[cut])
                cut += 1
            offsets.append(cut)
            start, size = cut, size - cells
        used += size + cell_len(match.group()) - cell_len(word)
    pieces = value.divide(offsets)
    for piece in pieces:
        piece.rstrip()
    return [p for p in pieces if p.plain]


def _group(title: str, rows: list[Row], width: int) -> Text:
    """A titled label/value group whose long values fold under their column. Plain
    lines, not a Rich table grid: a third of the first frame's render went there."""
    label_width = max((len(label) for label, _ in rows), default=0)
    room = max(1, min(VALUE_WIDTH, width - label_width - 1))
    indent = " " * (label_width + 1)
    out = Text(no_wrap=True)
    out.append(title, style="bold")
    for label, value in rows:
        for n, piece in enumerate(_fold(value if isinstance(value, Text) else Text(value), room)):
            out.append("\n")
            out.append(f"{label:<{label_width}} " if n == 0 else indent, style="dim")
            out.append_text(piece)
    return out


def _lines(title: str, rows: list[Row]) -> list[Text]:
    """A group as plain lines: far cheaper to render than nested Rich tables, which
    matters because the pane repaints every cycle."""
    label_width = max((len(label) for label, _ in rows), default=0)
    out = [Text(title, style="bold")]
    for label, value in rows:
        line = Text(f"{label:<{label_width}} ", style="dim", no_wrap=True)
        line.append_text(value if isinstance(value, Text) else Text(value))
        out.append(line)
    return out


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old the values shown are, and the session's progress (from the monitor).
    Compared at every tick: the pane repaints only when what it shows changes."""

    spark: str = ""  # the progress sparkline, drawn (so equal drawings compare equal)
    age: str | None = None  # of the values, when worth saying (stale, or failing)
    stale: bool = False
    issue_for: str | None = None  # how long the task's own problem has lasted


def _progress(percent_text: str, spark: str) -> Text:
    """The percentage, then its sparkline: beside it, the line says what it plots (alone
    under "session" it said nothing)."""
    out = Text(percent_text)
    if spark:
        out.append("  ")
        out.append(spark, style="green")
    return out


def _groups(view: TaskView, fresh: Freshness, width: int
            ) -> tuple[list[list[Text]], Text]:
    job = view.job or Job(view.job_id)
    spark = fresh.spark
    progress: list[Row] = [
        ("progress", _progress(percent(job.progress), spark)),
        ("called", called_total(job)),
        ("attempts", number(job.call_total)),
        ("throughput", per_minute(view.throughput) if is_running(view) else "–"),
        ("ETA", duration(view.eta) if is_running(view) else "–"),
    ]
    outcomes: list[Row] = [
        ("answered", number(job.success)),
        ("failed", number(job.fail)),
        ("answer rate", percent(job.answer_rate)),
        ("lost calls", f"{number(job.call_loss_num)} ({percent(job.call_loss_num_rate)})"),
        ("key presses", number(job.key_feedback_num)),
        ("avg talk", duration(job.acd)),
        ("talk time", duration(job.call_duration)),
        ("billed", duration(job.charge_len)),
    ]
    agents: list[Row] = [
        ("transferred", f"{number(job.toseat_num)} ({percent(job.toseat_num_rate)})"),
        ("all to agent", number(job.all_call_toseat_num)),
        ("received", number(job.received_seat_num)),
        ("online", number(job.online_seat_num)),
        ("SIP group", safe(job.sip_group_name) if job.sip_group_name else "–"),
    ]
    timing: list[Row] = [
        ("created", local_time(job.created_time)),
        ("send", local_time(job.send_time)),
        ("modified", local_time(job.mdf_time)),
        ("finished", local_time(job.finish_time)),
        ("max ringing", duration(job.max_ringing_time)),
    ]
    config: list[Row] = [
        ("caller id", safe(job.display_num) if job.display_num else "–"),
        ("country", safe(f"+{job.country_code}") if job.country_code else "–"),
        ("language", safe(job.lan) if job.lan else "–"),
        # maxCalls is the longest a call may last, not a count (vendor quirk).
        ("max call", duration(job.max_calls)),
        ("loops", number(job.loop_count)),
        ("callout rate", _opt(job.callout_rate)),
        ("source", _SOURCES.get(job.source, _opt(job.source)) if job.source is not None else "–"),
        ("task type", _opt(job.task_type)),
        ("script", _opt(job.script_id)),
        ("app id", safe(job.app_id) if job.app_id else "–"),
        ("voice file", safe(job.voice_file_id) if job.voice_file_id else "–"),
        ("upload", safe(job.upload_name) if job.upload_name else "–"),
        ("base file", safe(job.base_file) if job.base_file else "–"),
        ("TTS text", safe(job.text) if job.text else "–"),
    ]
    return ([_lines("Progress", progress), _lines("Outcomes", outcomes),
             _lines("Agent transfer", agents), _lines("Timing", timing)],
            _group("Content / config", config, width))


COLUMN_WIDTH = 33
GUTTER = 3


def _grid(groups: list[list[Text]], width: int) -> Text:
    """Lay groups out side by side in fixed-width columns, as many as fit."""
    cols = max(1, min(len(groups), (width + GUTTER) // (COLUMN_WIDTH + GUTTER)))
    col_width = COLUMN_WIDTH if cols > 1 else max(1, width)
    lines: list[Text] = []
    for i in range(0, len(groups), cols):
        chunk = groups[i:i + cols]
        for r in range(max(len(g) for g in chunk)):
            line = Text(no_wrap=True, overflow="ellipsis")
            for c, group in enumerate(chunk):
                cell = group[r].copy() if r < len(group) else Text()
                if c < len(chunk) - 1:
                    cell.truncate(col_width, overflow="ellipsis", pad=True)
                    cell.append(" " * GUTTER)
                line.append_text(cell)
            lines.append(line)
    return Text("\n").join(lines)


def _issue_line(view: TaskView, fresh: Freshness) -> Text | None:
    """The task's own problem, since when, how many tries, and the age of its values."""
    issue = view.issue
    if issue is None or view.missing:
        if fresh.stale and fresh.age:
            return Text(f"values not confirmed for {fresh.age}: the API is not answering",
                        style="yellow")
        return None
    line = Text(f"⚠ {issue.word} for {fresh.issue_for or '<1m'}, {issue.tries} "
                f"{'try' if issue.tries == 1 else 'tries'}: ", style="bold red")
    line.append(sanitize(issue.message, 200), style="red")
    if view.job is None:
        line.append(" · no values yet", style="dim")
    else:
        line.append(f" · values shown are {fresh.age or '<1m'} old", style="dim")
    line.append(" · retrying on its own; r retries now", style="dim")
    return line


def detail_parts(view: TaskView | None, width: int = 120, fresh: Freshness | None = None
                 ) -> tuple[RenderableType, Text | None]:
    """The pane's two parts: what moves (title, problem, the numbers) and the content /
    config group, which rarely changes (drawn again only when it does)."""
    if view is None:
        return Text("No task selected. Press a to add job ids, b to browse the account.",
                    style="dim"), None
    title = Text()
    title.append(f"#{view.job_id} ", style="bold")
    title.append_text(safe(view.job.task_name if view.job else None, 60))
    title.append("  ")
    title.append_text(state_text(view))
    fresh = fresh or Freshness()
    if view.missing:
        title.append("  the API has no task with this id (-24); d removes it", style="red")
    elif view.job is not None and not view.job.has_detail and view.issue is None:
        title.append("  (detail loading…)", style="dim")
    columns, config = _groups(view, fresh, width)
    issue = _issue_line(view, fresh)
    parts = [title] if issue is None else [title, issue]
    return Group(*parts, _grid(columns, width)), config


def detail_renderable(view: TaskView | None, width: int = 120,
                      fresh: Freshness | None = None) -> RenderableType:
    moving, config = detail_parts(view, width, fresh)
    return moving if config is None else Group(moving, config)


def _config_key(config: Text | None, width: int) -> tuple[object, ...] | None:
    """What the config part shows: its text and styles (None: no part)."""
    if config is None:
        return None
    return (width, config.plain, tuple(config.spans))


def _shape(view: TaskView | None, width: int, fresh: Freshness) -> tuple[object, ...]:
    """What the pane's height depends on (texts that may wrap, flags, the width)."""
    if view is None:
        return (width,)
    job = view.job
    if fresh.stale and view.issue is None:
        return ("stale", *_shape(view, width, Freshness()))
    return (width, view.job_id, view.missing, view.issue is None, job is None,
            job and (job.has_detail, job.task_name, job.text, job.upload_name, job.base_file,
                     job.voice_file_id, job.display_num, job.sip_group_name))


class DetailPane(VerticalScroll):
    """The selected task's detail, below the table on big terminals."""

    can_focus = False

    def __init__(self, view: TaskView | None = None, fresh: Freshness | None = None, *,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.view = view
        self.fresh = fresh or Freshness()
        self._shape: tuple[object, ...] | None = None
        self._config: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        moving, config = detail_parts(self.view, fresh=self.fresh)
        yield Static(moving, id="detail-body")
        config_part = Static(config or "", id="detail-config")
        config_part.display = config is not None
        self._config = _config_key(config, 120)
        yield config_part

    def show(self, view: TaskView | None, fresh: Freshness | None = None) -> None:
        self.view = view
        self.fresh = fresh = fresh or Freshness()
        width = self.size.width or self.app.size.width
        # Counters moving do not change the pane's height: repaint it without a layout
        # of the whole screen (which would repaint the table too).
        shape = _shape(view, width, fresh)
        moving, config = detail_parts(view, width - 2, fresh)
        self.query_one("#detail-body", Static).update(moving, layout=shape != self._shape)
        self._shape = shape
        # The config part is drawn again only when what it shows changed: not each cycle.
        key = _config_key(config, width)
        if key != self._config:
            self._config = key
            part = self.query_one("#detail-config", Static)
            part.display = config is not None
            part.update(config or "")

    def on_resize(self) -> None:
        self.show(self.view, self.fresh)


class DetailScreen(Screen[None]):
    """Full-screen detail (small terminals, or enter)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("q", "app.pop_screen", "Back", show=False, id="detail.close"),
        Binding("j,down", "scroll('down')", "Scroll", show=False, id="detail.down"),
        Binding("k,up", "scroll('up')", "Scroll", show=False, id="detail.up"),
        Binding("g,home", "scroll('top')", "Top", show=False, id="detail.top"),
        Binding("G,end", "scroll('bottom')", "Bottom", show=False, id="detail.bottom"),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False,
                id="detail.page_down"),
        Binding("pageup", "scroll('page_up')", "Page up", show=False, id="detail.page_up"),
    ]

    def __init__(self, job_id: int, view: TaskView | None = None,
                 fresh: Freshness | None = None) -> None:
        super().__init__()
        self.job_id = job_id
        self.view = view
        self.fresh = fresh

    def compose(self) -> ComposeResult:
        yield DetailPane(self.view, self.fresh, id="detail-full")
        yield Footer()

    def action_scroll(self, direction: str) -> None:
        pane = self.query_one(DetailPane)
        moves = {"down": pane.scroll_down, "up": pane.scroll_up, "top": pane.scroll_home,
                 "bottom": pane.scroll_end, "page_down": pane.scroll_page_down,
                 "page_up": pane.scroll_page_up}
        moves[direction](animate=False)

    def show(self, view: TaskView | None, fresh: Freshness | None = None) -> None:
        self.view = view
        for pane in self.query(DetailPane):
            pane.show(view, fresh)
