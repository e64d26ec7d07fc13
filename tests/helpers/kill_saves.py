"""SIGKILL a child process while it saves UI state; check the file after every kill.

Runs in a fresh interpreter (see tests/test_persist_state.py): forked from pytest,
whose other threads may hold a lock at the fork, the child could hang.

Two kinds of kill, neither depending on how fast the machine is:

* staged: the child stops itself at a chosen point of ``atomic_write_bytes`` (half
  the bytes written, before fsync, before the rename, after the rename), tells the
  parent, and waits to be killed. Every stage is hit, so the test cannot pass
  without killing a writer mid-write.
* timed: the child saves in a loop; the parent measures one save's duration on this
  machine, now, and kills at a random moment within two such durations.
"""

from __future__ import annotations

import os
import random
import select
import signal
import statistics
import time
from collections.abc import Callable
from typing import Any, NoReturn

from callwatch.store.state import SortState, UiState, load_ui_state, save_ui_state, ui_state_file

PROFILE = "kill"
STAGES = ("write", "fsync", "replace", "renamed")
_WAIT = 60.0  # generous: the child only has to reach its stage, on a loaded machine


def versions() -> list[UiState]:
    # Large enough that a write takes a while, so timed kills often land mid-write.
    return [UiState(watched=tuple(range(v * 100_000, v * 100_000 + 30_000)),
                    sort=SortState(f"col{v}", bool(v % 2)), filter=f"v{v}")
            for v in range(3)]


def _halt(report_fd: int, write: Callable[[int, bytes], int]) -> NoReturn:
    write(report_fd, b"x")
    while True:
        time.sleep(60)


def _stop_at(stage: str, report_fd: int) -> None:
    """Patch the ``os`` calls ``atomic_write_bytes`` makes so the next save halts at ``stage``."""
    real_write, real_replace = os.write, os.replace

    def half_write(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        _halt(report_fd, real_write)

    def halt(*_args: object) -> NoReturn:
        _halt(report_fd, real_write)

    def rename_then_halt(src: Any, dst: Any) -> NoReturn:
        real_replace(src, dst)
        _halt(report_fd, real_write)

    patches: dict[str, Any] = {"write": ("write", half_write), "fsync": ("fsync", halt),
                               "replace": ("replace", halt),
                               "renamed": ("replace", rename_then_halt)}
    name, func = patches[stage]
    setattr(os, name, func)


def _child(first: int, stage: str | None, report_fd: int) -> NoReturn:
    """Save ``first`` whole versions, then either halt at ``stage`` or save forever."""
    try:
        states = versions()
        for i in range(first):
            save_ui_state(PROFILE, states[i % len(states)])
            os.write(report_fd, b"s")
        if stage is not None:
            _stop_at(stage, report_fd)
            save_ui_state(PROFILE, states[first % len(states)])
        i = first
        while True:
            save_ui_state(PROFILE, states[i % len(states)])
            os.write(report_fd, b"s")
            i += 1
    finally:
        os._exit(1)


def _wait_byte(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], _WAIT)
    return bool(ready) and os.read(fd, 1) != b""


def _run_child(first: int, stage: str | None, rng: random.Random,
               durations: list[float]) -> str | None:
    """Start a child, kill it at its stage (or at a random moment); None if it misbehaved."""
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(report_r)
        _child(first, stage, report_w)
    os.close(report_w)
    try:
        for _ in range(first):
            if not _wait_byte(report_r):
                return "child did not finish its first saves"
        if stage is not None:
            if not _wait_byte(report_r):
                return f"child never reached stage {stage}"
        else:
            start = time.monotonic()
            if not _wait_byte(report_r):
                return "child never finished a save"
            durations.append(time.monotonic() - start)
            time.sleep(rng.uniform(0.0, 2 * statistics.median(durations)))
        return ""
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(report_r)


def _expected(first: int, stage: str | None, previous: UiState) -> UiState | None:
    """The version a staged kill must leave: the last whole save (None: any version)."""
    states = versions()
    if stage is None:
        return None
    if stage == "renamed":
        return states[first % len(states)]
    return states[(first - 1) % len(states)] if first else previous


def kill_loop(staged_rounds: int = 10, timed_kills: int = 60) -> dict[str, object]:
    """Kill writers; after each kill the file must be a whole saved version."""
    states = versions()
    save_ui_state(PROFILE, states[0])
    previous = states[0]
    directory = ui_state_file(PROFILE).parent
    rng = random.Random(1234)
    bad: list[str] = []
    mid_write: dict[str, int] = {}
    durations: list[float] = []
    plan: list[tuple[int, str | None]] = [
        (rng.randrange(3), stage) for _ in range(staged_rounds) for stage in STAGES]
    plan += [(0, None)] * timed_kills
    for n, (first, stage) in enumerate(plan):
        trouble = _run_child(first, stage, rng, durations)
        loaded = load_ui_state(PROFILE)
        expected = _expected(first, stage, previous)
        if trouble:
            bad.append(f"kill {n} ({stage}): {trouble}")
        elif loaded.warnings or loaded not in states:
            bad.append(f"kill {n} ({stage}): {loaded.warnings or 'not a saved version'}")
        elif expected is not None and loaded != expected:
            bad.append(f"kill {n} ({stage}): not the version saved last")
        previous = loaded
        litter = [p for p in directory.iterdir() if p.name.endswith(".tmp")]
        if litter:
            mid_write[stage or "timed"] = mid_write.get(stage or "timed", 0) + 1
            for p in litter:
                p.unlink()
    corrupt = [p.name for p in directory.glob("*.corrupt-*")]
    return {"kills": len(plan), "mid_write": mid_write, "bad": bad, "corrupt": corrupt}
