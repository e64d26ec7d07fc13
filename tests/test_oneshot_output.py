"""Hostile API text never reaches the terminal as control codes; colour rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from callwatch.cli.oneshot_render import error_line
from callwatch.cli.output import paint, use_colour
from callwatch.errors import ApiError
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import make_state
from tests.helpers.oneshot import (
    HOSTILE_NAMES,
    add_sim_job,
    run_cli,
    run_here,
    run_in_pty,
    sim_env,
)

OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile() -> Iterator[tuple[RunningSim, list[int]]]:
    with serve_in_thread(make_state(0)) as sim:
        ids = [add_sim_job(sim.base_url, taskName=name, text=name, numCnt=10, startIn=600)
               for name in HOSTILE_NAMES]
        yield sim, ids


def assert_harmless(text: str) -> None:
    """No control character, bidi override or escape sequence but our own colours."""
    assert CONTROL.search(OUR_SGR.sub("", text).replace("\r", "")) is None


def test_hostile_names_piped(hostile: tuple[RunningSim, list[int]]) -> None:
    sim, ids = hostile
    env = sim_env(sim.base_url)
    for args in (["status", *map(str, ids)], ["list"]):
        ran = run_cli(args, env)
        assert ran.code == 0, ran.err
        assert "\x1b" not in ran.out and "\x07" not in ran.out
        assert_harmless(ran.out)
        assert "[bold]markup[/]" in ran.out  # shown as plain text, not interpreted
        assert max(len(line) for line in ran.out.splitlines()) < 200  # 100k name cut


def test_hostile_names_on_a_tty(hostile: tuple[RunningSim, list[int]]) -> None:
    sim, ids = hostile
    ran = run_in_pty(["status", *map(str, ids)], sim_env(sim.base_url))
    assert ran.code == 0
    assert "\x1b[34m" in ran.out  # waiting, in colour: this is a TTY
    assert_harmless(ran.out.replace("\n", ""))
    assert "\x1b]" not in ran.out and "\x07" not in ran.out


@pytest.mark.parametrize("command", ["status", "list"])
def test_hostile_names_json(hostile: tuple[RunningSim, list[int]], command: str) -> None:
    sim, ids = hostile
    args = ["status", "--json", *map(str, ids)] if command == "status" else ["list", "--json"]
    ran = run_cli(args, sim_env(sim.base_url))
    assert ran.code == 0
    assert "\x1b" not in ran.out and "\x07" not in ran.out and "\u202e" not in ran.out
    assert_harmless(ran.out.replace("\n", ""))
    names = {e["taskName"] for e in json.loads(ran.out)}
    assert "\x1b]0;pwned title\x07" in names  # escaped in JSON, intact once parsed
    assert "[bold]markup[/]" in names


def test_status_json_valid_with_hostile_and_missing(hostile: tuple[RunningSim, list[int]],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sim, ids = hostile
    ran = run_here(monkeypatch, capsys, sim.base_url, ["status", "--json", str(ids[1]), "9"])
    assert ran.code == 5
    data = ran.json()
    assert data[0]["error"] is None and data[1]["error"]["kind"] == "not_found"
    assert "\x1b" not in ran.out


def test_error_line_sanitises_vendor_messages() -> None:
    err = ApiError("rejected (code -99: \x1b]0;x\x07 \x1b[2J)", -99)
    line = error_line(1, err, colour=False)
    assert "\x1b" not in line and "\x07" not in line and "code -99" in line


def test_use_colour_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    tty = Tty()
    assert use_colour(tty)  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")
    assert use_colour(tty)  # type: ignore[arg-type]  # empty NO_COLOR does not count
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(tty)  # type: ignore[arg-type]
    assert paint("x", "32", False) == "x" and paint("x", "32", True) == "\x1b[32mx\x1b[0m"


def test_status_colour_on_tty_only_without_no_color() -> None:
    with serve_in_thread(make_state()) as sim:
        coloured = run_in_pty(["status", "5000604"], sim_env(sim.base_url))
        plain = run_in_pty(["status", "5000604"], sim_env(sim.base_url, NO_COLOR="1"))
        empty = run_in_pty(["status", "5000604"], sim_env(sim.base_url, NO_COLOR=""))
        piped = run_cli(["status", "5000604"], sim_env(sim.base_url))
    assert "\x1b[32m" in coloured.out and "\x1b[32m" in empty.out
    assert "\x1b" not in plain.out and "\x1b" not in piped.out
    assert "completed" in plain.out and "completed" in piped.out


def test_oneshot_modules_do_not_import_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, callwatch.cli.oneshot, callwatch.cli.oneshot_wait; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'textual' "
            "or m.startswith('callwatch.tui')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
