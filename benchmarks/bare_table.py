"""The floor: a bare Textual app with a DataTable as big as callwatch's, same changes.

It has what any live table needs and nothing more: a one-line header with a clock
label updated every second, the table (same columns, same widths) and a footer.
Each cycle it changes ``cells`` cells, spread evenly over ``rows`` rows (by default
every tenth row), the last columns of each.

- ``python -m benchmarks.bare_table cpu --tasks N --rows R --cells C --cycles K
  --interval S``: headless, changing on a timer every S seconds as a monitor refreshes;
  prints ``RESULT=`` JSON with CPU seconds per cycle (clock label included, as the
  monitor's own header clock is), the cycles' period and peak RSS.
- ``python -m benchmarks.bare_table run --tasks N --cells C --interval S``: a real
  app for a terminal (the pty byte counts); ``--cells 0`` changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from benchmarks.procstat import peak_rss_mb

# The columns of callwatch's wide layout (160 columns and more).
COLUMNS = (("ID", 7), ("Name", 30), ("State", 15), ("Progress", 14), ("Called/Total", 15),
           ("OK", 8), ("Fail", 8), ("Ans%", 6), ("Calls/m", 8), ("ETA", 7))
FIRST_ID = 5_000_600
SIZE = (160, 50)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class BareTable(App[None]):
    CSS = "#clock { height: 1; } DataTable { height: 1fr; }"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, tasks: int, cells: int, interval: float | None = None,
                 rows: int | None = None) -> None:
        super().__init__()
        self.tasks = tasks
        self.cells = cells
        self.rows = max(1, min(tasks, rows if rows is not None else tasks // 10))
        self.interval = interval
        self.generation = 0
        self.changes = 0
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        yield Static("", id="clock", markup=False)
        yield DataTable[Text](id="table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for i, (label, width) in enumerate(COLUMNS):
            table.add_column(label, width=width, key=str(i))
        for n in range(self.tasks):
            jid = FIRST_ID + n
            table.add_row(*(self.value(jid, c) for c in range(len(COLUMNS))), key=str(jid))
        table.focus()
        self.set_interval(1.0, self.tick)
        self.tick()
        if self.interval is not None:
            self.set_interval(self.interval, self.change)

    def value(self, jid: int, column: int) -> Text:
        if column == 0:
            return Text(str(jid), justify="right")
        if column == 1:
            return Text(f"bench-{jid}")
        return Text(f"{(jid * 7 + column * 13 + self.generation) % 100_000:,}",
                    justify="right")

    def tick(self) -> None:
        age = int(time.monotonic() - self.started) % 3
        self.query_one("#clock", Static).update(
            Text(f" bare │ every 1s │ updated {age}s ago │ {self.tasks} rows", no_wrap=True),
            layout=False)

    def change(self) -> None:
        """Change ``cells`` cells: the last columns of ``rows`` rows spread evenly."""
        self.changes += 1
        if not self.cells:
            return
        self.generation += 1
        table = self.query_one(DataTable)
        per_row = max(1, min(len(COLUMNS) - 2, -(-self.cells // self.rows)))
        left = self.cells
        for i in range(self.rows):
            jid = FIRST_ID + i * self.tasks // self.rows
            for c in range(len(COLUMNS) - per_row, len(COLUMNS)):
                if left <= 0:
                    return
                table.update_cell(str(jid), str(c), self.value(jid, c))
                left -= 1


async def measure_cpu(tasks: int, rows: int, cells: int, cycles: int,
                      interval: float) -> dict[str, Any]:
    """CPU per cycle with the table changing on a timer, from one change to another."""
    app = BareTable(tasks, cells, interval, rows)
    out: dict[str, Any] = {"tasks": tasks, "rows": app.rows, "cells": cells}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        async def after(n: int) -> None:
            deadline = time.monotonic() + 60 + n * interval * 5
            while app.changes < n:
                if time.monotonic() > deadline:
                    raise RuntimeError("the bare table stopped changing")
                await asyncio.sleep(0.01)

        await after(2)  # warm-up
        n0, c0, w0 = app.changes, cpu(), time.perf_counter()
        await after(n0 + cycles)
        done = app.changes - n0
        out["cpu_change"] = (cpu() - c0) / done
        out["period"] = (time.perf_counter() - w0) / done
        out["rss_mb"] = peak_rss_mb()
        app.exit()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("cpu", "run"))
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--cells", type=int, default=0)
    p.add_argument("--rows", type=int, default=None, help="rows changed (default: a tenth)")
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args(argv)
    if args.mode == "cpu":
        rows = args.rows if args.rows is not None else args.tasks // 10
        result = asyncio.run(measure_cpu(args.tasks, rows, args.cells, args.cycles,
                                         args.interval))
        print("RESULT=" + json.dumps(result), flush=True)
    else:
        BareTable(args.tasks, args.cells, args.interval, args.rows).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
