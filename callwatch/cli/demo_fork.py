"""The demo's simulator forked from the monitor rather than started as a new Python.

A new interpreter pays its own start, ``site`` and ``import asyncio`` (~120 ms of CPU
here, a third of the child's start) on the same two cores as the monitor's first
frame. Forked once asyncio and the other modules both need are imported (the monitor
imports them anyway), the child inherits all of that and only imports the simulator.
Forking is safe only while this process has one thread and on platforms that allow
fork without exec; elsewhere ``demo_proc`` runs a new interpreter as before. The child
is what that one would be: its own session, stdin and stdout pipes to the monitor, no
other descriptor (the terminal stays the monitor's), no CALLWATCH_ settings, and it
always ends by ``os._exit``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from typing import IO, NoReturn, Protocol

CHILD_NAME = b"callwatch-sim"  # what ps and top show for the child (15 bytes at most)

# What the simulator imports and the monitor imports too before its first frame (a test
# holds the monitor to that): imported once, before the fork, not once in each process.
SHARED_IMPORTS = ("asyncio", "typing_extensions", "json", "datetime", "dataclasses",
                  "hashlib", "random", "uuid", "platform", "mimetypes", "tempfile",
                  "callwatch.api.brands", "callwatch.api.convert", "callwatch.api.signing",
                  "callwatch.api.states")


class Child(Protocol):
    """What the monitor uses of its child: ``subprocess.Popen``'s, or :class:`Forked`."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


def can_fork() -> bool:
    """Fork without exec: POSIX but not macOS (its system libraries forbid it), and only
    a single-threaded process (another thread's locks would be held forever in the
    child)."""
    if os.name != "posix" or sys.platform == "darwin" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


class Forked:
    """A forked child, with the part of ``subprocess.Popen``'s interface the monitor uses."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin  # as Popen's: DemoSim closes and drops them
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: as Popen, call it a success
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                import subprocess

                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return code

    def _signal(self, sig: int) -> None:
        if self.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        import signal

        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        import signal

        self._signal(signal.SIGKILL)


def fork_simulator(target: Callable[[], int] | None = None) -> Forked:
    """Fork the demo's simulator (``callwatch.sim.demo.main``, or ``target``: tests);
    :func:`can_fork` first."""
    import importlib

    for name in SHARED_IMPORTS:
        importlib.import_module(name)

    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()  # nothing buffered is written twice
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its behaviour is tested from outside
        _child(stdin_r, out_w, target)
    os.close(stdin_r)
    os.close(out_w)
    return Forked(pid, open(stdin_w, "wb"), open(out_r, "rb"))


def _close_from(low: int) -> None:  # pragma: no cover - in the child
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]  # what is open, however many
    except OSError:
        fds = list(range(low, 1024))
    for fd in fds:
        if fd >= low:
            with suppress(OSError):
                os.close(fd)


def _child(stdin_r: int, out_w: int,
           target: Callable[[], int] | None) -> NoReturn:  # pragma: no cover
    code = 1
    try:
        os.setsid()  # the terminal's signals (^C, hang-up) reach the monitor only
        os.dup2(stdin_r, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        _close_from(3)  # the terminal's other descriptors, the pipes' other ends
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1)
        for name in [n for n in os.environ if n.startswith("CALLWATCH_")]:
            del os.environ[name]
        with suppress(OSError), open(f"/proc/{os.getpid()}/comm", "wb") as comm:
            comm.write(CHILD_NAME)
        if target is None:
            from callwatch.sim.demo import main

            target = main
        code = target()
    except BaseException:
        with suppress(BaseException):
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)
