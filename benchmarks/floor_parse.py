"""The physical floor's work: list pages through ``json.loads`` and callwatch's parser
alone (no network, no diffing, no screen). Shared by ``benchmarks.physical_floor`` (pages
recorded in a process of its own) and ``benchmarks.live_app`` (the very pages the app
received in a CPU window, timed as each cycle ends). No httpx here: the app's process
imports it."""

from __future__ import annotations

import json
import marshal
import os
import statistics
import sys
import time
from collections.abc import Iterable
from typing import Any

from callwatch.api.models import RecordMemo, parse_page


def parse_cycle(pages: list[bytes], memo: RecordMemo) -> int:
    records = 0
    for body in pages:
        records += len(parse_page(json.loads(body), memo).records)
    return records


def cpu_per_cycle(cycles: list[list[bytes]], repeats: int = 3) -> tuple[float, int]:
    """The least CPU per cycle over ``repeats`` passes, each from an empty memo warmed
    by the first cycle (as the client's memo holds the cycle before)."""
    best, records = float("inf"), 0
    for _ in range(repeats):
        memo: RecordMemo = {}
        parse_cycle(cycles[0], memo)
        times = []
        for pages in cycles[1:]:
            t0 = time.process_time()
            records = parse_cycle(pages, memo)
            times.append(time.process_time() - t0)
        best = min(best, statistics.mean(times))
    return best, records


def serve(paths: Iterable[str]) -> dict[str, Any]:
    """Time each cycle of pages as it is handed over (one file a cycle, ``marshal``'d,
    deleted once read), with one memo throughout as the app's: the first cycle warms
    it, the others are timed. The app hands a cycle over as it ends, so the floor is
    measured in the same minutes as the app's own cycles, on a machine whose speed
    varies from minute to minute (a shared virtual machine's by a third or more)."""
    memo: RecordMemo = {}
    times: list[float] = []
    records, warm = 0, False
    for line in paths:
        path = line.strip()
        if not path:
            continue
        with open(path, "rb") as f:
            pages = marshal.load(f)
        os.unlink(path)
        t0 = time.process_time()
        records = parse_cycle(pages, memo)
        spent = time.process_time() - t0
        if warm:
            times.append(spent)
        warm = True
    if not times:
        return {}
    return {"cpu_per_cycle": statistics.mean(times), "min": min(times),
            "median": statistics.median(times), "records": records, "cycles": len(times)}


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.floor_parse FILE``: the floor of the cycles of list pages
    in FILE (``marshal``: a list of cycles, each a list of page bodies), in a process
    of its own, so the parse runs on a fresh heap, not the app's. ``--serve``: cycles
    handed over one at a time, a file path a line on stdin (see :func:`serve`)."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("pages", nargs="?")
    p.add_argument("--serve", action="store_true")
    a = p.parse_args(argv)
    if a.serve:
        result = serve(sys.stdin)
    else:
        with open(a.pages, "rb") as f:
            cycles = marshal.load(f)
        cpu, records = cpu_per_cycle(cycles)
        result = {"cpu_per_cycle": cpu, "records": records, "cycles": len(cycles) - 1}
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
