"""``callwatch cancel|suspend`` against the simulator on loopback (real subprocesses)."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callwatch.sim.faults import Fault
from callwatch.sim.server import RunningSim, serve_in_thread
from callwatch.store.config import Profile, load_config, save_config
from tests.helpers.common import KEY, make_state, run_callwatch
from tests.helpers.oneshot import Ran, run_cli, sim_env

# Demo tasks (make_state): 5000600..03 calling, 5000604 completed, 5000605 submission
# failed, 5000606 cancelled, 5000607 suspended.
CALLING, CALLING2, COMPLETED, SUSPENDED = 5000600, 5000601, 5000604, 5000607
CANARY = "Canary-Secret-Zq81x"


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    state = make_state()
    state.config.keys = {KEY: CANARY}
    with serve_in_thread(state) as running:
        yield running


def env_for(sim: RunningSim, **extra: str) -> dict[str, str]:
    return sim_env(sim.base_url, secret=CANARY, **extra)


def audit_path() -> Path:
    return Path(os.environ["CALLWATCH_STATE_DIR"]) / "audit.jsonl"


def audit_lines() -> list[dict[str, object]]:
    path = audit_path()
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def state_of(sim: RunningSim, job_id: int) -> str:
    ran = run_cli(["status", "--json", str(job_id)], env_for(sim))
    assert ran.code == 0, ran.err
    return str(ran.json()[0]["state"])


def no_canary(*runs: Ran) -> None:
    for ran in runs:
        assert CANARY not in ran.out and CANARY not in ran.err
    if audit_path().exists():
        assert CANARY not in audit_path().read_text()


def test_disabled_by_default_exit_6_and_nothing_sent(sim: RunningSim) -> None:
    sim.state.stats.clear()
    for command in ("cancel", "suspend"):
        ran = run_cli([command, "--yes", str(CALLING)], env_for(sim))
        assert ran.code == 6, ran.err
        assert "actions are disabled" in ran.err and "--allow-actions" in ran.err
        assert "actions = true" in ran.err and ran.out == ""
    assert sim.state.stats["requests"] == 0  # counted at the server: nothing arrived
    assert audit_lines() == []


def test_without_a_terminal_and_without_yes_refused_exit_2(sim: RunningSim) -> None:
    sim.state.stats.clear()
    ran = run_cli(["cancel", "--allow-actions", str(CALLING)], env_for(sim))
    assert ran.code == 2 and "not a terminal" in ran.err and "--yes" in ran.err
    assert sim.state.stats["requests"] == 0
    assert audit_lines() == []


def test_cancel_and_suspend_change_the_state_status_sees(sim: RunningSim) -> None:
    assert state_of(sim, CALLING) == "calling" and state_of(sim, CALLING2) == "calling"
    cancel = run_cli(["cancel", "--allow-actions", "--yes", str(CALLING)], env_for(sim))
    assert cancel.code == 0, cancel.err
    assert cancel.out.strip() == f"#{CALLING} cancelled"
    suspend = run_cli(["suspend", "--allow-actions", "--yes", "--json", str(CALLING2)],
                      env_for(sim))
    assert suspend.code == 0, suspend.err
    [entry] = suspend.json()
    assert entry["jobId"] == CALLING2 and entry["outcome"] == "suspended" and entry["ok"]
    assert state_of(sim, CALLING) == "cancelled"
    assert state_of(sim, CALLING2) == "suspended"
    lines = audit_lines()
    assert [(x["action"], x["ids"]) for x in lines] == [("cancel", [CALLING]),
                                                       ("suspend", [CALLING2])]
    assert all(x["host"] == "127.0.0.1" and x["brand"] == "itnio" for x in lines)
    assert oct(audit_path().stat().st_mode & 0o777) == "0o600"
    assert oct(audit_path().parent.stat().st_mode & 0o777) == "0o700"
    no_canary(cancel, suspend)
    assert KEY not in audit_path().read_text()


def test_cancelling_a_completed_task_is_refused_exit_5(sim: RunningSim) -> None:
    ran = run_cli(["cancel", "--allow-actions", "--yes", "--json", str(COMPLETED),
                   str(CALLING), "999"], env_for(sim))
    assert ran.code == 5, ran.err
    done, ok, unknown = ran.json()
    assert (done["outcome"], done["code"], done["state"]) == ("refused", -54, "completed")
    assert not done["ok"] and "state does not allow" in done["message"]
    assert ok["outcome"] == "cancelled" and ok["ok"]  # the refusal hid nothing
    assert (unknown["outcome"], unknown["code"]) == ("refused", -24)
    # A suspended task cannot be cancelled: no transition out of 5 is documented.
    text = run_cli(["cancel", "--allow-actions", "--yes", str(SUSPENDED)], env_for(sim))
    assert text.code == 5
    assert f"#{SUSPENDED} not cancelled" in text.out and "-54" in text.out
    assert "it is suspended" in text.out
    assert "only waiting, submitting or calling" in text.err
    again = run_cli(["cancel", "--allow-actions", "--yes", str(CALLING)], env_for(sim))
    assert again.code == 0 and "already cancelled" in again.out  # the end state holds
    [first, second, third] = audit_lines()  # one line per action
    results = first["results"]
    assert isinstance(results, list) and [r["outcome"] for r in results] == [
        "refused", "cancelled", "refused"]
    assert second["ids"] == [SUSPENDED] and third["ids"] == [CALLING]
    no_canary(ran, text, again)


def test_the_profile_enables_actions_and_login_keeps_it(sim: RunningSim) -> None:
    path = save_config(load_config().with_profile(Profile("ops", api_key=KEY,
                                                          actions=True)))
    assert "actions = true" in path.read_text()
    ran = run_cli(["cancel", "--yes", str(CALLING)], env_for(sim, CALLWATCH_PROFILE="ops"))
    assert ran.code == 0, ran.err
    assert audit_lines()[0]["profile"] == "ops"
    # login re-saves the profile (here without verifying): the flag stays.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_API")}
    for name, extra in (("ops", []), ("new", ["--allow-actions"])):
        login = run_callwatch("login", "--profile", name, "--api-key", KEY, "--no-verify",
                              "--insecure-storage", *extra, env=env, stdin=CANARY + "\n")
        assert login.returncode == 0, login.stderr
        prof = load_config().profile(name)
        assert prof is not None and prof.actions


def test_faults_apply_to_actions_and_retries_recover(sim: RunningSim) -> None:
    sim.state.faults.script([Fault.HTTP_503])
    ran = run_cli(["cancel", "--allow-actions", "--yes", str(CALLING)], env_for(sim))
    assert ran.code == 0, ran.err
    assert sim.state.stats["fault_http_503"] == 1 and sim.state.stats["cancel"] == 1
    sim.state.faults.script([], then=Fault.HTTP_503)  # down for good
    down = run_cli(["suspend", "--allow-actions", "--yes", "--request-timeout", "3",
                    str(CALLING2)], env_for(sim))
    assert down.code == 4 and "no usable answer" in down.out
    sim.state.faults.script([])
    bad = run_cli(["cancel", "--allow-actions", "--yes", str(CALLING2)],
                  env_for(sim, CALLWATCH_API_SECRET="wrong-secret"))
    assert bad.code == 3 and "authentication" in bad.err


def test_audit_log_that_is_a_symlink_refuses_before_sending(sim: RunningSim,
                                                            tmp_path: Path) -> None:
    audit_path().parent.mkdir(parents=True, exist_ok=True)
    victim = tmp_path / "victim"
    victim.write_text("")
    audit_path().symlink_to(victim)
    sim.state.stats.clear()
    ran = run_cli(["cancel", "--allow-actions", "--yes", str(CALLING)], env_for(sim))
    assert ran.code == 2 and "symbolic link" in ran.err
    assert sim.state.stats["requests"] == 0 and victim.read_text() == ""


def test_info_shows_the_audit_log() -> None:
    ran = run_cli(["info"], dict(os.environ))
    assert ran.code == 0 and f"audit log:   {audit_path()}" in ran.out


def _read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                return
            seen.extend(chunk)


def _on_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        try:
            os.execve(sys.executable, [sys.executable, "-m", "callwatch", *args], env)
        finally:
            os._exit(127)
    seen = bytearray()
    try:
        _read_until(fd, b"anything else aborts: ", seen)
        os.write(fd, answer.encode() + b"\n")
        _read_until(fd, b"\x00never", seen)  # to the end
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(seen).decode("utf-8", "replace")


def test_on_a_terminal_the_id_must_be_typed(sim: RunningSim) -> None:
    env = env_for(sim)
    code, screen = _on_terminal(["cancel", "--allow-actions", str(CALLING)], env, "5000")
    assert code == 2 and "not confirmed" in screen
    assert sim.state.stats["cancel"] == 0
    assert sim.state.jobs[CALLING].name in screen and "calling" in screen  # named
    code, screen = _on_terminal(["suspend", "--allow-actions", str(CALLING),
                                 str(CALLING2)], env, "2")
    assert code == 0, screen
    assert "No resume call is documented" in screen and "number of tasks (2)" in screen
    assert sim.state.stats["provisional"] == 2
    assert state_of(sim, CALLING) == "suspended"
