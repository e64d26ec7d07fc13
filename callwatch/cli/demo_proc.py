"""``callwatch --demo``'s simulator as a child process (``callwatch.sim.demo``).

Started first thing, before the monitor's imports, so it boots on the other core while
Textual loads: forked where that is safe (``demo_fork``), else a new interpreter. The
monitor never imports the simulator, Starlette or uvicorn (the child does, after the
fork): it talks HTTP to the child on loopback. The child never outlives the monitor: it
ends at its stdin's end of file (the monitor closed the pipe, or died, even by SIGKILL),
and :meth:`DemoSim.close` ends and reaps it on every way out. Its output goes to a pipe
read here, never to the terminal; its last lines are the message when it fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, TypeVar

import callwatch
from callwatch.errors import TransportError

if TYPE_CHECKING:
    from concurrent.futures import Future

    from callwatch.cli.demo_fork import Child

PORT_TIMEOUT = 15.0  # s: the child binds its port before anything slow
READY_TIMEOUT = 60.0  # s: it imports the simulator and starts serving (loaded machines)
STOP_TIMEOUT = 5.0  # s: after SIGTERM, before SIGKILL
ERROR_LINES = 20  # the child's last lines kept for the message

T = TypeVar("T")


class DemoSimError(TransportError):
    """The demo's simulator did not start (exit code 4, like an unreachable API)."""


def _settle(fut: Future[T], outcome: T | BaseException) -> None:
    """The first outcome wins; later ones (or a cancelled future) are ignored."""
    from concurrent.futures import InvalidStateError

    with suppress(InvalidStateError):
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome)


def sim_command() -> list[str]:
    """The simulator as a new interpreter (where forking is not safe)."""
    return [sys.executable, "-c", "from callwatch.sim.demo import main; main()"]


def child_command() -> list[str] | None:
    """What to run as the child; None: the simulator itself (tests put another here)."""
    return None


def spawn(command: Sequence[str] | None = None) -> Child:
    """Start the child, nothing more (the first thing ``callwatch --demo`` does)."""
    command = command or child_command()
    if command is None:
        from callwatch.cli import demo_fork

        if demo_fork.can_fork():
            try:
                return demo_fork.fork_simulator()
            except OSError as exc:
                raise DemoSimError(f"cannot start the demo simulator: {exc}") from None
        command = sim_command()
    import subprocess

    # Run from the folder holding this very callwatch package: the child imports it.
    root = os.path.dirname(os.path.dirname(os.path.realpath(callwatch.__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_")}
    try:
        return subprocess.Popen(
            list(command), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root, env=env,
            # Its own session: the terminal's signals (^C, hang-up) reach the monitor
            # only, which then ends the child itself.
            start_new_session=os.name == "posix")
    except OSError as exc:
        raise DemoSimError(f"cannot start the demo simulator: {exc}") from None


class DemoSim:
    """The running child: its port, its readiness, and its end."""

    def __init__(self, command: Sequence[str] | None = None,
                 proc: Child | None = None) -> None:
        import threading
        from collections import deque
        from concurrent.futures import Future

        self.proc = proc or spawn(command)  # a child spawned early is adopted
        self._port: Future[int] = Future()
        self._ready: Future[None] = Future()
        self._lines: deque[str] = deque(maxlen=ERROR_LINES)
        self._reader = threading.Thread(target=self._read, name="demo-sim", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """The child's output until it ends: the protocol lines, and the rest kept."""
        assert self.proc.stdout is not None
        with suppress(OSError, ValueError):
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                word, _, rest = line.partition(" ")
                if word == "port" and rest.isdigit():
                    _settle(self._port, int(rest))
                elif line == "ready":
                    _settle(self._ready, None)
                elif line:
                    self._lines.append(line[:300])
        _settle(self._port, EOFError())  # the child ended: what was not said never will be
        _settle(self._ready, EOFError())

    def port(self, timeout: float = PORT_TIMEOUT) -> int:
        """The child's port (it binds it within milliseconds of starting)."""
        try:
            return self._port.result(timeout)
        except EOFError:
            raise self._failure("ended before it listened") from None
        except TimeoutError:
            raise self._failure(f"did not listen within {timeout:g} s") from None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port()}"

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until the child serves; never blocks the event loop."""
        if self._ready.done() and self._ready.exception() is None:
            return  # the usual case: ready while the monitor loaded (no loop turns)
        import asyncio  # not before the child is started: it boots meanwhile

        try:
            # Shielded: a cancelled wait (the app quits) leaves the readiness as it is.
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._ready)), timeout)
        except EOFError:
            what = "ended before it was ready"
        except TimeoutError:
            what = f"was not ready within {timeout:g} s"
        else:
            return
        # Ending a child that hangs may wait up to STOP_TIMEOUT: not on the event loop.
        raise await asyncio.to_thread(self._failure, what)

    def _failure(self, what: str) -> DemoSimError:
        self.close()  # a child that never came up is ended; its last words are complete
        code = self.proc.returncode
        status = f" (exit code {code})" if code and code > 0 else ""
        last = next((ln for ln in reversed(self._lines) if ln.strip()), "")
        return DemoSimError(f"the demo simulator {what}{status}"
                            + (f": {last.strip()}" if last else ""))

    def close(self) -> None:
        """End the child (stdin closed, then SIGTERM; SIGKILL if it lingers) and reap it."""
        proc = self.proc
        if proc.stdin is not None:
            with suppress(OSError):
                proc.stdin.close()
        if proc.poll() is None:
            with suppress(OSError):
                proc.terminate()
            import subprocess

            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reader.join(STOP_TIMEOUT)  # its pipe ends with the child
        if proc.stdout is not None and not self._reader.is_alive():
            proc.stdout.close()


_early: Child | None = None


def start_early() -> None:
    """Start the child at once (``callwatch --demo``, before anything else is imported);
    :func:`take` hands it over, :func:`drop_early` ends it if nobody took it."""
    global _early
    if _early is None:
        with suppress(DemoSimError):  # take() tries again, where errors are reported
            _early = spawn()


def take() -> DemoSim:
    """The child started early, else one started now."""
    global _early
    proc, _early = _early, None
    return DemoSim(proc=proc)


def drop_early() -> None:
    """End a child that was started early and never taken (a usage error, --help)."""
    global _early
    proc, _early = _early, None
    if proc is not None:
        DemoSim(proc=proc).close()
