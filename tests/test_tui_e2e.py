"""End to end: the installed `callwatch` in tmux against `callwatch sim` on loopback."""

from __future__ import annotations

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
KEY, SECRET = "e2eKey01", "e2eSecret0123456"


@pytest.fixture
def sim() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callwatch", "sim", "--port", str(port), "--speed", "20",
         "--api-key", KEY, "--api-secret", SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for _ in range(100):
            line = proc.stdout.readline()
            if "CALLWATCH_BASE_URL" in line:
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _screen(tmux: list[str], session: str) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=True).stdout


def _wait_for(tmux: list[str], session: str, pattern: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(tmux, session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not on screen:\n{screen}")


def _called(screen: str, job_id: str) -> str:
    line = next(ln for ln in screen.splitlines() if job_id in ln)
    match = re.search(r"([\d,]+/[\d,]+)", line)
    assert match, line
    return match.group(1)


def test_monitor_in_tmux_against_loopback_sim(sim: str, tmp_path: Path) -> None:
    tmux = tmux_cmd()
    session = f"cw-e2e-{os.getpid()}"
    exit_file = tmp_path / "exit"
    env = {**os.environ, "CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
           "CALLWATCH_BASE_URL": sim, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    cmd = (f"{sys.executable} -m callwatch --interval 1 --all-active; "
           f"echo EXIT=$? > {exit_file}")
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd],
                   env=env, check=True)
    try:
        first = _wait_for(tmux, session, r"5000601 .*calling")
        _wait_for(tmux, session, r"up to date|updated \d+s ago")
        before = _called(first, "5000602")
        time.sleep(3)
        after = _called(_screen(tmux, session), "5000602")
        assert before != after, "counts did not move"
        subprocess.run([*tmux, "send-keys", "-t", session, "j"], check=True)
        subprocess.run([*tmux, "send-keys", "-t", session, "p"], check=True)
        _wait_for(tmux, session, r"PAUSED")
        subprocess.run([*tmux, "send-keys", "-t", session, "/"], check=True)
        _wait_for(tmux, session, r"filter by id or name")
        subprocess.run([*tmux, "send-keys", "-t", session, "-l", "promo"], check=True)
        _wait_for(tmux, session, r"filter “promo”")
        screen = _screen(tmux, session)
        assert "5000601" not in screen.split("filter")[1]
        subprocess.run([*tmux, "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.5)
        subprocess.run([*tmux, "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        subprocess.run([*tmux, "kill-session", "-t", session], capture_output=True)


def test_missing_credentials_is_one_line_exit_3() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_API")}
    proc = subprocess.run([sys.executable, "-m", "callwatch"], capture_output=True,
                          text=True, env=env, timeout=30)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "credentials" in lines[0] and "Traceback" not in proc.stderr
