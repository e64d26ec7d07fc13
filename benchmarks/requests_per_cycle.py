"""Requests per refresh cycle: callwatch's planner against a naive poller.

The simulator runs on loopback and counts requests at the server. For each
size, N active tasks are watched (plus one selected task); callwatch's steady
cycle is compared with a poller that sends one detail request per task.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from callwatch.api.client import ApiClient
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
from callwatch.monitor import Monitor
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import FINISHED
from callwatch.sim.server import serve_in_thread

KEY, SECRET = "bench", "bench-secret"


@dataclass
class Row:
    tasks: int
    callwatch: int
    naive: int
    callwatch_seconds: float
    naive_seconds: float

    @property
    def ratio(self) -> float:
        return self.callwatch / self.naive if self.naive else 0.0


def _state(active: int) -> tuple[SimState, list[int]]:
    state = SimState(SimConfig(keys={KEY: SECRET}, seed=3))
    state.populate(int(active * 1.15) + 20)
    now = state.clock.now()
    ids = [j.job_id for j in state.jobs.values() if j.status_at(now) not in FINISHED][:active]
    # Only the watched tasks stay active in the account: the rest are moved far back.
    keep = set(ids)
    for jid in list(state.jobs):
        if jid not in keep and state.jobs[jid].status_at(now) not in FINISHED:
            del state.jobs[jid]
    return state, ids


async def _measure(size: int) -> Row:
    state, ids = _state(size)
    with serve_in_thread(state) as sim:
        client = ApiClient(Credentials(KEY, Secret(SECRET)), base_url=sim.base_url,
                           max_concurrency=8)
        try:
            mon = Monitor(client)
            mon.watch(ids)
            mon.select(ids[0])
            await mon.run_cycle()  # warm-up: learns the account's size
            state.stats.clear()
            t0 = time.perf_counter()
            await mon.run_cycle()
            cw_time = time.perf_counter() - t0
            cw = state.stats["requests"]
            state.stats.clear()
            t0 = time.perf_counter()
            await asyncio.gather(*(client.detail(j) for j in ids))
            naive_time = time.perf_counter() - t0
            naive = state.stats["requests"]
        finally:
            await client.aclose()
    return Row(size, cw, naive, cw_time, naive_time)


def run(sizes: tuple[int, ...] = (10, 100, 1000, 10_000)) -> list[Row]:
    return [asyncio.run(_measure(n)) for n in sizes]


def table(rows: list[Row]) -> str:
    lines = ["| watched active tasks | callwatch requests/cycle | naive requests/cycle | ratio "
             "| callwatch cycle time | naive cycle time |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.tasks:,} | {r.callwatch} | {r.naive:,} | {r.ratio:.3f} "
                     f"| {r.callwatch_seconds:.2f} s | {r.naive_seconds:.2f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
