"""Terminal safety in a real pty: hostile task names and texts through tmux.

The simulator serves tasks whose names and texts carry control characters, ANSI
CSI, OSC 0/2 (window title), OSC 52 (clipboard), tmux's own rename sequence,
Rich markup and a 100,000-character string. ``callwatch status`` / ``list`` (and
the live monitor) run in a tmux pane with title setting, renaming and the
clipboard switched on. Nothing may reach the terminal as a control sequence: the
pane title and window name stay, no paste buffer appears, the text shows
literally (sanitised) and no colour leaks from it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callwatch.cli.oneshot_render import NAME_WIDTH
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import KEY, SECRET, make_state, tmux_cmd
from tests.helpers.terminal import SGR, Pane, send

pytestmark = pytest.mark.e2e

# name -> (what must be visible literally, what must never be visible)
HOSTILE: dict[str, tuple[str, str]] = {
    "H1\x1b]0;PWNTITLE\x07": ("H1?]0;PWNTITLE?", ""),
    "H2\x1b]2;PWN2\x1b\\x": ("H2?]2;PWN2?\\x", ""),
    "H3\x1b]52;c;cHduZWQ=\x07": ("H3?]52;c;cHduZWQ=?", ""),
    "H4\x1b[31mRED\x1b[0m": ("H4?[31mRED?[0m", ""),
    "H5\x1bkRENAMED\x1b\\": ("H5?kRENAMED?\\", ""),
    "H6[bold red]x[/]": ("H6[bold red]x[/]", ""),
    "H7\x07\x08\r\n\t\x9b31m\u202eevil": ("H7??????31m?evil", ""),
    "H8" + "A" * 100_000: ("H8" + "A" * 10, ""),
}
@pytest.fixture
def hostile_sim() -> Iterator[tuple[RunningSim, list[int]]]:
    state = make_state(0)
    with serve_in_thread(state) as sim:
        ids = []
        for i, name in enumerate(HOSTILE):
            r = httpx.post(f"{sim.base_url}/_sim/jobs", timeout=5,
                           json={"taskName": name, "text": name, "numCnt": 1000,
                                 "dialRate": 1.0, "jobId": 7000001 + i})
            r.raise_for_status()
            ids.append(int(r.json()["jobId"]))
        yield sim, ids


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    tmux = tmux_cmd()
    session = f"cw-rel-{os.getpid()}"
    # A shell that only waits: the command under test is sent to it later.
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    "-n", "cwwin", "sh"], check=True, env=_env(""))
    p = Pane(tmux, session)
    for option in (("set-clipboard", "on"), ("allow-rename", "on"), ("set-titles", "on")):
        p.run("set", "-g", *option)
    p.run("set", "-w", "-t", session, "automatic-rename", "off")
    try:
        yield p
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def _env(base_url: str) -> dict[str, str]:
    env = {**os.environ, "CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
           "CALLWATCH_BASE_URL": base_url, "TERM": "xterm-256color", "PS1": "$ "}
    env.pop("NO_COLOR", None)
    return env


def _escapes_before(line: str, column: int) -> list[str]:
    """SGR sequences that start before visible ``column`` of a ``capture-pane -e`` line."""
    found, visible, i = [], 0, 0
    while i < len(line) and visible < column:
        m = SGR.match(line, i)
        if m:
            if m.group() not in ("\x1b[0m", "\x1b[m", "\x1b[39m", "\x1b[49m"):
                found.append(m.group())
            i = m.end()
            continue
        visible += 1
        i += 1
    return found


def test_control_sequences_are_detected_by_this_setup(pane: Pane) -> None:
    """Control experiment: raw sequences do change the title and create a buffer here,
    so the assertions below would catch a leak."""
    title = pane.title()
    send(pane, r"printf '\033]2;LEAKED\007\033]52;c;bGVhaw==\007\033[31mREDX\033[0m\n'")
    pane.wait_for("REDX")
    time.sleep(0.3)
    assert pane.title() == "LEAKED" != title
    assert pane.buffers().strip()
    assert any("\x1b[31m" in ln for ln in pane.screen(escapes=True).splitlines()
               if "REDX" in ln and "printf" not in ln)


@pytest.mark.parametrize("command", ["status", "list"])
def test_oneshot_output_is_inert_in_a_real_terminal(
        pane: Pane, hostile_sim: tuple[RunningSim, list[int]], command: str) -> None:
    sim, ids = hostile_sim
    title, window = pane.title(), pane.window_name()
    args = " ".join(map(str, ids)) if command == "status" else "--since 1d"
    send(pane, f"export CALLWATCH_API_KEY={KEY} CALLWATCH_API_SECRET={SECRET} "
                f"CALLWATCH_BASE_URL={sim.base_url}; clear")
    send(pane, f"{sys.executable} -m callwatch {command} {args}; echo __DONE__$?")
    screen = pane.wait_for(r"__DONE__\d")
    assert "__DONE__0" in screen, screen
    time.sleep(0.3)
    assert pane.title() == title
    assert pane.window_name() == window
    assert pane.buffers().strip() == ""
    for visible, _ in HOSTILE.values():
        assert visible[:NAME_WIDTH - 1] in screen, (visible, screen)
    assert "PWNTITLE" in screen and "cHduZWQ=" in screen
    coloured = pane.screen(escapes=True)
    row_start = re.compile(r"\s*(" + "|".join(map(str, ids)) + r")  ")
    rows = [ln for ln in coloured.splitlines() if row_start.match(ln)]
    assert len(rows) == len(HOSTILE)
    for row in rows:
        # id and name columns: nothing but plain text; colour only from the state word on.
        assert not _escapes_before(row, 10 + 2 + NAME_WIDTH), repr(row)


def _sgr_inside(coloured: str, literal: str) -> list[str] | None:
    """SGR sequences inside ``literal`` where it shows on a ``capture-pane -e`` line
    (None: not found). A leaked colour would start or end inside the literal."""
    for line in coloured.splitlines():
        plain: list[str] = []  # visible chars
        marks: list[tuple[int, str]] = []  # (visible index, sequence)
        i = 0
        while i < len(line):
            m = SGR.match(line, i)
            if m:
                marks.append((len(plain), m.group()))
                i = m.end()
                continue
            plain.append(line[i])
            i += 1
        at = "".join(plain).find(literal)
        if at >= 0:
            return [seq for pos, seq in marks if at < pos < at + len(literal)]
    return None


def test_live_monitor_is_inert_in_a_real_terminal(
        pane: Pane, hostile_sim: tuple[RunningSim, list[int]], tmp_path: Path) -> None:
    sim, ids = hostile_sim
    title, window = pane.title(), pane.window_name()
    env = (f"export CALLWATCH_API_KEY={KEY} CALLWATCH_API_SECRET={SECRET} "
           f"CALLWATCH_BASE_URL={sim.base_url} CALLWATCH_STATE_DIR={tmp_path / 'state'} "
           f"CALLWATCH_CONFIG_DIR={tmp_path / 'config'}; clear")
    send(pane, env)
    send(pane, f"{sys.executable} -m callwatch --interval 1 {' '.join(map(str, ids))}; "
                "echo __EXIT__$?")
    pane.wait_for(r"H8AAAA")
    pane.wait_for(r"up to date|updated \d+s ago")
    # Each row in turn is selected: the detail pane shows its full text too.
    for _ in range(len(ids)):
        pane.run("send-keys", "-t", pane.session, "j")
        time.sleep(0.4)
        screen = pane.screen()
        assert pane.title() == title, screen
        assert pane.window_name() == window
        assert pane.buffers().strip() == ""
    screen = pane.screen()
    for literal in ("?]0;PWNTITLE?", "?]2;PWN2?", "?]52;c;cHduZWQ=?", "?[31mRED?[0m",
                    "?kRENAMED?", "[bold red]x[/]", "31m?evil"):
        assert literal in screen, (literal, screen)
        inside = _sgr_inside(pane.screen(escapes=True), literal)
        assert inside == [], (literal, inside)
    pane.run("send-keys", "-t", pane.session, "q")
    pane.wait_for(r"__EXIT__0", timeout=10)
    assert pane.title() == title and pane.buffers().strip() == ""
