"""``callwatch wait``: poll until every task is finished.

A compact progress line on a TTY (rewritten with ``\\r``, cleared at the end);
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
from typing import Protocol, TextIO

from callwatch.api.client import ApiClient
from callwatch.api.models import Job
from callwatch.cli.common import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_TIMEOUT,
    exit_code_for,
    print_error,
)
from callwatch.cli.oneshot_fetch import Outcome, fetch_details, make_client
from callwatch.cli.oneshot_render import error_line, header, job_line
from callwatch.cli.output import sanitize, use_colour
from callwatch.errors import CallwatchError, NotFoundError
from callwatch.store.resolve import Connection

MIN_INTERVAL = 0.5
# Cycles in a row in which nothing at all could be read before giving up (exit 4).
MAX_FAILED_CYCLES = 3


class Poller(Protocol):
    async def poll(self, pending: Sequence[int]) -> dict[int, Outcome]: ...


class DetailPoller:
    """One detail request per unfinished task per cycle."""

    def __init__(self, client: ApiClient, deadline: float) -> None:
        self._client = client
        self._deadline = deadline

    async def poll(self, pending: Sequence[int]) -> dict[int, Outcome]:
        return await fetch_details(self._client, pending, self._deadline)


@dataclass
class WaitResult:
    ids: list[int]
    jobs: dict[int, Job] = field(default_factory=dict)
    missing: dict[int, CallwatchError] = field(default_factory=dict)
    fatal: CallwatchError | None = None
    last_error: CallwatchError | None = None
    timed_out: bool = False

    def done(self, job_id: int) -> bool:
        job = self.jobs.get(job_id)
        return job_id in self.missing or (job is not None and job.state.finished)

    @property
    def pending(self) -> list[int]:
        return [i for i in dict.fromkeys(self.ids) if not self.done(i)]

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return exit_code_for(self.fatal)
        if self.timed_out:
            return EXIT_TIMEOUT
        if self.missing:
            return EXIT_API
        if any(not j.state.ok for j in self.jobs.values()):
            return EXIT_TASK_FAILED
        return EXIT_OK


def _is_fatal(error: CallwatchError) -> bool:
    return exit_code_for(error) == EXIT_AUTH


async def wait_loop(poller: Poller, ids: Sequence[int], *, timeout: float | None,
                    interval: float,
                    on_cycle: Callable[[WaitResult], None] | None = None) -> WaitResult:
    """Poll ``pending`` tasks each cycle until all are finished, missing, or time is up."""
    result = WaitResult(list(ids))
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    failed_cycles = 0
    while result.pending:
        try:
            async with asyncio.timeout_at(deadline):
                outcomes = await poller.poll(result.pending)
        except TimeoutError:
            result.timed_out = True
            break
        read_any = False
        for job_id, outcome in outcomes.items():
            if isinstance(outcome, Job):
                result.jobs[job_id] = outcome
                read_any = True
            elif isinstance(outcome, NotFoundError):
                result.missing[job_id] = outcome
                read_any = True
            elif _is_fatal(outcome):
                result.fatal = outcome
            else:
                result.last_error = outcome  # transient: try again next cycle
        if result.fatal is not None:
            break
        failed_cycles = 0 if read_any or not outcomes else failed_cycles + 1
        if failed_cycles >= MAX_FAILED_CYCLES and result.last_error is not None:
            result.fatal = result.last_error
            break
        if on_cycle is not None:
            on_cycle(result)
        if not result.pending:
            break
        if deadline is not None and loop.time() + interval >= deadline:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            result.timed_out = True
            break
        await asyncio.sleep(interval)
    return result


class ProgressLine:
    """One status line rewritten in place with ``\\r``; cleared by :meth:`clear`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._width = 0

    def show(self, result: WaitResult) -> None:
        ids = list(dict.fromkeys(result.ids))
        finished = sum(1 for i in ids if result.done(i))
        parts = [f"{finished}/{len(ids)} finished"]
        for job_id in result.pending:
            job = result.jobs.get(job_id)
            if job is None:
                parts.append(f"{job_id} ?")
                continue
            pct = "" if job.progress is None else f" {job.progress:.0f}%"
            parts.append(f"{job_id} {job.state.label}{pct}")
        if result.last_error is not None:
            parts.append(f"({result.last_error.kind})")
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
    for job_id in dict.fromkeys(result.ids):
        job = result.jobs.get(job_id)
        error = result.missing.get(job_id)
        if job is not None:
            lines.append(job_line(job, colour))
        elif error is not None:
            lines.append(error_line(job_id, error, colour))
        else:
            lines.append(f"{job_id:>10}  (not read yet)")
    lines.append(_verdict(result))
    return lines


def _verdict(result: WaitResult) -> str:
    counts: dict[str, int] = {}
    for job_id in dict.fromkeys(result.ids):
        job = result.jobs.get(job_id)
        if job_id in result.missing:
            word = "not found"
        elif job is None:
            word = "not read"
        elif job.state.finished:
            word = job.state.label
        else:
            word = "still " + job.state.label
        counts[word] = counts.get(word, 0) + 1
    tally = ", ".join(f"{n} {word}" for word, n in counts.items())
    if result.timed_out:
        return f"timed out: {tally}"
    return tally


def cmd_wait(args: argparse.Namespace, conn: Connection, deadline: float) -> int:
    ids: list[int] = args.job_ids
    interval = max(MIN_INTERVAL, args.interval or conn.interval)
    tty = sys.stdout.isatty()
    progress = ProgressLine(sys.stdout) if tty and not args.quiet else None

    async def main() -> WaitResult:
        async with make_client(conn, deadline) as client:
            return await wait_loop(DetailPoller(client, deadline), ids, timeout=args.timeout,
                                   interval=interval,
                                   on_cycle=progress.show if progress else None)

    try:
        result = asyncio.run(main())
    finally:
        if progress is not None:
            progress.clear()
    if not args.quiet:
        sys.stdout.write("\n".join(summary(result, use_colour(sys.stdout))) + "\n")
        sys.stdout.flush()
    if result.fatal is not None:
        print_error(result.fatal.message)
    for job_id, error in result.missing.items():
        print_error(f"task {job_id}: {error.message}")
    if result.timed_out:
        print_error(f"timed out after {args.timeout:g} s with "
                    f"{len(result.pending)} task(s) unfinished")
    return result.exit_code
