"""Child process: the physical floor of a refresh cycle.

``python -m benchmarks.physical_floor --base-url URL --cycles K`` lets callwatch's own
monitor (``--all-active``) run K+1 cycles against the simulator at the refresh interval
and keeps the list pages it received, as bytes. Then it times only what no monitor can
skip: ``json.loads`` of those pages and callwatch's ``Job`` parser (``parse_page``, with
the client's memo of unchanged records, warmed by the cycle before). No network, no
diffing, no screen. Prints ``RESULT=`` JSON with CPU seconds per cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx

from benchmarks.bench_sim import KEY, SECRET
from benchmarks.floor_parse import cpu_per_cycle
from callwatch.api.client import ApiClient, Credentials
from callwatch.api.models import Job, parse_page
from callwatch.api.signing import Secret
from callwatch.monitor import Monitor


class Recorder(httpx.AsyncHTTPTransport):
    """A real transport that also keeps the body of every list page."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await super().handle_async_request(request)
        body = await resp.aread()
        await resp.aclose()
        if request.url.path.endswith("/group/call/query"):
            self.pages.append(body)
        return httpx.Response(resp.status_code, headers=resp.headers, content=body,
                              request=request)


async def record(base_url: str, cycles: int, interval: float) -> list[list[bytes]]:
    """The list pages of each cycle of a real --all-active monitor."""
    rec = Recorder()
    client = ApiClient(Credentials(KEY, Secret(SECRET)), base_url=base_url, transport=rec)
    out: list[list[bytes]] = []
    try:
        mon = Monitor(client, interval=interval, all_active=True)
        for n in range(cycles + 1):
            if n:
                await asyncio.sleep(interval)
            rec.pages = []
            await mon.run_cycle()
            out.append(rec.pages)
    finally:
        await client.aclose()
    return out


def _columns(job: Job) -> tuple[object, ...]:
    """What each of the table's changing columns shows, from one record: state,
    progress, called/total, OK, fail, answer rate."""
    return (job.status_code, job.progress, (job.called, job.num_cnt), job.success, job.fail,
            job.answer_rate)


def data_cells(cycles: list[list[bytes]]) -> tuple[float, float]:
    """Rows whose record changed between two cycles, and the cells of each such row
    whose data changed, on average: what a table fed the same data must redraw. When
    the numbers dialled move, calls/min and ETA move with them (two cells more)."""
    def jobs(pages: list[bytes]) -> dict[int, Job]:
        out: dict[int, Job] = {}
        for body in pages:
            out.update((j.job_id, j) for j in parse_page(json.loads(body)).records)
        return out

    rows = cells = 0
    pairs = 0
    for before, after in zip(cycles, cycles[1:], strict=False):
        old, new = jobs(before), jobs(after)
        pairs += 1
        for jid, job in new.items():
            prev = old.get(jid)
            if prev is None or prev == job:
                continue
            a, b = _columns(prev), _columns(job)
            changed = sum(x != y for x, y in zip(a, b, strict=True))
            changed += 2 if prev.called != job.called else 0
            rows += 1
            cells += changed
    return rows / max(1, pairs), cells / max(1, rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--interval", type=float, default=2.0)
    args = p.parse_args(argv)
    cycles = asyncio.run(record(args.base_url, args.cycles, args.interval))
    cpu, records = cpu_per_cycle(cycles)
    rows, per_row = data_cells(cycles)
    result: dict[str, Any] = {
        "cpu_per_cycle": cpu, "records": records, "pages": len(cycles[-1]),
        "bytes": sum(len(b) for b in cycles[-1]), "changed_rows": rows,
        "cells_per_changed_row": per_row}
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
