"""``callwatch --demo``: the simulator in a child process that boots beside the UI, serves
the real HTTP API on loopback, and never outlives the monitor."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import pytest

from callwatch.cli import demo_proc, main, monitor_cmd
from callwatch.cli.demo import DemoMonitor
from callwatch.cli.demo_fork import Child
from callwatch.cli.demo_proc import DemoSim, DemoSimError
from callwatch.monitor import Update
from callwatch.sim import demo as sim_demo
from callwatch.sim.demo import (
    DEMO_BRAND,
    DEMO_JOBS,
    DEMO_KEY,
    DEMO_SECRET,
    DEMO_SEED,
    FIRST_JOB_ID,
    demo_job_ids,
)
from callwatch.sim.server import demo_state, make_server, serve_in_thread
from tests.helpers.common import tmux_cmd

pytestmark = pytest.mark.e2e  # real processes: the simulator child, uvicorn, tmux

ROOT = Path(__file__).resolve().parent.parent
NEVER_IN_THE_UI = ("starlette", "uvicorn", "callwatch.sim.app", "callwatch.sim.server",
                   "callwatch.sim.transport", "callwatch.sim.model")


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie its new parent has not reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _until(what: Callable[[], bool], timeout: float = 30.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, message or "timed out"
        time.sleep(0.05)


def _fake_child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


# --- the child process on its own ---------------------------------------------------


def test_the_demo_world_matches_what_the_monitor_assumes() -> None:
    state = demo_state(DEMO_JOBS, DEMO_SEED)
    assert list(state.jobs) == demo_job_ids()
    assert state.config.brand.value == DEMO_BRAND
    assert state.config.keys == {DEMO_KEY: DEMO_SECRET}


async def test_the_child_serves_then_ends_at_its_stdins_end() -> None:
    """What happens when the monitor dies, even by SIGKILL: the pipe closes."""
    sim = DemoSim()
    try:
        await sim.wait_ready()
        assert sim.base_url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", sim.port()), timeout=10):
            pass  # it listens
        assert os.getsid(sim.proc.pid) == sim.proc.pid  # out of the terminal's reach
        assert sim.proc.stdin is not None
        sim.proc.stdin.close()
        assert sim.proc.wait(timeout=30) == 0
    finally:
        sim.close()


def test_the_warm_up_asks_what_the_first_cycle_asks_and_is_answered() -> None:
    """Signed and well formed: each answer is a success, so the warm-up went through the
    same paths as the monitor's first requests (not a rejection's short cut)."""
    state = demo_state(DEMO_JOBS, DEMO_SEED)
    with serve_in_thread(state) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            answers = []
            for request in sim_demo._first_requests(port):
                conn.sendall(request)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, body = data.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                answers.append((head.split(b"\r\n")[0], json.loads(body)))
    assert [status for status, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
    query, detail, balance = (body for _, body in answers)
    assert query["code"] == 0 and len(query["data"]["records"]) == DEMO_JOBS
    assert detail["code"] == 0 and detail["data"]["jobId"] == FIRST_JOB_ID
    assert balance["status"] == "0"
    assert dict(state.stats) == {"query": 1, "detail": 1, "balance": 1, "requests": 3,
                                 "code0": 3}


async def test_a_ready_childs_counters_start_with_the_monitors_requests() -> None:
    sim = DemoSim()
    try:
        await sim.wait_ready()
        with urllib.request.urlopen(f"{sim.base_url}/_sim/stats", timeout=10) as answer:
            assert json.load(answer) == {}  # the warm-up's requests are not counted
    finally:
        sim.close()


async def test_close_ends_and_reaps_a_serving_child() -> None:
    sim = DemoSim()
    await sim.wait_ready()
    sim.close()
    assert sim.proc.returncode is not None
    assert _gone(sim.proc.pid)
    sim.close()  # twice is harmless


def test_a_child_that_fails_at_once_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    child = _fake_child("import sys; sys.stderr.write('ImportError: no uvicorn here\\n'); "
                        "sys.exit(3)")
    monkeypatch.setattr(demo_proc, "child_command", lambda: child)
    for name in ("COLUMNS", "LINES"):  # the command drops them: restored after the test
        monkeypatch.delenv(name, raising=False)
    threshold = gc.get_threshold()
    try:
        assert monitor_cmd.run("monitor", ["--demo"]) == 4  # like an unreachable API
    finally:  # the start-up's garbage-collector settings, undone for the other tests
        gc.unfreeze()
        gc.set_threshold(*threshold)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["callwatch: the demo simulator ended before it listened (exit code 3): "
                   "ImportError: no uvicorn here"]


def test_a_usage_error_ends_the_early_started_child(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``callwatch --demo`` starts the simulator before parsing its options."""
    started: list[Child] = []
    spawn = demo_proc.spawn

    def recorded(command: Sequence[str] | None = None) -> Child:
        started.append(spawn(command))
        return started[-1]

    monkeypatch.setattr(demo_proc, "spawn", recorded)
    with pytest.raises(SystemExit) as exit_:
        main(["--demo", "--no-such-option"])
    assert exit_.value.code == 2 and "--no-such-option" in capsys.readouterr().err
    (proc,) = started
    assert proc.returncode is not None  # ended and reaped, not left to init


def test_a_child_that_cannot_be_started_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    monkeypatch.setattr(demo_proc, "child_command", lambda: [str(tmp_path / "no-python")])
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--demo"]) == 4
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("callwatch: cannot start the demo simulator: ")
    assert "no-python" in line


async def test_ending_a_stubborn_child_does_not_block_the_event_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that never gets ready and ignores SIGTERM is waited for, then killed: in
    a thread, so the screen (the event loop) goes on meanwhile."""
    monkeypatch.setattr(demo_proc, "STOP_TIMEOUT", 1.0)
    sim = DemoSim(_fake_child(
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('port 9', flush=True); time.sleep(60)"))
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        assert sim.port() == 9
        started = time.monotonic()
        with pytest.raises(DemoSimError, match=r"was not ready within 0\.3 s"):
            await sim.wait_ready(timeout=0.3)
        assert time.monotonic() - started >= 1.0  # it did wait for the child to end
        assert sim.proc.returncode is not None  # killed
        await asyncio.sleep(0.1)  # the ticker's turn: a blocked loop shows as one long gap
        assert max(gaps) < 0.5, max(gaps)  # the loop never stood still for that wait
    finally:
        ticking.cancel()
        sim.close()


async def test_a_child_that_never_gets_ready_is_a_message_not_a_hang() -> None:
    sim = DemoSim(_fake_child("import sys; print('port 9', flush=True); sys.stdin.read()"))
    try:
        assert sim.port() == 9
        with pytest.raises(DemoSimError, match=r"was not ready within 0\.3 s"):
            await sim.wait_ready(timeout=0.3)
        assert sim.proc.returncode is not None  # and it was ended
    finally:
        sim.close()


# --- the monitor's first cycle --------------------------------------------------------


class GatedSim:
    """A simulator whose readiness the test decides."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.waiting = asyncio.Event()
        self.gate = asyncio.Event()

    async def wait_ready(self) -> None:
        self.waiting.set()
        await self.gate.wait()


async def _until_async(what: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_first_cycle_waits_until_the_simulator_serves() -> None:
    """Nothing listens yet (the child is booting): no request, so no "cannot connect"
    banner; once it serves, the first cycle brings the tasks."""
    state = demo_state(DEMO_JOBS, DEMO_SEED)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))  # bound, not listening: a connection is refused
    port = sock.getsockname()[1]
    sim = GatedSim(f"http://127.0.0.1:{port}")
    monitor = DemoMonitor(cast(DemoSim, sim), interval=3600.0)
    updates: list[Update] = []
    run = asyncio.create_task(monitor.run(updates.append))
    server = make_server(state, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        await asyncio.wait_for(sim.waiting.wait(), 10)
        for _ in range(50):  # time for a cycle that did not wait to fail
            await asyncio.sleep(0)
        assert monitor.client.requests_sent == 0 and updates == []
        thread.start()
        await _until_async(lambda: bool(server.started))
        sim.gate.set()
        await _until_async(lambda: monitor.cycles >= 1)
    finally:
        monitor.stop()
        await run
        await monitor.client.aclose()
        server.should_exit = True
        thread.join(timeout=10)
    names = {v.job.task_name for v in monitor.tasks.values() if v.job is not None}
    assert "june-promo-01" in names and len(names) == DEMO_JOBS
    assert [p for u in updates for p in u.problems] == []


async def test_a_simulator_that_dies_while_booting_says_so_on_the_banner() -> None:
    sim = DemoSim(_fake_child("import sys; print('port 9', flush=True); "
                              "sys.stderr.write(\"ModuleNotFoundError: No module named "
                              "'uvicorn'\\n\"); sys.exit(1)"))
    monitor = DemoMonitor(sim, interval=3600.0)
    updates: list[Update] = []
    try:
        await asyncio.wait_for(monitor.run(updates.append), 30)
    finally:
        sim.close()
        await monitor.client.aclose()
    assert monitor.client.requests_sent == 0
    (problem,) = updates[-1].problems
    assert problem.kind == "demo" and problem.level == "error"
    assert problem.message == ("the demo simulator ended before it was ready (exit code 1): "
                               "ModuleNotFoundError: No module named 'uvicorn'")


# --- the real app ---------------------------------------------------------------------

BUILD_AND_RUN = """
import asyncio, json, sys
from callwatch.cli import monitor_cmd

args = monitor_cmd.build_parser().parse_args(["--demo"])
sim = monitor_cmd._start_demo_sim()
try:
    app = monitor_cmd._build_app(args, [], sim)

    async def drive():
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(600):
                names = [v.job.task_name for v in app.monitor.tasks.values() if v.job]
                if names:
                    break
                await pilot.pause(0.05)
            await pilot.press("q")
        return names

    names = asyncio.run(drive())
finally:
    sim.close()
print(json.dumps({"names": names, "base_url": app.monitor.client.base_url,
                  "child_ended": sim.proc.returncode is not None,
                  "modules": sorted(sys.modules)}))
"""


def test_the_demo_ui_process_never_imports_the_simulator(tmp_path: Path) -> None:
    """The build path of ``callwatch --demo`` (``_run_app`` without the terminal),
    run until the first tasks arrive over HTTP from the child."""
    proc = subprocess.run([sys.executable, "-c", BUILD_AND_RUN], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "june-promo-01" in out["names"]
    assert out["base_url"].startswith("http://127.0.0.1:")
    assert out["child_ended"]
    leaked = [m for m in out["modules"] if m.split(".")[0] in NEVER_IN_THE_UI
              or any(m == n or m.startswith(n + ".") for n in NEVER_IN_THE_UI)]
    assert leaked == []


# --- in a terminal ----------------------------------------------------------------------


def _tmux(tmux: list[str], *args: str) -> str:
    return subprocess.run([*tmux, *args], capture_output=True, text=True, check=True).stdout


def _demo_in_tmux(tmux: list[str], session: str, tmp_path: Path) -> tuple[int, int]:
    """``callwatch --demo`` in a shell in a tmux pane, its tasks on screen: (the monitor's
    pid, its simulator child's pid)."""
    env = {**os.environ, "TERM": "xterm-256color", "PS1": "$ ",
           "CALLWATCH_STATE_DIR": str(tmp_path / "state"),
           "CALLWATCH_CONFIG_DIR": str(tmp_path / "config")}
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh"],
                   check=True, env=env)
    _tmux(tmux, "send-keys", "-t", session, "-l",
          f"{sys.executable} -m callwatch --demo; echo __EXIT__$?")
    _tmux(tmux, "send-keys", "-t", session, "Enter")
    _until(lambda: "june-promo-01" in _tmux(tmux, "capture-pane", "-p", "-t", session),
           message="the demo tasks never showed")
    shell = int(_tmux(tmux, "display", "-p", "-t", session, "#{pane_pid}").strip())
    monitor = int(subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True,
                                 check=True).stdout.split()[0])
    child = int(subprocess.run(["pgrep", "-P", str(monitor)], capture_output=True, text=True,
                               check=True).stdout.split()[0])
    assert Path(f"/proc/{child}/comm").read_text().strip() == "callwatch-sim"  # forked
    terminal = _tmux(tmux, "display", "-p", "-t", session, "#{pane_tty}").strip()
    held = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
    assert terminal and terminal not in held  # the terminal is the monitor's alone
    return monitor, child


def test_quitting_the_demo_ends_its_simulator(tmp_path: Path) -> None:
    tmux = tmux_cmd()
    session = f"cw-demo-q-{os.getpid()}"
    try:
        monitor, child = _demo_in_tmux(tmux, session, tmp_path)
        _tmux(tmux, "send-keys", "-t", session, "q")
        _until(lambda: re.search(r"__EXIT__\d", _tmux(tmux, "capture-pane", "-p", "-t",
                                                      session)) is not None)
        screen = _tmux(tmux, "capture-pane", "-p", "-t", session)
        assert "__EXIT__0" in screen, screen
        for stray in ("Traceback", "uvicorn", "ready", "port "):
            assert stray not in screen, screen
        _until(lambda: _gone(child), message="the simulator outlived the monitor")
        assert _gone(monitor)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_killing_the_demo_monitor_ends_its_simulator(tmp_path: Path) -> None:
    """SIGKILL: no handler, no finally; the child sees its stdin end."""
    tmux = tmux_cmd()
    session = f"cw-demo-k-{os.getpid()}"
    try:
        monitor, child = _demo_in_tmux(tmux, session, tmp_path)
        os.kill(monitor, signal.SIGKILL)
        _until(lambda: _gone(child), message="the simulator outlived the killed monitor")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
