"""Real terminals: a program in a pseudo-terminal, timed and its output counted."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass

COLS, ROWS = 160, 50


@dataclass
class PtyRun:
    proc: subprocess.Popen[bytes]
    fd: int
    started: float
    output: bytearray

    def read(self, seconds: float) -> int:
        """Read for ``seconds``; return the bytes read."""
        got = 0
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program exited
                break
            if not chunk:
                break
            got += len(chunk)
            self.output += chunk
        return got

    def wait_for(self, markers: Sequence[bytes], timeout: float = 60.0) -> float:
        """Seconds from the start until every marker has appeared in the output."""
        deadline = time.monotonic() + timeout
        while not all(m in self.output for m in markers):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                tail = bytes(self.output[-400:])
                raise RuntimeError(f"markers {markers!r} not seen; output ends {tail!r}")
            self.read(0.005)
        return time.monotonic() - self.started

    def stop(self) -> None:
        """Kill the program and wait until its descendants have gone too: ``--demo``'s
        simulator (its own session) ends at its stdin's end of file, and shutting down
        it takes CPU that the next timed start would otherwise pay for."""
        others = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.fd)
        deadline = time.monotonic() + 30
        while others and time.monotonic() < deadline:
            others = [pid for pid in others if _alive(pid)]
            time.sleep(0.01)


def descendants(pid: int) -> list[int]:
    """The process's children, theirs and so on (Linux /proc; [] where it is absent)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie: a child that its killed parent can no longer reap stays a
    zombie until init takes it, and has ended all the same."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def spawn(cmd: Sequence[str], env: dict[str, str], cwd: str | None = None) -> PtyRun:
    """Start ``cmd`` on a fresh 160x50 pseudo-terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
    env.pop("NO_COLOR", None)
    started = time.monotonic()
    proc = subprocess.Popen(list(cmd), stdin=slave, stdout=slave, stderr=slave, env=env,
                            cwd=cwd, start_new_session=True)
    os.close(slave)
    return PtyRun(proc, master, started, bytearray())


def first_frame(cmd: Sequence[str], env: dict[str, str], markers: Sequence[bytes],
                cwd: str | None = None) -> float:
    run = spawn(cmd, env, cwd)
    try:
        return run.wait_for(markers)
    finally:
        run.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_figures(cmd: Sequence[str], env: dict[str, str], markers: Sequence[bytes],
                 settle: float, seconds: float, cwd: str | None = None) -> dict[str, float]:
    """Left alone after the first frame and ``settle``: bytes written per 2 s and the
    share of a core, over ``seconds``."""
    run = spawn(cmd, env, cwd)
    try:
        run.wait_for(markers)
        run.read(settle)
        c0, w0 = cpu_seconds(run.proc.pid), time.monotonic()
        got = run.read(seconds)
        share = (cpu_seconds(run.proc.pid) - c0) / (time.monotonic() - w0)
        return {"bytes_per_2s": got / seconds * 2, "share": share, "seconds": seconds}
    finally:
        run.stop()
