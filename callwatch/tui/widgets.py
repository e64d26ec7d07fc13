"""Small widgets of the main screen: the status line and the problem banner."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import Static

from callwatch.monitor import Monitor, Problem
from callwatch.textsafe import sanitize
from callwatch.tui.format import duration

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


class StatusLine(Static):
    """The header line. Only this widget changes every second."""

    def __init__(self, monitor: Monitor, account: str, clock: Callable[[], float],
                 *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)
        self.monitor = monitor
        self.account = account
        self.clock = clock
        self._last: Text | None = None

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        text = self.build()
        if text != self._last:
            self._last = text
            self.update(text, layout=False)  # one line, always: no screen layout

    def build(self) -> Text:
        mon = self.monitor
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(" callwatch ", style="bold reverse")
        out.append(f" {sanitize(self.account)} ", style="bold")
        out.append("│ ")
        interval = f"every {mon.interval:g}s"
        if mon.backoff > 1:
            interval += f" (backoff {mon.effective_interval:g}s)"
        out.append(interval)
        if mon.paused:
            out.append(" │ ")
            out.append(" ‖ PAUSED ", style="bold black on yellow")
        out.append(" │ ")
        if mon.last_success is None:
            out.append("not updated yet", style="dim")
        else:
            age = max(0.0, self.clock() - mon.last_success)
            label = f"updated {duration(age)} ago"
            style = age_style(age, mon.effective_interval)
            if style:
                label = ("STALE: " if "red" in style else "late: ") + label
            out.append(f" {label} ", style=style)
        out.append(f" │ {len(mon.watched)} watched")
        return out


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
