"""``callwatch list`` against the simulator over loopback."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from callwatch.api.models import JobState
from callwatch.cli.oneshot import parse_states, parse_when
from callwatch.sim.server import RunningSim, free_port, serve_in_thread
from tests.helpers.common import make_state
from tests.helpers.oneshot import check_entry, run_cli, run_here, sim_env


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with serve_in_thread(make_state()) as running:
        yield running


def test_list_subprocess_json(sim: RunningSim) -> None:
    ran = run_cli(["list", "--json"], sim_env(sim.base_url))
    assert ran.code == 0, ran.err
    data = ran.json()
    assert sorted(e["jobId"] for e in data) == sorted(sim.state.jobs)
    for entry in data:
        check_entry(entry)
        assert entry["error"] is None
        assert entry["taskName"] == sim.state.jobs[entry["jobId"]].name


def test_list_text(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["list"])
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert "NAME" in lines[0] and len(lines) == 13
    assert any("submit failed" in line for line in lines)


@pytest.mark.parametrize(("states", "expected"), [
    (["finished"], {"completed", "submission_failed", "cancelled"}),
    (["active"], {"waiting", "calling", "suspended", "submitting"}),
    (["calling", "completed"], {"calling", "completed"}),
    (["submission-failed"], {"submission_failed"}),
])
def test_list_state_filter(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str], states: list[str],
                           expected: set[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["list", "--json", "--state", *states])
    assert ran.code == 0
    seen = {e["state"] for e in ran.json()}
    assert seen and seen <= expected


def test_list_search(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["list", "--json", "--search", "promo"])
    assert [e["taskName"] for e in ran.json()] == ["june-promo-01"]


def test_list_reads_every_page(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    state = make_state(250)
    with serve_in_thread(state) as sim:
        ran = run_here(monkeypatch, capsys, sim.base_url, ["list", "--json"])
    assert ran.code == 0
    ids = [e["jobId"] for e in ran.json()]
    assert len(ids) == len(set(ids)) == 250
    assert state.stats["query"] == 3


def test_list_empty_window(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ["list", "--since", "2001-01-01", "--until", "2001-02-01"]
    assert run_here(monkeypatch, capsys, sim.base_url, [*args, "--json"]).json() == []
    ran = run_here(monkeypatch, capsys, sim.base_url, args)
    assert ran.code == 0 and ran.out == "" and "no tasks" in ran.err


def test_list_since_a_date(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    day = (datetime.now() - timedelta(days=2)).strftime("%Y-%m-%d")
    ran = run_here(monkeypatch, capsys, sim.base_url, ["list", "--json", "--since", day])
    assert len(ran.json()) == 12


def test_list_bad_secret_and_unreachable(sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ran = run_here(monkeypatch, capsys, sim.base_url, ["list", "--json"], secret="nope")
    assert ran.code == 3 and ran.out == "" and ran.err.count("\n") == 1
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "1")
    ran = run_here(monkeypatch, capsys, f"http://127.0.0.1:{free_port()}", ["list"])
    assert ran.code == 4 and "cannot connect" in ran.err


def test_parse_when() -> None:
    now = datetime(2026, 3, 10, 12, 0).astimezone()
    assert parse_when("7d", now=now) == now - timedelta(days=7)
    assert parse_when("12h", now=now) == now - timedelta(hours=12)
    start = parse_when("2026-03-01", now=now)
    assert (start.day, start.hour) == (1, 0) and start.tzinfo is not None
    assert parse_when("2026-03-01", end_of_day=True, now=now).day == 2
    assert parse_when("2026-03-01T08:30+08:00").utcoffset() == timedelta(hours=8)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_when("last tuesday")


def test_parse_states() -> None:
    assert parse_states("all") is None
    assert parse_states("SUBMIT FAILED") == [JobState.SUBMISSION_FAILED]
    assert parse_states("2") == [JobState.COMPLETED]
    assert JobState.UNKNOWN not in (parse_states("active") or [])
    with pytest.raises(argparse.ArgumentTypeError):
        parse_states("unknown")
