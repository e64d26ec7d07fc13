"""``callwatch alerts``: the real command against the simulator prints events as JSON
lines, runs the rules of config.toml, and exits 0 on SIGTERM and on Ctrl+C."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from callwatch.sim.remote import control
from callwatch.sim.server import RunningSim
from tests.helpers.common import KEY, SECRET
from tests.helpers.oneshot import sim_env


def _read_event(proc: subprocess.Popen[str], name: str, timeout: float = 30) -> dict[str, Any]:
    """The first JSON line on stdout whose event is ``name``."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=0.5):
            continue
        line = proc.stdout.readline()
        if not line:
            break
        event: dict[str, Any] = json.loads(line)
        if event["event"] == name:
            return event
    raise AssertionError(f"no {name} event")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_events_are_json_lines_rules_run_and_a_signal_exits_0(
        live_sim: RunningSim, tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "rule.json"
    script = tmp_path / "rule.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n")
    config = Path(os.environ["CALLWATCH_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f"[alerts]\ndesktop = false\n\n[[alerts.rules]]\non = [\"finished\"]\n"
        f"exec = {json.dumps([sys.executable, str(script), str(out)])}\n")
    jid = control(live_sim.base_url, "jobs", {"numCnt": 20, "dialRate": 10,
                                              "startIn": 3})["jobId"]
    control(live_sim.base_url, "stats", {})  # counts from zero
    proc = subprocess.Popen([sys.executable, "-m", "callwatch", "alerts", "--interval", "1",
                             str(jid)], env=sim_env(live_sim.base_url), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not control(live_sim.base_url, "stats").get("code0"):  # known while waiting
            assert time.monotonic() < deadline, "the runner sent nothing"
            time.sleep(0.1)
        time.sleep(0.3)  # the answer applied
        control(live_sim.base_url, "advance", {"seconds": 30})
        event = _read_event(proc, "finished")
        assert event["jobId"] == jid and event["state"] == "completed"
        assert list(event)[:3] == ["event", "at", "profile"]
        deadline = time.monotonic() + 15
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(out.read_text())["jobId"] == jid
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "watching 1 task" in err and KEY not in err and SECRET not in err


def test_nothing_to_watch_is_a_usage_error(live_sim: RunningSim) -> None:
    proc = subprocess.run([sys.executable, "-m", "callwatch", "alerts"],
                          env=sim_env(live_sim.base_url), capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 2 and "nothing to watch" in proc.stderr
