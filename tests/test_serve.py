"""``callwatch serve``: the monitor in a real headless browser (Debian's chromium) over
textual-serve, against the simulator; refusals; no secret on a command line, in the
page or in the websocket traffic.

Set CALLWATCH_SERVE_SHOT to a path to keep the screenshot (the README's
screenshots/browser-serve.png is made so)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callwatch.cli.serve_cmd import build_parser, child_argv
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import SimClock
from callwatch.sim.server import serve_in_thread
from tests.helpers.browser import chromium_devtools, visit
from tests.helpers.common import KEY, run_callwatch
from tests.helpers.oneshot import sim_env

CANARY = "cAnArY-s3cret-9f2e"  # the API secret: must show up nowhere
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--host", "192.0.2.7"],
                                  ["--allow-actions"]])
def test_refused_with_one_line(args: list[str]) -> None:
    ran = run_callwatch("serve", "--port", "0", *args)
    assert ran.returncode == 2, ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert ("non-loopback" in ran.stderr) != ("--allow-actions" in args)


def test_the_session_command_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLWATCH_API_KEY", KEY)
    monkeypatch.setenv("CALLWATCH_API_SECRET", CANARY)
    args = build_parser().parse_args(["--profile", "ops", "--base-url", "http://127.0.0.1:9",
                                      "--allow-insecure-http", "--interval", "2", "7"])
    args.ids = [7]
    argv = child_argv(args)
    assert argv[:3] == [sys.executable, "-m", "callwatch"]
    assert "--read-only" in argv and "--allow-actions" not in argv
    assert argv[-1] == "7" and argv[argv.index("--profile") + 1] == "ops"
    assert not any(CANARY in a or KEY in a for a in argv)


def test_read_only_and_allow_actions_refused() -> None:
    ran = run_callwatch("--read-only", "--allow-actions", "1")
    assert ran.returncode == 2 and "cannot be used together" in ran.stderr


def _state() -> SimState:
    state = SimState(SimConfig(keys={KEY: CANARY}), clock=SimClock(time.time, 0.0))
    state.populate(6)
    return state


@contextlib.contextmanager
def _serve(base_url: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    cmd = [sys.executable, "-m", "callwatch", "serve", "--port", "0", *args]
    proc = subprocess.Popen(cmd, env=sim_env(base_url, secret=CANARY),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "open http://" in line, line + (proc.stderr.read() if proc.stderr else "")
        yield proc, line.split("open ", 1)[1].split()[0]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _session_cmdlines() -> list[str]:
    """Command lines of the running monitor sessions (``--read-only``), from /proc."""
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            if b"--read-only" in args and b"callwatch" in args:
                out.append(shlex.join(a.decode("utf-8", "replace") for a in args))
    return out


@pytest.mark.e2e
def test_the_monitor_in_a_real_browser(tmp_path: Path) -> None:
    state = _state()
    name = state.jobs[next(iter(state.jobs))].name
    with serve_in_thread(state) as sim, \
            _serve(sim.base_url, "--interval", "1", *map(str, state.jobs)) as (_proc, url), \
            chromium_devtools(tmp_path / "profile") as devtools:
        run = visit(devtools, url, wait_for=name)
        sessions = _session_cmdlines()
    assert not run.console, run.console
    assert run.first_byte, "the terminal never showed output"
    # What xterm.js was fed: the monitor's screen with the simulator's task.
    assert name in run.received and "callwatch" in run.received
    assert 'id="terminal"' in run.html and "xterm" in run.html
    assert not run.outside, run.outside  # no Google Fonts: offline machines
    for seen in (run.html, run.received, *sessions):
        assert CANARY not in seen
    assert sessions and all("--read-only" in s for s in sessions)
    assert run.screenshot.startswith(PNG_MAGIC) and len(run.screenshot) > 10_000
    keep = os.environ.get("CALLWATCH_SERVE_SHOT")
    if keep:
        Path(keep).write_bytes(run.screenshot)


@pytest.mark.parametrize("read_only", [False, True])
def test_read_only_turns_a_profiles_actions_off(monkeypatch: pytest.MonkeyPatch,
                                                read_only: bool) -> None:
    """A profile with ``actions = true``: enabled in the terminal, off in a served
    session (``--read-only``), for every profile the session could switch to."""
    from callwatch.cli import monitor_cmd
    from callwatch.store.config import Config, Profile, save_config

    prof = Profile("ops", base_url="http://127.0.0.1:9", api_key=KEY,
                   allow_insecure_http=True, actions=True)
    save_config(Config().with_profile(prof))
    monkeypatch.setenv("CALLWATCH_API_SECRET", CANARY)
    argv = ["--profile", "ops", *(["--read-only"] if read_only else []), "7"]
    app = monitor_cmd._build_app(monitor_cmd.build_parser().parse_args(argv), [7])
    assert app.actions_enabled is not read_only
    assert any(p.actions for p in app.settings.profiles.values()) is not read_only
