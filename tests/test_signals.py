"""SIGTERM and SIGHUP quit like q in a real terminal: exit 0, the terminal restored."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.common import tmux_cmd

pytestmark = pytest.mark.e2e


def _tmux(tmux: list[str], *args: str) -> str:
    return subprocess.run([*tmux, *args], capture_output=True, text=True, check=True).stdout


def _wait(tmux: list[str], session: str, pattern: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux(tmux, "capture-pane", "-p", "-t", session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not on screen:\n{screen}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_signal_quits_cleanly_and_restores_the_terminal(sig: signal.Signals,
                                                        tmp_path: Path) -> None:
    tmux = tmux_cmd()
    session = f"cw-sig-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color", "PS1": "$ ",
           "CALLWATCH_STATE_DIR": str(tmp_path / "state"),
           "CALLWATCH_CONFIG_DIR": str(tmp_path / "config")}
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh"],
                   check=True, env=env)
    try:
        _tmux(tmux, "send-keys", "-t", session, "-l",
              f"{sys.executable} -m callwatch --demo --interval 1; echo __EXIT__$?")
        _tmux(tmux, "send-keys", "-t", session, "Enter")
        _wait(tmux, session, r"june-promo")
        assert _tmux(tmux, "display", "-p", "-t", session, "#{alternate_on}").strip() == "1"
        shell = int(_tmux(tmux, "display", "-p", "-t", session, "#{pane_pid}").strip())
        child = _child_of(shell)
        simulator = _child_of(child)  # --demo's simulator process
        os.kill(child, sig)
        screen = _wait(tmux, session, r"__EXIT__\d+", timeout=10)
        assert "__EXIT__0" in screen, screen
        assert "Traceback" not in screen
        flags = _tmux(tmux, "display", "-p", "-t", session, "#{alternate_on} #{cursor_flag}")
        assert flags.split() == ["0", "1"], flags  # main screen, cursor shown
        _until_ended(simulator, "the simulator outlived the monitor")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_a_stale_columns_export_does_not_shrink_the_screen(tmp_path: Path) -> None:
    """COLUMNS=80 LINES=24 exported in a 120x40 terminal: the terminal's size wins."""
    tmux = tmux_cmd()
    session = f"cw-cols-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color", "PS1": "$ ", "COLUMNS": "80", "LINES": "24",
           "CALLWATCH_STATE_DIR": str(tmp_path / "state"),
           "CALLWATCH_CONFIG_DIR": str(tmp_path / "config")}
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"{sys.executable} -m callwatch --demo"], check=True, env=env)
    try:
        screen = _wait(tmux, session, r"june-promo")
        assert "Called/Total" in screen, screen  # the 120-column layout, not the 80 one
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_the_app_ends_when_its_terminal_goes_away(tmp_path: Path) -> None:
    """The SSH session drops: the pty is gone and SIGHUP arrives. The process must end
    (it lingered for ever when Textual's shutdown waited on the dead terminal)."""
    tmux = tmux_cmd()
    session = f"cw-hup-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color",
           "CALLWATCH_STATE_DIR": str(tmp_path / "state"),
           "CALLWATCH_CONFIG_DIR": str(tmp_path / "config")}
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    f"{sys.executable} -m callwatch --demo"], check=True, env=env)
    try:
        _wait(tmux, session, r"june-promo")
        pid = int(_tmux(tmux, "display", "-p", "-t", session, "#{pane_pid}").strip())
        simulator = _child_of(pid)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    _until_ended(pid, "callwatch outlived its terminal")
    _until_ended(simulator, "the simulator outlived callwatch")


def _child_of(pid: int) -> int:
    return int(subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def _until_ended(pid: int, message: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z":
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
