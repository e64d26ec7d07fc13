"""Every task stands alone, as a user sees it: the real command in a real terminal (tmux)
against the simulator with per-task faults on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callwatch.sim.model import CALLING
from callwatch.sim.remote import set_task_fault
from callwatch.sim.server import serve_in_thread
from tests.helpers.common import KEY, SECRET, make_state, tmux_cmd

pytestmark = pytest.mark.e2e


def _screen(tmux: list[str], session: str) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=True).stdout


def _row(screen: str, job_id: int) -> str:
    return next((ln for ln in screen.splitlines() if ln.strip().startswith(str(job_id))), "")


def _healthy(row: str) -> bool:
    """Values shown (a percentage) and no problem word (the state may read "calling" or,
    from the alerts, "high fail")."""
    return bool(re.search(r"\d+%", row)) and "⚠" not in row and "loading" not in row


def _until(tmux: list[str], session: str, check: object, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(tmux, session)
        if check(screen):  # type: ignore[operator]
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{what} not on screen:\n{screen}")


def test_healthy_rows_refresh_while_one_task_hangs_and_each_says_its_problem(
        tmp_path: Path) -> None:
    state = make_state(1000)  # ~10 list pages: 4 watched tasks are asked by detail
    with serve_in_thread(state) as sim:
        now = state.clock.now()
        ids = [j for j, job in state.jobs.items() if job.status_at(now) == CALLING][:4]
        hang, bad = ids[0], ids[1]
        set_task_fault(sim.base_url, hang, "hang")
        set_task_fault(sim.base_url, bad, "http_502")
        tmux = tmux_cmd()
        session = f"cw-pf-{os.getpid()}"
        env = {**os.environ, "CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
               "CALLWATCH_BASE_URL": sim.base_url, "TERM": "xterm-256color",
               "CALLWATCH_STATE_DIR": str(tmp_path / "state"),
               "CALLWATCH_CONFIG_DIR": str(tmp_path / "config")}
        exit_file = tmp_path / "exit"
        subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                        f"{sys.executable} -m callwatch --interval 1 {' '.join(map(str, ids))}; "
                        f"echo EXIT=$? > {exit_file}"], check=True, env=env)
        try:
            # The healthy rows show their data at once, while one request hangs.
            _until(tmux, session, lambda s: all(_healthy(_row(s, j)) for j in ids[2:]),
                   10, "the healthy rows")
            # Each failing row says its own problem: the hang within its deadline (8 s).
            screen = _until(tmux, session, lambda s: "HTTP 502" in _row(s, bad)
                            and "timeout" in _row(s, hang), 25, "the failing rows' words")
            assert re.search(r"2 failing", screen), screen
            assert all(_healthy(_row(screen, j)) for j in ids[2:]), screen
            pressed = time.monotonic()
            subprocess.run([*tmux, "send-keys", "-t", session, "q"], check=True)
            while not exit_file.exists():
                assert time.monotonic() - pressed < 10, _screen(tmux, session)
                time.sleep(0.1)
            assert exit_file.read_text().strip() == "EXIT=0"
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
