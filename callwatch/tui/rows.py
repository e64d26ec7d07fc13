"""What the job table remembers of a row: the signature of its cells (to repaint only
the cells that changed) and the filter's test. Strips are Textual's; the rest is plain data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.console import Console
from rich.text import Text
from textual.strip import Strip

from callwatch.monitor import TaskView
from callwatch.tui.format import Column

# A cell's content and look, comparable and hashable (Rich Text is neither cheaply).
CellSig = tuple[str, str | None, str, tuple[tuple[int, int, str], ...]]


def signature(cells: list[Text]) -> tuple[CellSig, ...]:
    return tuple((t.plain, t.justify, str(t.style),
                  tuple((s.start, s.end, str(s.style)) for s in t.spans)) for t in cells)


def matches(view: TaskView, needle: str) -> bool:
    """Filter: case-insensitive substring over the id and the name."""
    if not needle:
        return True
    n = needle.lower()
    name = view.job.task_name if view.job and view.job.task_name else ""
    return n in str(view.job_id) or n in name.lower()


class Drawn(NamedTuple):
    view: TaskView  # what the row was drawn from
    mark: str | None  # its stale mark then
    picked: bool  # marked (space) for an action then
    sig: tuple[CellSig, ...]
    strip: Strip
    flag: str | None = None  # its alert marker then ("stalled", "high fail")


def row_strip(columns: Sequence[Column], cells: list[Text], console: Console, pad: int, *,
              dim: bool = False, picked: bool = False) -> Strip:
    """One table line: each cell cut and aligned to its column, ``pad`` blanks around.
    A marked row (``picked``) has "●" in the first column's left padding (no column
    moves) and is bold: both survive NO_COLOR."""
    line = Text(no_wrap=True, end="", style="bold" if picked else ("dim" if dim else ""))
    blank = " " * pad
    for i, (col, content) in enumerate(zip(columns, cells, strict=True)):
        text = content.copy()
        text.truncate(col.width, overflow="ellipsis")  # by cells: wide characters
        text.align(content.justify or "left", col.width)  # type: ignore[arg-type]
        line.append("●" + blank[1:] if picked and i == 0 and pad else blank)
        line.append_text(text)
        line.append(blank)
    return Strip(list(line.render(console)), line.cell_len)
