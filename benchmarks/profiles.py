"""A profile's top lines, with file names relative to the project or the packages."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def place(filename: str) -> str:
    """``callwatch/tui/table.py`` or ``textual/app.py``: never a path of this machine."""
    if filename.startswith("~") or filename.startswith("<"):
        return filename  # built-ins: "~" or "<frozen ...>"
    marker = "site-packages/"
    if marker in filename:
        return filename.split(marker, 1)[1]
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        parts = Path(filename).parts
        return "/".join(parts[-2:])  # the standard library: "asyncio/events.py"


def top_lines(prof: cProfile.Profile, count: int = 25) -> list[str]:
    """The functions with the most time of their own, as Markdown table rows."""
    stats = pstats.Stats(prof)
    # The event loop's wait for I/O or timers is idle time, not work.
    items = [(k, v) for k, v in stats.stats.items()  # type: ignore[attr-defined]
             if not (k[2].startswith("<method 'poll'") or k[2].startswith("<method 'select'"))]
    total = max(sum(v[2] for _, v in items), 1e-9)
    rows = sorted(items, key=lambda kv: kv[1][2], reverse=True)
    out = []
    for (filename, line, func), (_cc, calls, own, cumulative, _callers) in rows[:count]:
        where = place(filename) + (f":{line}" if line else "")
        out.append(f"| {own * 1000:,.0f} ms | {own / total * 100:.1f}% "
                   f"| {cumulative * 1000:,.0f} ms | {calls:,} | `{func}` {where} |")
    return out
