"""``callwatch status`` against the simulator over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from callwatch.cli import main
from callwatch.cli.oneshot_fetch import DEFAULT_REQUEST_TIMEOUT, request_timeout
from callwatch.errors import ConfigError
from callwatch.sim.server import RunningSim, free_port, serve_in_thread
from tests.helpers.common import make_state
from tests.helpers.oneshot import check_entry, run_cli, run_here, silent_server, sim_env

# Demo tasks (make_state): 5000600 calling, 5000604 completed, 5000605 submission failed.
CALLING, COMPLETED, SUBMIT_FAILED, CANCELLED = 5000600, 5000604, 5000605, 5000606


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with serve_in_thread(make_state()) as running:
        yield running


def test_status_subprocess_text_piped(sim: RunningSim) -> None:
    ran = run_cli(["status", str(CALLING), str(COMPLETED), str(SUBMIT_FAILED)],
                  sim_env(sim.base_url))
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert len(lines) == 4 and "STATE" in lines[0]
    names = sim.state.jobs
    assert names[CALLING].name in lines[1] and "calling" in lines[1]
    assert "completed" in lines[2] and "100.0%" in lines[2] and "800/800" in lines[2]
    assert "submit failed" in lines[3]
    assert "\x1b" not in ran.out  # piped: no colour
    assert ran.err == ""


def test_status_json_mixed_good_and_unknown(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ids = [COMPLETED, 123, CALLING, 123, SUBMIT_FAILED]
    ran = run_here(monkeypatch, capsys, sim.base_url, ["status", "--json", *map(str, ids)])
    assert ran.code == 5
    data = ran.json()
    assert [e["jobId"] for e in data] == ids
    for entry in data:
        check_entry(entry)
    good = data[0]
    assert good["error"] is None and good["state"] == "completed" and good["status"] == 2
    assert good["progress"] == 100.0 and good["callNum"] == good["numCnt"] == 800
    assert good["callNum"] == good["success"] + good["fail"]
    assert good["taskName"] == sim.state.jobs[COMPLETED].name
    assert good["finishTime"] is not None and good["displayNum"] is not None
    missing = data[1]
    assert missing["state"] == "unknown" and missing["taskName"] is None
    assert missing["error"]["kind"] == "not_found" and missing["error"]["code"] == -24
    assert data[3] == missing
    assert data[4]["state"] == "submission_failed"
    # one task read once even when asked twice; one stderr line for the unknown id
    assert sim.state.stats["detail"] <= 4
    assert ran.err.count("\n") == 1 and "123" in ran.err and "no such task" in ran.err


def test_status_text_with_unknown_id(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["status", str(CALLING), "77"])
    assert ran.code == 5
    out = ran.out.splitlines()
    assert "calling" in out[1] and "77" in out[2] and "not_found" in out[2]
    assert ran.err.startswith("callwatch: task 77:")


def test_status_bad_secret_is_exit_3(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The account's problem, not each task's: one line, no rows (issue 17).
    for fmt in (["--json"], []):
        ran = run_here(monkeypatch, capsys, sim.base_url,
                       ["status", *fmt, str(CALLING), str(COMPLETED)], secret="wrong")
        assert ran.code == 3 and ran.out == ""
        assert ran.err.count("\n") == 1 and "authentication failed" in ran.err
        # The secret came from the environment: the advice says so.
        assert "CALLWATCH_API_SECRET" in ran.err and "callwatch login" not in ran.err


def test_status_without_credentials_is_exit_3(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in (["--json"], []):
        ran = run_here(monkeypatch, capsys, None, ["status", *fmt, "1", "2"])
        assert ran.code == 3 and ran.out == "" and ran.err.count("\n") == 1
        assert "CALLWATCH_API_KEY" in ran.err and "Traceback" not in ran.err


def test_status_connection_refused_is_exit_4(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "2")
    ran = run_here(monkeypatch, capsys, f"http://127.0.0.1:{free_port()}",
                   ["status", "--json", "1", "2"])
    assert ran.code == 4
    assert {e["error"]["kind"] for e in ran.json()} == {"network"}
    assert "cannot connect" in ran.err


def test_status_silent_server_gives_error_entries_quickly() -> None:
    with silent_server() as url:
        started = time.monotonic()
        ran = run_cli(["status", "--json", "1", "2", "3"],
                      sim_env(url, CALLWATCH_TIMEOUT="1.5"))
        elapsed = time.monotonic() - started
    assert ran.code == 4, ran.err
    data = ran.json()
    assert [e["error"]["kind"] for e in data] == ["timeout"] * 3
    assert elapsed < 10
    assert ran.err.count("\n") == 1


def test_status_silent_server_request_timeout_option(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with silent_server() as url:
        started = time.monotonic()
        ran = run_here(monkeypatch, capsys, url, ["status", "--request-timeout", "0.5", "1"])
        assert time.monotonic() - started < 3
    assert ran.code == 4 and "timeout" in ran.out


def test_request_timeout_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert request_timeout(None) == DEFAULT_REQUEST_TIMEOUT <= 25
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "3")
    assert request_timeout(None) == 3.0
    assert request_timeout(7) == 7.0
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "soon")
    with pytest.raises(ConfigError):
        request_timeout(None)


def test_bad_timeout_env_is_usage_error(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "-1")
    ran = run_here(monkeypatch, capsys, sim.base_url, ["status", "1"])
    assert ran.code == 2 and "out of range" in ran.err


@pytest.mark.parametrize("args", [
    ["status"], ["status", "abc"], ["status", "0"], ["status", "--bogus", "1"],
    ["list", "--state", "exploded"], ["list", "--since", "yesterdayish"],
    ["list", "--since", "2030-01-02", "--until", "2030-01-01"],
    ["wait"], ["wait", "1", "--timeout", "-3"], ["wait", "1", "--interval", "x"],
])
def test_usage_errors_exit_2(args: list[str], monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CALLWATCH_API_KEY", "k")
    monkeypatch.setenv("CALLWATCH_API_SECRET", "s")
    monkeypatch.setenv("CALLWATCH_BASE_URL", f"http://127.0.0.1:{free_port()}")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        code = main(args)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: callwatch" in err and err.splitlines()[-1].startswith("callwatch")


@pytest.mark.parametrize("name", ["status", "list", "wait"])
def test_help_documents_exit_codes(name: str) -> None:
    ran = run_cli([name, "--help"], sim_env("http://127.0.0.1:9"))
    assert ran.code == 0
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "124"):
        assert f"  {code}" in ran.out
    assert "exit codes:" in ran.out


def test_debug_shows_traceback_only_when_asked() -> None:
    env = sim_env(f"http://127.0.0.1:{free_port()}")
    del env["CALLWATCH_API_KEY"]
    plain = run_cli(["list"], env)
    assert plain.code == 3 and "Traceback" not in plain.err
    assert plain.err.count("\n") == 1 and plain.err.startswith("callwatch: ")
    debug = run_cli(["list", "--debug"], env)
    assert debug.code != 0 and "Traceback" in debug.err and "CredentialsError" in debug.err
