"""``callwatch wait``: poll through the monitor until every task is finished.

The same :class:`~callwatch.monitor.Monitor` as the TUI plans the requests. A
compact progress line on a TTY (rewritten with ``\\r``, cleared at the end);
only the final summary when piped.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from callwatch.api.models import Job
from callwatch.cli.common import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_TIMEOUT,
    advise,
    print_error,
)
from callwatch.cli.oneshot_fetch import make_client
from callwatch.cli.oneshot_render import header, job_line
from callwatch.cli.output import paint, sanitize, use_colour
from callwatch.errors import error_text
from callwatch.monitor import Monitor, Problem, TaskView, Update
from callwatch.store.resolve import Connection

# Cycles in a row that failed for transport reasons before giving up (exit 4).
MAX_FAILED_CYCLES = 3
_TRANSPORT_KINDS = frozenset({"network", "timeout", "server", "bad_response", "http_status",
                              "tasks", "list"})


@dataclass
class WaitResult:
    ids: list[int]
    views: dict[int, TaskView] = field(default_factory=dict)
    fatal: tuple[int, str] | None = None  # exit code, message
    last_problem: Problem | None = None
    timed_out: bool = False

    def job(self, job_id: int) -> Job | None:
        view = self.views.get(job_id)
        return view.job if view else None

    def missing(self, job_id: int) -> bool:
        view = self.views.get(job_id)
        return view is not None and view.missing

    def done(self, job_id: int) -> bool:
        job = self.job(job_id)
        return self.missing(job_id) or (job is not None and job.state.finished)

    @property
    def unique_ids(self) -> list[int]:
        return list(dict.fromkeys(self.ids))

    @property
    def pending(self) -> list[int]:
        return [i for i in self.unique_ids if not self.done(i)]

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return self.fatal[0]
        if self.timed_out:
            return EXIT_TIMEOUT
        if any(self.missing(i) for i in self.unique_ids):
            return EXIT_API
        jobs = [self.job(i) for i in self.unique_ids]
        if any(j is not None and not j.state.ok for j in jobs):
            return EXIT_TASK_FAILED
        return EXIT_OK


async def wait_loop(monitor: Monitor, ids: Sequence[int], *, timeout: float | None,
                    on_cycle: Callable[[WaitResult], None] | None = None) -> WaitResult:
    """Run monitor cycles until every task is finished or missing, or time is up.

    Sleeps ``monitor.effective_interval`` between cycles (it grows on rate limits).
    """
    result = WaitResult(list(ids))
    monitor.watch(result.unique_ids)
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    failed_cycles = 0
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                cycle = await monitor.run_cycle()
        except TimeoutError:
            result.timed_out = True
            break
        result.views = monitor.tasks
        kinds = {p.kind: p for p in cycle.problems}
        result.last_problem = next(iter(kinds.values()), None)
        fatal = _fatal(monitor, cycle, kinds)
        if fatal is not None:
            result.fatal = fatal
            break
        failed_cycles = failed_cycles + 1 if _transport_failure(cycle, kinds) else 0
        if failed_cycles >= MAX_FAILED_CYCLES and result.last_problem is not None:
            result.fatal = (EXIT_NETWORK, result.last_problem.message)
            break
        if on_cycle is not None:
            on_cycle(result)
        if not result.pending:
            break
        # An auth failure is confirmed by one probe at once, not an interval later.
        pause = 0.0 if ("auth" in kinds or "ip_denied" in kinds) else monitor.effective_interval
        if deadline is not None and loop.time() + pause >= deadline:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            result.timed_out = True
            break
        await asyncio.sleep(pause)
    return result


def _fatal(monitor: Monitor, cycle: Update, kinds: dict[str, Problem]
           ) -> tuple[int, str] | None:
    if "timestamp" in kinds:
        return EXIT_AUTH, error_text("timestamp").text
    if monitor.blocked:  # the monitor confirmed an auth/IP failure with one probe
        kind = "ip_denied" if "ip_denied" in kinds else "auth"
        return EXIT_AUTH, error_text(kind).text
    return None


def _transport_failure(cycle: Update, kinds: dict[str, Problem]) -> bool:
    return not cycle.ok and bool(kinds) and set(kinds) <= _TRANSPORT_KINDS | {"clock_skew"}


class ProgressLine:
    """One status line rewritten in place with ``\\r``; cleared by :meth:`clear`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._width = 0

    def show(self, result: WaitResult) -> None:
        ids = result.unique_ids
        finished = sum(1 for i in ids if result.done(i))
        parts = [f"waiting: {finished}/{len(ids)} finished"]
        for job_id in result.pending:
            job = result.job(job_id)
            if job is None:
                parts.append(f"{job_id} ?")
                continue
            pct = "" if job.progress is None else f" {job.progress:.0f}%"
            parts.append(f"{job_id} {job.state.label}{pct}")
        if result.last_problem is not None:
            parts.append(f"({result.last_problem.kind})")
        parts.append(f"{time.monotonic() - self._started:.0f}s")
        columns = shutil.get_terminal_size((80, 24)).columns
        text = sanitize(" · ".join(parts), max(10, columns - 1))
        pad = " " * max(0, self._width - len(text))
        self._stream.write("\r" + text + pad)
        self._stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0


def summary(result: WaitResult, colour: bool) -> list[str]:
    lines = [header()]
    for job_id in result.unique_ids:
        job = result.job(job_id)
        if job is not None and not result.missing(job_id):
            lines.append(job_line(job, colour))
        elif result.missing(job_id):
            word = paint(f"{'not found':<13}", "1;31", colour)
            lines.append(f"{job_id:>10}  {'':<28}  {word}")
        else:
            lines.append(f"{job_id:>10}  {'':<28}  not read")
    lines.append(_verdict(result))
    return lines


def _verdict(result: WaitResult) -> str:
    counts: dict[str, int] = {}
    for job_id in result.unique_ids:
        job = result.job(job_id)
        if result.missing(job_id):
            word = "not found"
        elif job is None:
            word = "not read"
        elif job.state.finished:
            word = job.state.label
        else:
            word = "still " + job.state.label
        counts[word] = counts.get(word, 0) + 1
    tally = ", ".join(f"{n} {word}" for word, n in counts.items())
    return f"timed out: {tally}" if result.timed_out else tally


def cmd_wait(args: argparse.Namespace, conn: Connection, deadline: float) -> int:
    ids: list[int] = args.job_ids
    progress = ProgressLine(sys.stdout) if sys.stdout.isatty() and not args.quiet else None

    async def main() -> WaitResult:
        async with make_client(conn, deadline) as client:
            monitor = Monitor(client, interval=args.interval or conn.interval)
            return await wait_loop(monitor, ids, timeout=args.timeout,
                                   on_cycle=progress.show if progress else None)

    try:
        result = asyncio.run(main())
    finally:
        if progress is not None:
            progress.clear()
    # Stopped before any task was read (credentials): the one error line says it all.
    unread = result.fatal is not None and not any(map(result.job, result.unique_ids))
    if not args.quiet and not unread:
        sys.stdout.write("\n".join(summary(result, use_colour(sys.stdout))) + "\n")
        sys.stdout.flush()
    if result.fatal is not None:
        print_error(advise(result.fatal[1], conn))
    for job_id in result.unique_ids:
        if result.missing(job_id):
            print_error(f"task {job_id}: no such task (code -24)")
    if result.timed_out:
        print_error(f"timed out after {args.timeout:g} s with "
                    f"{len(result.pending)} task(s) unfinished")
    return result.exit_code
