"""``callwatch --demo``'s simulator forked from the monitor: alone with its two pipes, in
its own session, never back in the monitor's code; a new interpreter where forking is not
safe. Each case runs in a fresh Python (a single-threaded process, as the CLI is when it
forks; the test runner is not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # real processes

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env: str) -> dict[str, object]:
    """``code`` in a fresh Python; its last stdout line, as JSON."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def test_the_forked_child_has_only_its_pipes_its_session_and_no_settings(
        tmp_path: Path) -> None:
    out = _run(f"""
        import json, os, sys
        from callwatch.cli import demo_fork

        kept = open({str(tmp_path / "held-by-the-monitor")!r}, "w")  # like the terminal
        os.environ["CALLWATCH_SECRET"] = "s3cret"

        def probe():
            fds = {{}}
            for fd in os.listdir("/proc/self/fd"):
                try:
                    fds[fd] = os.readlink(f"/proc/self/fd/{{fd}}")
                except OSError:  # listdir's own, closed since
                    pass
            print(json.dumps({{"fds": fds, "sid": os.getsid(0), "pid": os.getpid(),
                              "env": sorted(k for k in os.environ if "CALLWATCH" in k),
                              "comm": open("/proc/self/comm").read().strip()}}), flush=True)
            while os.read(0, 4096):  # until the monitor closes the pipe
                pass
            return 7

        assert demo_fork.can_fork()
        child = demo_fork.fork_simulator(probe)
        seen = json.loads(child.stdout.readline())
        child.stdin.close()
        seen["code"] = child.wait(30)
        seen["monitor_still_has"] = sorted(k for k in os.environ if "CALLWATCH" in k)
        print(json.dumps(seen))
        """)
    assert out["code"] == 7  # the target's own exit code, and nothing after it
    assert out["sid"] == out["pid"]  # out of the terminal's reach
    assert out["env"] == []  # no CALLWATCH_ setting reaches the simulator
    assert "CALLWATCH_SECRET" in str(out["monitor_still_has"])  # the monitor keeps its own
    assert out["comm"] == "callwatch-sim"  # what ps and top show
    fds = out["fds"]
    assert isinstance(fds, dict)
    assert not any("held-by-the-monitor" in target for target in fds.values())
    assert sorted(fds, key=int) == ["0", "1", "2"]  # nothing else is open
    assert all(fds[fd].startswith("pipe:") for fd in ("0", "1", "2"))


def test_a_child_that_fails_tells_why_on_its_pipe_and_never_returns_to_the_monitor(
        ) -> None:
    out = _run("""
        import json
        from callwatch.cli import demo_fork

        def boom():
            raise RuntimeError("no simulator today")

        child = demo_fork.fork_simulator(boom)
        said = child.stdout.read().decode()  # until the child ends
        print(json.dumps({"said": said, "code": child.wait(30)}))
        """)
    assert out["code"] == 1
    said = out["said"]
    assert isinstance(said, str) and "RuntimeError: no simulator today" in said
    assert '{"said"' not in said  # the child ended by os._exit: it printed nothing more


def test_a_forked_child_is_waited_for_with_a_timeout_then_killed() -> None:
    out = _run("""
        import json, signal, subprocess, time
        from callwatch.cli import demo_fork

        def stubborn():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
            return 0

        child = demo_fork.fork_simulator(stubborn)
        time.sleep(0.2)  # its SIGTERM handler in place
        child.terminate()
        try:
            child.wait(0.3)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        child.kill()
        print(json.dumps({"timed_out": timed_out, "code": child.wait(30),
                          "again": child.poll()}))
        """)
    assert out == {"timed_out": True, "code": -9, "again": -9}


def test_alone_the_cli_forks_the_simulator_and_it_serves() -> None:
    out = _run("""
        import asyncio, json, urllib.request
        from callwatch.cli import demo_fork, demo_proc

        proc = demo_proc.spawn()
        sim = demo_proc.DemoSim(proc=proc)
        asyncio.run(sim.wait_ready())
        with urllib.request.urlopen(f"{sim.base_url}/_sim/stats", timeout=10) as answer:
            stats = json.load(answer)
        sim.close()
        print(json.dumps({"forked": isinstance(proc, demo_fork.Forked), "stats": stats,
                          "ended": proc.returncode is not None,
                          "sim_here": "uvicorn" in __import__("sys").modules}))
        """)
    assert out == {"forked": True, "stats": {}, "ended": True, "sim_here": False}


def test_with_another_thread_running_the_simulator_is_a_new_interpreter() -> None:
    """Forking a threaded process could copy a lock another thread holds: not done."""
    out = _run("""
        import asyncio, json, subprocess, threading
        from callwatch.cli import demo_fork, demo_proc

        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        proc = demo_proc.spawn()
        cmdline = open(f"/proc/{proc.pid}/cmdline").read()
        sim = demo_proc.DemoSim(proc=proc)
        asyncio.run(sim.wait_ready())
        sim.close()
        stop.set()
        print(json.dumps({"popen": isinstance(proc, subprocess.Popen),
                          "can_fork": demo_fork.can_fork(), "cmdline": cmdline,
                          "ended": proc.returncode is not None}))
        """)
    assert out["popen"] is True and out["can_fork"] is False and out["ended"] is True
    assert "callwatch.sim.demo" in str(out["cmdline"])


def test_what_is_imported_before_the_fork_the_monitor_imports_anyway() -> None:
    """The shared imports cost the monitor nothing: it imports each of them itself on the
    way to its first tasks (here without the fork: another thread makes it start a new
    interpreter, so nothing is imported for the child's sake)."""
    from callwatch.cli.demo_fork import SHARED_IMPORTS
    from tests.test_demo_process import BUILD_AND_RUN

    prelude = ("import threading\nthreading.Thread(target=threading.Event().wait, "
               "daemon=True).start()\n")
    proc = subprocess.run([sys.executable, "-c", prelude + BUILD_AND_RUN],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "june-promo-01" in out["names"]  # the monitor got as far as its first tasks
    assert set(SHARED_IMPORTS) <= set(out["modules"])
