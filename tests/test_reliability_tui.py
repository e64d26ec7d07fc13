"""The live monitor (Textual) when the API hangs: responsive, says timeout, quits at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callwatch.api.client import RetryPolicy, Timeouts
from callwatch.monitor import Monitor
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp
from callwatch.tui.modals import HelpScreen
from tests.helpers.common import KEY, SECRET, make_client, tmux_cmd
from tests.helpers.oneshot import silent_server as silent_socket
from tests.helpers.terminal import Pane, send


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    with silent_socket() as url:
        yield url


def _banner(app: CallwatchApp) -> str:
    return str(app.main.banner.render())


async def test_tui_stays_responsive_says_timeout_and_quits_at_once(silent_server: str) -> None:
    # Each attempt hangs 5 s: the keys below must all be handled inside the first one.
    short = make_client(silent_server, timeouts=Timeouts(connect=5, read=5, write=5, pool=5),
                        retry=RetryPolicy(attempts=2, base_delay=0.05, deadline=6.0))
    mon = Monitor(short, interval=1.0)
    app = CallwatchApp(mon, account="silent · itnio", profile=None, settings=Config(),
                       initial=[5000600, 5000601], persist=False)
    async with app.run_test(size=(120, 40)) as pilot:
        # The first cycle hangs on the silent server; keys are handled meanwhile.
        await pilot.pause(0.2)
        assert mon.cycles == 0
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("p")
        await pilot.pause()
        assert "PAUSED" in app.main.status.build().plain
        # Three keys handled while the first request still hangs: it has not timed out
        # (a UI that waited for it would show its timeout first). No stopwatch: the
        # request's own 5 s is the bound, on a machine of any speed.
        assert short.requests_sent >= 1 and "no answer" not in _banner(app)
        await pilot.press("p")
        deadline = time.monotonic() + 12
        while "no answer" not in _banner(app):  # the list: the banner; the task: its row
            assert time.monotonic() < deadline, _banner(app)
            await pilot.pause(0.05)
        assert "no answer" in _banner(app) and "retrying" in _banner(app)
        assert app.is_running
        # Now a client that would wait 30 s: a request hangs while q is pressed.
        mon.set_client(make_client(silent_server,
                                   timeouts=Timeouts(connect=30, read=30, write=30, pool=30),
                                   retry=RetryPolicy(attempts=1, deadline=30)))
        deadline = time.monotonic() + 5
        while mon.client.requests_sent == 0:  # the next cycle starts once the last ended
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        pressed = time.monotonic()
        await pilot.press("q")
    quit_seconds = time.monotonic() - pressed
    print(f"pilot: app exited {quit_seconds:.3f} s after q")
    assert app.return_value == 0
    assert quit_seconds < 1.0, quit_seconds
    await short.aclose()


def test_q_quits_within_a_second_while_a_request_hangs_in_a_real_pty(
        silent_server: str, tmp_path: Path) -> None:
    """The installed command, default timeouts (10 s read), in tmux: q while hanging."""
    tmux = tmux_cmd()
    session = f"cw-rel-q-{os.getpid()}"
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh"],
                   check=True, env={**os.environ, "TERM": "xterm-256color", "PS1": "$ "})
    pane = Pane(tmux, session)
    try:
        send(pane, f"export CALLWATCH_API_KEY={KEY} CALLWATCH_API_SECRET={SECRET} "
                    f"CALLWATCH_BASE_URL={silent_server} "
                    f"CALLWATCH_STATE_DIR={tmp_path / 'state'} "
                    f"CALLWATCH_CONFIG_DIR={tmp_path / 'config'}; clear")
        send(pane, f"{sys.executable} -m callwatch --interval 1 5000600 5000601; "
                    "echo __EXIT__$?")
        pane.wait_for(r"not updated yet")
        time.sleep(1.0)  # the first cycle's requests are in flight, unanswered
        assert "Timeout" not in pane.screen()
        pressed = time.monotonic()
        pane.run("send-keys", "-t", session, "q")
        while not re.search(r"__EXIT__\d", screen := pane.screen()):
            assert time.monotonic() - pressed < 5, screen
            time.sleep(0.02)
        quit_seconds = time.monotonic() - pressed
        print(f"pty: process exited {quit_seconds:.3f} s after q")
        assert "__EXIT__0" in screen
        assert quit_seconds < 1.0, quit_seconds
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
