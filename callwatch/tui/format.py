"""Cell and value formatting for the monitor: plain Rich Text, never markup.

Every state has a glyph and a word as well as a colour (NO_COLOR, 16 colours,
colour-blind operators): callwatch/api/states.py holds them, re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from callwatch.api.models import Balance, Job, JobState
from callwatch.api.states import LOADING as LOADING
from callwatch.api.states import NOT_FOUND as NOT_FOUND
from callwatch.api.states import STATE_LOOKS as STATE_LOOKS
from callwatch.api.states import StateLook as StateLook
from callwatch.monitor import TaskView
from callwatch.textsafe import sanitize

STALE_MARK = "⌛"  # values older than they should be: survives NO_COLOR

BAR_WIDTH = 9
BLOCKS = " ▏▎▍▌▋▊▉█"
SPARKS = "▁▂▃▄▅▆▇█"


def look(view: TaskView) -> StateLook:
    if view.missing:
        return NOT_FOUND
    if view.issue is not None:  # the task's own problem; its last values stay shown
        return StateLook("⚠", view.issue.word, "bold red")
    if view.job is None:
        return LOADING
    return STATE_LOOKS[view.job.state]


def coarse_age(seconds: float) -> str:
    """An age that changes rarely: ``<1m``, ``3m``, ``2h``, ``4d``."""
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def stale_mark(age: float) -> str:
    """How old a stale row's values are, coarsely (so it repaints rarely)."""
    return STALE_MARK + coarse_age(age)


# Alert markers (monitor/events.py) in place of the state word, while they last.
FLAG_LOOKS = {"stalled": StateLook("⏸", "stalled", "bold black on yellow"),
              "high fail": StateLook("▶", "high fail", "bold red")}


def state_text(view: TaskView, flag: str | None = None) -> Text:
    lk = look(view)
    if flag in FLAG_LOOKS and view.issue is None and not view.missing:
        lk = FLAG_LOOKS[flag]
    return Text(f"{lk.glyph} {lk.word}", style=lk.style)


def safe(value: str | None, limit: int | None = None) -> Text:
    """API text, literally (no markup) and without control characters."""
    return Text(sanitize(value or "", limit))


ELLIPSIS = "…"
# Where a name's distinguishing end may start: "-11-a" rather than "6-11-a".
_SEPARATORS = frozenset("-_. /:#")


def fit_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells, cut in the middle: ``bulk-cam…-11-a``.

    Tasks named alike differ at the end (a date, a batch letter), so the end stays.
    Counted in cells, not characters: CJK and emoji take two.
    """
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - 1
    tail = _end(text, room // 2)
    cut = next((i for i, ch in enumerate(tail[: len(tail) // 3 + 1]) if ch in _SEPARATORS
                and i > 0), 0)
    tail = tail[cut:]
    while tail and get_character_cell_size(tail[0]) == 0:  # no mark on the ellipsis
        tail = tail[1:]
    return _start(text, room - cell_len(tail)) + ELLIPSIS + tail


def _start(text: str, cells: int) -> str:
    used = 0
    for i, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > cells:
            return text[:i]
    return text


def _end(text: str, cells: int) -> str:
    used = 0
    for i in range(len(text) - 1, -1, -1):
        used += get_character_cell_size(text[i])
        if used > cells:
            return text[i + 1:]
    return text


def bar(percent: float | None, width: int = BAR_WIDTH) -> Text:
    """A fixed-width text progress bar with the percentage: ``████▌     45%``."""
    if percent is None:
        return Text(" " * width + "    –", style="dim")
    pct = max(0.0, min(100.0, percent))
    eighths = int(round(pct / 100.0 * width * 8))
    full, part = divmod(eighths, 8)
    filled = "█" * full + (BLOCKS[part] if part else "")
    out = Text()
    out.append(filled, style="green" if pct < 100 else "blue")
    out.append(" " * (width - len(filled)), style="on grey23")
    out.append(f" {pct:3.0f}%")
    return out


def number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def count4(value: int | None) -> str:
    """At most four characters: ``987``, ``9.9k``, ``98k``, ``987k``, ``9.9M``, ``12M``."""
    if value is None:
        return "–"
    if value < 1000:
        return str(value)
    for unit, size in (("k", 1e3), ("M", 1e6), ("G", 1e9)):
        if value < 9.95 * size:
            return f"{value / size:.1f}{unit}"
        if value < 999.5 * size:
            return f"{round(value / size)}{unit}"
    return f"{round(value / 1e9)}G"


def percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}%"


def duration(seconds: float | None) -> str:
    """Human durations: ``45s``, ``2m 13s``, ``1h 02m``, ``3d 4h``."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


def short_money(value: float) -> str:
    """At most about six characters: ``99.99``, ``1.25k``, ``10k``, ``3.4M``."""
    if abs(value) < 1000:
        return f"{value:.2f}"
    for unit, size in (("k", 1e3), ("M", 1e6), ("G", 1e9)):
        if abs(value) < 999.5 * size:
            return f"{value / size:.3g}{unit}"
    return f"{value / 1e9:.0f}G"


def money(balance: Balance, level: int = 0) -> str:
    """The header's balance, with gift and credit when they are not zero; ``level`` 1
    and 2 are shorter (a narrow terminal): short numbers, then the balance alone."""
    fmt = (lambda v: f"{v:,.2f}") if level == 0 else short_money
    text = f"bal {fmt(balance.balance)}"
    if balance.currency and level < 2:
        text += f" {sanitize(balance.currency, 8)}"
    if balance.gift and level < 2:
        text += f" +gift {fmt(balance.gift)}"
    if balance.credit and level < 2:
        text += f" credit {fmt(balance.credit)}"
    return text


def local_time(value: datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def per_minute(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}/m"


def sparkline(series: tuple[float, ...], width: int = 40) -> str:
    if not series:
        return ""
    pts = series[-width:]
    lo, hi = min(pts), max(pts)
    span = hi - lo
    if span <= 0:
        # Flat, drawn at full width: it does not grow (and repaint) as points arrive.
        return SPARKS[0] * width
    return "".join(SPARKS[min(7, int((p - lo) / span * 7.999))] for p in pts)


def called_total(job: Job | None) -> str:
    if job is None:
        return "–"
    return f"{number(job.called)}/{number(job.num_cnt)}"


def is_running(view: TaskView) -> bool:
    return view.job is not None and view.job.state is JobState.CALLING


# --- columns -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    minimum: str  # narrowest layout that shows it: "narrow" | "medium" | "wide"
    maximum: str = "wide"  # widest layout that shows it


COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", 7, "narrow"),
    Column("name", "Name", 12, "narrow"),  # the width left over: see columns_for
    Column("state", "State", 15, "narrow"),
    Column("progress", "Progress", BAR_WIDTH + 5, "narrow"),
    Column("called", "Called/Total", 15, "medium"),
    # Narrow and medium screens: the counts in four characters, each under its own
    # heading (one "276/238" column read as "276 of 238").
    Column("ok4", "OK", 4, "narrow", "medium"),
    Column("fail4", "Fail", 4, "narrow", "medium"),
    Column("success", "OK", 8, "wide"),
    Column("fail", "Fail", 8, "wide"),
    Column("rate", "Ans%", 6, "medium"),
    Column("tput", "Calls/m", 8, "medium"),
    Column("eta", "ETA", 7, "narrow"),
)
# Numbers are right-aligned, and so are their column headings.
RIGHT_ALIGNED = frozenset({"called", "ok4", "fail4", "success", "fail", "rate", "tput",
                           "eta"})
LAYOUTS = ("narrow", "medium", "wide")
LAYOUT_WIDTH = {"narrow": 80, "medium": 120, "wide": 160}  # the narrowest screen of each
CELL_PAD = 1  # blank cells each side of a column (the table's PAD)
SCROLLBAR = 1  # the table's vertical scrollbar (#jobs in app.tcss)
NAME_MIN, NAME_MAX = 12, 40


def layout_for(width: int) -> str:
    if width >= LAYOUT_WIDTH["wide"]:
        return "wide"
    if width >= LAYOUT_WIDTH["medium"]:
        return "medium"
    return "narrow"


def columns_for(layout: str, width: int | None = None) -> list[Column]:
    """The columns of ``layout``; the name column gets the room the others leave on a
    screen ``width`` cells wide (default: the layout's narrowest screen)."""
    rank = LAYOUTS.index(layout)
    out = [col for col in COLUMNS
           if LAYOUTS.index(col.minimum) <= rank <= LAYOUTS.index(col.maximum)]
    room = (width or LAYOUT_WIDTH[layout]) - SCROLLBAR
    used = sum(col.width + 2 * CELL_PAD for col in out if col.key != "name") + 2 * CELL_PAD
    name = max(NAME_MIN, min(NAME_MAX, room - used))
    return [Column("name", col.label, name, col.minimum) if col.key == "name" else col
            for col in out]


def cell(view: TaskView, key: str, name_width: int = 16, stale: str | None = None,
         flag: str | None = None) -> Text:
    """The content of one table cell (compare two of these to diff). ``stale``: the
    age mark of values not confirmed lately (no rate or ETA is shown from them);
    ``flag``: the task's alert marker (the state column says it)."""
    job = view.job
    if stale is not None and key in ("tput", "eta"):
        return Text(stale if key == "eta" else "?", justify="right")
    if key == "id":
        return Text(str(view.job_id), justify="right")
    if key == "name":  # fitted here, so the table's own cut never applies
        return Text(fit_middle(sanitize(job.task_name or "" if job else ""), name_width))
    if key == "state":
        return state_text(view, flag)
    if key == "progress":
        return bar(job.progress if job else None)
    if key == "called":
        return Text(called_total(job), justify="right")
    if key == "success":
        return Text(number(job.success if job else None), justify="right")
    if key == "fail":
        return Text(number(job.fail if job else None), justify="right")
    if key == "ok4":
        return Text(count4(job.success if job else None), justify="right")
    if key == "fail4":
        return Text(count4(job.fail if job else None), justify="right")
    if key == "rate":
        return Text(percent(job.answer_rate if job else None, 0), justify="right")
    if key == "tput":
        return Text(per_minute(view.throughput) if is_running(view) else "", justify="right")
    if key == "eta":
        return Text(duration(view.eta) if is_running(view) and view.eta is not None else "",
                    justify="right")
    raise KeyError(key)


# --- sorting -------------------------------------------------------------------------

SORT_KEYS: tuple[str, ...] = ("id", "name", "state", "progress", "eta")


def sort_value(view: TaskView | None, key: str) -> tuple[int, float | str]:
    """A total order for each sort column; unknown values sort last."""
    if view is None:
        return (9, 0.0)
    job = view.job
    if key == "name":
        return (0, (job.task_name or "").lower()) if job and job.task_name else (1, "")
    if key == "state":
        if view.missing:
            return (NOT_FOUND.rank, 0.0)
        return ((job.state.look if job else LOADING).rank, 0.0)
    if key == "progress":
        p = job.progress if job else None
        return (0, p) if p is not None else (1, 0.0)
    if key == "eta":
        return (0, view.eta) if view.eta is not None and is_running(view) else (1, 0.0)
    return (0, float(view.job_id))
