"""`callwatch login` on a real terminal: it asks, and the secret is not echoed."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

from callwatch.sim.server import RunningSim
from callwatch.store.config import load_config
from tests.helpers.common import KEY, SECRET


def _read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            assert chunk, f"terminal closed before {needle!r}; got {bytes(seen)!r}"
            seen.extend(chunk)


def test_login_prompts_on_a_terminal_with_hidden_secret(live_sim: RunningSim) -> None:
    argv = [sys.executable, "-m", "callwatch", "login", "--base-url", live_sim.base_url,
            "--insecure-storage"]
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        try:
            os.execv(sys.executable, argv)
        finally:
            os._exit(127)
    seen = bytearray()
    try:
        _read_until(fd, b"[itnio]: ", seen)
        os.write(fd, b"\n")
        _read_until(fd, b"API key: ", seen)
        os.write(fd, KEY.encode() + b"\n")
        _read_until(fd, b"(input hidden): ", seen)
        os.write(fd, SECRET.encode() + b"\n")
        _read_until(fd, b"default profile", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(seen)
    assert SECRET.encode() not in seen  # not echoed, not printed
    assert KEY.encode() in seen  # the key is echoed as typed: it is not secret
    prof = load_config().profile("default")
    assert prof is not None and prof.api_key == KEY and prof.brand == "itnio"
