"""``callwatch wait`` against the simulator over loopback, piped and on a TTY."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from callwatch.sim.server import RunningSim, free_port, serve_in_thread
from tests.helpers.common import make_state
from tests.helpers.oneshot import add_sim_job, run_cli, run_here, run_in_pty, sim_env

CALLING, COMPLETED, SUBMIT_FAILED, CANCELLED = 5000600, 5000604, 5000605, 5000606
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with serve_in_thread(make_state()) as running:
        yield running


def quick_job(sim: RunningSim, seconds: float = 2.0) -> int:
    """A task that starts calling now and completes after about ``seconds``."""
    return add_sim_job(sim.base_url, taskName="quick", numCnt=4, dialRate=4 / seconds)


def test_wait_completed_subprocess_piped(sim: RunningSim) -> None:
    job = quick_job(sim)
    ran = run_cli(["wait", str(job), str(COMPLETED), "--interval", "1"],
                  sim_env(sim.base_url))
    assert ran.code == 0, ran.err
    assert "\r" not in ran.out and "\x1b" not in ran.out
    lines = ran.out.splitlines()
    assert "STATE" in lines[0] and len(lines) == 4
    assert "quick" in lines[1] and "completed" in lines[1]
    assert lines[-1] == "2 completed"
    assert ran.err == ""


@pytest.mark.parametrize("bad", [SUBMIT_FAILED, CANCELLED])
def test_wait_bad_ending_is_exit_1(sim: RunningSim, bad: int, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["wait", str(COMPLETED), str(bad)])
    assert ran.code == 1
    assert "1 completed" in ran.out.splitlines()[-1]


def test_wait_timeout_is_124(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    ran = run_here(monkeypatch, capsys, sim.base_url,
                   ["wait", str(CALLING), str(COMPLETED), "--timeout", "1.2", "--interval", "1"])
    assert time.monotonic() - started < 5
    assert ran.code == 124
    assert ran.out.splitlines()[-1].startswith("timed out: 1 still calling")
    assert "timed out after 1.2 s" in ran.err


def test_wait_unknown_task_is_exit_5(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["wait", str(COMPLETED), "4242"])
    assert ran.code == 5
    assert "not found" in ran.out and "task 4242" in ran.err


def test_wait_bad_secret_is_exit_3(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    ran = run_here(monkeypatch, capsys, sim.base_url, ["wait", str(CALLING)], secret="bad")
    assert ran.code == 3 and time.monotonic() - started < 5
    assert "bad credentials" in ran.err and ran.err.count("\n") == 1
    assert ran.out == ""  # no table of unread tasks under the error
    assert "check CALLWATCH_API_KEY / CALLWATCH_API_SECRET" in ran.err


def test_wait_unreachable_is_exit_4(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "1")
    ran = run_here(monkeypatch, capsys, f"http://127.0.0.1:{free_port()}",
                   ["wait", "1", "--interval", "1", "--timeout", "30"])
    assert ran.code == 4 and "cannot connect" in ran.err


def test_wait_quiet_prints_nothing(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["wait", "-q", str(COMPLETED)])
    assert ran.code == 0 and ran.out == "" and ran.err == ""


def test_wait_on_a_tty_rewrites_a_progress_line(sim: RunningSim) -> None:
    job = quick_job(sim, 2.5)
    ran = run_in_pty(["wait", str(job), "--interval", "1"], sim_env(sim.base_url))
    assert ran.code == 0, ran.err
    out = ran.out.replace("\r\n", "\n")  # the pty turns \n into \r\n
    progress = re.findall(r"\r(waiting: [^\r\n]*)", out)
    assert progress and "0/1 finished" in progress[0] and f"{job} calling" in progress[0]
    # cleared at the end: blanks over the last line, then the summary
    assert re.search(r"\r +\r", out)
    summary = out[out.rindex("\r") + 1:]
    assert "ID" in summary and "1 completed" in summary
    assert "\x1b[32m" in summary  # colour on a TTY
    assert SGR.sub("", summary).count("\x1b") == 0


def test_wait_on_a_tty_with_no_color(sim: RunningSim) -> None:
    ran = run_in_pty(["wait", str(COMPLETED)], sim_env(sim.base_url, NO_COLOR="1"))
    assert ran.code == 0
    assert "\x1b" not in ran.out and "completed" in ran.out


def test_wait_quiet_on_a_tty_has_no_progress(sim: RunningSim) -> None:
    ran = run_in_pty(["wait", "--quiet", str(COMPLETED)], sim_env(sim.base_url))
    assert ran.code == 0 and ran.out == ""
