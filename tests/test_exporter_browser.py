"""The read-only task page in a real headless browser (Debian's chromium): it loads,
renders the simulator's tasks, runs nothing, and a screenshot is taken.

Set CALLWATCH_BROWSER_SHOT to a path to keep the screenshot (the README's
screenshots/browser.png is made so)."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from callwatch.sim.server import serve_in_thread
from tests.helpers.common import require_tools
from tests.helpers.exporter import frozen_state, poll, run_exporter
from tests.helpers.oneshot import add_sim_job

pytestmark = pytest.mark.e2e

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    require_tools("chromium")
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    cmd = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox",
           "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
           "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


def test_the_task_page_in_a_real_browser(tmp_path: Path) -> None:
    require_tools("chromium")
    state = frozen_state()
    with serve_in_thread(state) as sim:
        hostile = add_sim_job(sim.base_url, taskName="<img src=x onerror=alert(1)>x",
                              numCnt=50, startIn=-5)
        with run_exporter(sim.base_url, "--interval", "1", *map(str, state.jobs)) as exporter:
            poll(lambda: True if "june-promo-01" in exporter.get("/tasks")[2] else None,
                 "the task table to be filled")
            page = exporter.url + "/tasks"
            dom = chromium("--dump-dom", page, profile=tmp_path / "p1")
            shot = tmp_path / "browser.png"
            took = chromium(f"--screenshot={shot}", "--window-size=1100,520", page,
                            profile=tmp_path / "p2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # The browser's own DOM: the table rendered with the simulator's task names.
    assert "<table>" in html and "june-promo-01" in html and "loyalty-bonus-12" in html
    assert f"<td>{hostile}</td>" in html
    # The hostile name is text, not an element.
    assert "&lt;img src=x onerror=alert(1)&gt;x" in html and "<img" not in html
    assert took.returncode == 0, took.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    keep = os.environ.get("CALLWATCH_BROWSER_SHOT")
    if keep:
        shutil.copy(shot, keep)


def test_the_page_refuses_scripts_and_outside_loads() -> None:
    """The page's policy header: even injected markup could run or load nothing."""
    state = frozen_state(2)
    with serve_in_thread(state) as sim, \
            run_exporter(sim.base_url, "--interval", "1", *map(str, state.jobs)) as exporter:
        with urllib.request.urlopen(exporter.url + "/tasks", timeout=10) as resp:
            policy = resp.headers["content-security-policy"]
            body = resp.read().decode()
    assert policy.startswith("default-src 'none'") and "script-src" not in policy
    assert "<script" not in body and "http-equiv=\"refresh\"" in body

