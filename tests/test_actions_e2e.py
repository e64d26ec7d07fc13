"""End to end: cancel from the installed monitor in tmux against `callwatch sim`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callwatch.sim.server import free_port
from tests.helpers.common import tmux_cmd

pytestmark = pytest.mark.e2e
KEY, SECRET = "e2eKey02", "e2eCanarySecret-4471"
TARGET = "5000601"  # calling in the demo set; the clock is frozen (--speed 0)


@pytest.fixture
def sim() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callwatch", "sim", "--port", str(port), "--speed", "0",
         "--api-key", KEY, "--api-secret", SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for _ in range(100):
            if "CALLWATCH_BASE_URL" in proc.stdout.readline():
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _screen(tmux: list[str], session: str) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=True).stdout


def _wait_for(tmux: list[str], session: str, pattern: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(tmux, session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not on screen:\n{screen}")


def _keys(tmux: list[str], session: str, *keys: str, literal: bool = False) -> None:
    subprocess.run([*tmux, "send-keys", "-t", session, *(["-l"] if literal else []), *keys],
                   check=True)


def _run_monitor(tmux: list[str], session: str, env: dict[str, str], exit_file: Path,
                 *flags: str) -> None:
    cmd = (f"{sys.executable} -m callwatch {' '.join(flags)} {TARGET}; "
           f"echo EXIT=$? > {exit_file}")
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd],
                   env=env, check=True)


def _quit(tmux: list[str], session: str, exit_file: Path) -> None:
    _keys(tmux, session, "q")
    deadline = time.monotonic() + 15
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "EXIT=0"


def test_cancel_in_tmux_hint_then_typed_id(sim: str, tmp_path: Path) -> None:
    tmux = tmux_cmd()
    env = {**os.environ, "CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
           "CALLWATCH_BASE_URL": sim, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    audit = Path(os.environ["CALLWATCH_STATE_DIR"]) / "audit.jsonl"
    off, on = f"cw-act-off-{os.getpid()}", f"cw-act-on-{os.getpid()}"
    try:
        _run_monitor(tmux, off, env, tmp_path / "off")
        _wait_for(tmux, off, rf"{TARGET} .*calling")
        _keys(tmux, off, "x")
        _wait_for(tmux, off, r"read-only")
        assert "ACTIONS ON" not in _screen(tmux, off)
        _quit(tmux, off, tmp_path / "off")
        assert not audit.exists()

        _run_monitor(tmux, on, env, tmp_path / "on", "--allow-actions")
        _wait_for(tmux, on, r"ACTIONS ON")
        _wait_for(tmux, on, rf"{TARGET} .*calling")
        _keys(tmux, on, "x")
        _wait_for(tmux, on, r"Type the task id")
        _keys(tmux, on, "123", literal=True)
        _keys(tmux, on, "Enter")
        _wait_for(tmux, on, r"not the task id")
        _keys(tmux, on, "BSpace", "BSpace", "BSpace")
        # Emptied (its placeholder is back) before the id is typed: in one burst, the
        # backspaces were once applied after part of the id (CI, 1 run in 3).
        _wait_for(tmux, on, rf"type {TARGET} to cancel")
        _keys(tmux, on, TARGET, literal=True)
        _keys(tmux, on, "Enter")
        # The row itself (a toast says "#id cancelled" too): the id at the line's start.
        screen = _wait_for(tmux, on, rf"(?m)^ *{TARGET} +\S.*cancelled")
        assert "Type the task id" not in screen  # the dialog closed
        _quit(tmux, on, tmp_path / "on")
    finally:
        for session in (off, on):
            subprocess.run([*tmux, "kill-session", "-t", session], capture_output=True)
    [line] = [json.loads(x) for x in audit.read_text().splitlines()]
    assert line["action"] == "cancel" and line["ids"] == [int(TARGET)]
    assert line["results"][0]["outcome"] == "cancelled"
    assert SECRET not in audit.read_text() and KEY not in audit.read_text()
