"""What the job table remembers of a row: the signature of its cells (to repaint only
the cells that changed) and the filter's test. Strips are Textual's; the rest is plain data."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.strip import Strip

from callwatch.monitor import TaskView

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
    sig: tuple[CellSig, ...]
    strip: Strip
    flag: str | None = None  # its alert marker then ("stalled", "high fail")
