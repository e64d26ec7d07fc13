"""Small widgets of the main screen: the status line and the problem banner."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from callwatch.monitor import Monitor, Problem
from callwatch.textsafe import sanitize
from callwatch.tui.format import duration, money

LEVELS = {
    "error": ("✗ ERROR", "bold white on dark_red"),
    "warning": ("! WARN ", "bold black on yellow"),
    "info": ("i INFO ", "black on cyan"),
}


def age_style(age: float, interval: float) -> str:
    """Fresh, then yellow, then red, relative to the refresh interval."""
    if age > 5 * interval + 10:
        return "bold white on red"
    if age > 2 * interval + 2:
        return "bold black on yellow"
    return ""


class StatusLine(Horizontal):
    """The header line, in three parts so that the one changing every second (the age
    of the last refresh) repaints alone: a few dozen bytes to the terminal, not a line."""

    def __init__(self, monitor: Monitor, account: str, clock: Callable[[], float],
                 *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.monitor = monitor
        self.account = account
        self.clock = clock
        self._last: tuple[Text, Text, Text] | None = None
        self._widgets: list[Static] | None = None
        self._key_last: tuple[object, ...] | None = None
        self.actions = False  # cancel/suspend enabled: said in the head, always

    def compose(self) -> ComposeResult:
        for part in ("head", "age", "tail"):
            yield Static("", markup=False, classes=f"status-{part}")

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        key = self._key()
        if key == self._key_last:
            return  # nothing the line shows has changed (most seconds)
        self._key_last = key
        parts = self._parts()
        last = self._last
        self._last = parts
        if self._widgets is None:  # found once: this runs every second
            self._widgets = list(self.query(Static))
        for i, (widget, text) in enumerate(zip(self._widgets, parts, strict=True)):
            if last is None or last[i] != text:
                # Same width: repaint just this part; another width moves its neighbours.
                same = last is not None and last[i].cell_len == text.cell_len
                widget.update(text, layout=not same)

    def _key(self) -> tuple[object, ...]:
        """Everything the line depends on, cheaply (``_parts`` builds three texts): the
        age as its label would say it, and the monitor's figures."""
        mon = self.monitor
        now, eff = self.clock(), mon.effective_interval
        if mon.paused:
            age: object = ("paused", duration(now - mon.paused_at)
                           if mon.paused_at is not None else "")
        elif mon.last_success is None:
            age = None
        else:
            ago = max(0.0, now - mon.last_success)
            age = "fresh" if ago <= eff + 2 else (duration(ago), age_style(ago, eff))
        balance = mon.balance.last if mon.balance is not None else None
        return (age, self.account, self.actions, mon.interval, mon.backoff, eff,
                mon.failing, mon.watched_count, balance, self.size.width)

    def build(self) -> Text:
        """The whole line as one text (for tests and logs)."""
        return Text("").join(self._parts())

    def _parts(self) -> tuple[Text, Text, Text]:
        mon = self.monitor
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" callwatch ", style="bold reverse")
        head.append(f" {sanitize(self.account)} ", style="bold")
        if self.actions:  # a word and a colour: NO_COLOR keeps the word
            head.append(" ACTIONS ON ", style="bold white on dark_red")
            head.append(" ")
        head.append("│ ")
        interval = f"every {mon.interval:g}s"
        if mon.backoff > 1:
            interval += f" (backoff {mon.effective_interval:g}s)"
        head.append(interval)
        head.append(" │ ")
        age_text = Text(no_wrap=True)
        now = self.clock()
        if mon.paused:
            # Paused is a choice, not staleness: say so, and for how long.
            since = duration(now - mon.paused_at) if mon.paused_at is not None else ""
            age_text.append(f" ‖ PAUSED {since} ", style="bold black on yellow")
        elif mon.last_success is None:
            age_text.append("not updated yet", style="dim")
        else:
            age = max(0.0, now - mon.last_success)
            if age <= mon.effective_interval + 2:
                # Fresh: a label that does not change every second (idle repaints).
                age_text.append(" ✓ up to date ")
            else:
                label = f"updated {duration(age)} ago"
                style = age_style(age, mon.effective_interval)
                if style:
                    label = ("STALE: " if "red" in style else "late: ") + label
                age_text.append(f" {label} ", style=style)
        tail = Text(no_wrap=True)
        failing = mon.failing
        if failing:
            tail.append(" │ ")
            tail.append(f"⚠ {failing} failing", style="bold red")
        tail.append(f" │ {mon.watched_count} watched")
        balance = mon.balance.last if mon.balance is not None else None
        if balance is not None:
            # Shorter forms on a narrow terminal: the whole line must fit.
            room = self.size.width - head.cell_len - age_text.cell_len - tail.cell_len - 3
            label = next((t for t in (money(balance, n) for n in (0, 1, 2))
                          if len(t) <= room), money(balance, 2))
            tail.append(" │ ")
            tail.append(label, style="bold red" if balance.balance <= 0 else "")
        return head, age_text, tail


class Banner(Static):
    """One colour-coded line per active problem, each with its fix in words."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)
        self.problems: tuple[Problem, ...] = ()
        self.display = False

    def show(self, problems: Sequence[Problem]) -> None:
        problems = tuple(problems)
        if problems == self.problems:
            return
        self.problems = problems
        self.display = bool(problems)
        text = Text()
        for i, p in enumerate(problems):
            tag, style = LEVELS.get(p.level, LEVELS["warning"])
            if i:
                text.append("\n")
            text.append(f" {tag} ", style=style)
            text.append(" ")
            text.append(sanitize(p.message), style="bold")
            if p.fix:
                text.append(f" → {sanitize(p.fix)}")
        self.update(text)
