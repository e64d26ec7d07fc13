"""The floor: a bare Textual app with a DataTable as big as callwatch's, same changes.

It has what any live table needs and nothing more: a one-line header with a clock
label updated every second, the table (same columns, same widths) and a footer.
Each cycle it changes ``cells`` cells, spread over every tenth row.

- ``python -m benchmarks.bare_table cpu --tasks N --cells C --cycles K``: headless,
  prints ``RESULT=`` JSON with CPU seconds per changing / idle cycle and peak RSS.
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

    def __init__(self, tasks: int, cells: int, interval: float | None = None) -> None:
        super().__init__()
        self.tasks = tasks
        self.cells = cells
        self.interval = interval
        self.generation = 0
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
        """Change ``cells`` cells: the last columns of every tenth row."""
        if not self.cells:
            return
        self.generation += 1
        table = self.query_one(DataTable)
        per_row = max(1, min(len(COLUMNS) - 2, round(self.cells / max(1, self.tasks // 10))))
        left = self.cells
        for n in range(0, self.tasks, 10):
            jid = FIRST_ID + n
            for c in range(len(COLUMNS) - per_row, len(COLUMNS)):
                if left <= 0:
                    return
                table.update_cell(str(jid), str(c), self.value(jid, c))
                left -= 1


async def measure_cpu(tasks: int, cells: int, cycles: int) -> dict[str, Any]:
    app = BareTable(tasks, cells)
    out: dict[str, Any] = {"tasks": tasks, "cells": cells}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):
            app.change()
            await pilot.pause()
        c0 = cpu()
        for _ in range(cycles):
            app.change()
            await asyncio.sleep(0.01)  # as the monitor's child polls for its cycle
            await pilot.pause()
        out["cpu_change"] = (cpu() - c0) / cycles
        c0 = cpu()
        for _ in range(cycles):
            await asyncio.sleep(0.01)
            await pilot.pause()
        out["cpu_idle_cycle"] = (cpu() - c0) / cycles
        out["rss_mb"] = peak_rss_mb()
        app.exit()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("cpu", "run"))
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--cells", type=int, default=0)
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args(argv)
    if args.mode == "cpu":
        result = asyncio.run(measure_cpu(args.tasks, args.cells, args.cycles))
        print("RESULT=" + json.dumps(result), flush=True)
    else:
        BareTable(args.tasks, args.cells, args.interval).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
