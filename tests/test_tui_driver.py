"""The terminal driver: Textual's Linux driver, but its input thread waits for input
without waking ten times a second, and still tells a lone ESC from a sequence and ends
at once when input is disabled. Driven here over a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import selectors
import signal
import subprocess
import sys
import threading
import time
import tty as termios_tty
from collections.abc import Iterator
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from callwatch.tui.driver import POLL, QuietLinuxDriver, quiet_driver
from tests.helpers.common import tmux_cmd
from tests.helpers.terminal import Pane, send


def test_the_quiet_driver_replaces_only_textuals_linux_driver() -> None:
    assert quiet_driver(LinuxDriver) is QuietLinuxDriver
    assert quiet_driver(HeadlessDriver) is HeadlessDriver  # tests, and any other choice


class _Timeouts(selectors.SelectSelector):
    """The selector of the input thread, noting the timeout of every wait."""

    seen: list[float | None] = []

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        _Timeouts.seen.append(timeout)
        return super().select(timeout)


class _Recording(QuietLinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys: list[str] = []
        self.got_key = threading.Event()

    def process_message(self, message: Message) -> None:  # in the input thread
        if isinstance(message, events.Key):
            self.keys.append(message.key)
            self.got_key.set()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Any]]:
    master, slave = pty.openpty()
    termios_tty.setraw(slave)  # as the driver's start_application_mode leaves it
    tty = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "__stdin__", tty)
    monkeypatch.setattr(selectors, "SelectSelector", _Timeouts)
    _Timeouts.seen = []
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    try:
        yield master, tty
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        tty.close()
        os.close(master)


def _wait(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


async def test_the_input_thread_waits_without_a_timeout_until_a_sequence_is_open(
        terminal: tuple[int, Any]) -> None:
    master, _tty = terminal
    drv = _Recording(App())
    thread = threading.Thread(target=drv.run_input_thread, daemon=True)
    thread.start()
    try:
        _wait(lambda: len(_Timeouts.seen) >= 1)
        time.sleep(0.5)  # Textual's thread would have woken five times by now
        assert _Timeouts.seen == [None]
        os.write(master, b"j")
        _wait(lambda: drv.keys == ["j"])
        # A lone ESC: the parser waits (Textual's 0.1 s poll) for the rest of a
        # sequence, then gives the key, then the thread waits without a timeout again.
        os.write(master, b"\x1b")
        _wait(lambda: drv.keys == ["j", "escape"])
        _wait(lambda: _Timeouts.seen[-1] is None)
        assert POLL in _Timeouts.seen
        os.write(master, b"\x1b[A")  # a whole sequence at once: one key, not ESC + text
        _wait(lambda: len(drv.keys) == 3)
        assert drv.keys[-1] == "up"
    finally:
        started = time.monotonic()
        drv.exit_event.set()  # as Textual's disable_input does, then joins the thread
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5  # woken by its pipe, not by a timeout
    assert not drv.exit_event.attached  # its pipe closed with it: never written again
    drv.exit_event.set()  # a second stop (Textual's close after a suspend) is harmless

@pytest.mark.e2e
def test_suspend_resume_and_quit_in_a_real_terminal(tmp_path: Any) -> None:
    """SIGTSTP (a job-control stop) ends the input thread, woken by its pipe, and ``fg``
    starts a new one: keys work again, a lone ESC is a key, and ``q`` quits at once."""
    tmux = tmux_cmd()
    session = f"cw-drv-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color", "PS1": "$ "}
    env.pop("NO_COLOR", None)
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    "bash --norc --noprofile -i"], check=True, env=env)
    pane = Pane(tmux, session)
    pid_file = tmp_path / "pid"
    try:
        send(pane, f"export CALLWATCH_STATE_DIR={tmp_path / 'state'} "
                   f"CALLWATCH_CONFIG_DIR={tmp_path / 'cfg'}")
        send(pane, f"sh -c 'echo $$ > {pid_file}; exec {sys.executable} -m callwatch --demo'")
        pane.wait_for(r"june-promo-01")
        os.kill(int(pid_file.read_text()), signal.SIGTSTP)
        pane.wait_for(r"Stopped")
        send(pane, "fg; echo EXIT=$?")  # the job's own exit status, once it ends
        pane.wait_for(r"june-promo-01")
        pane.run("send-keys", "-t", session, "?")  # the help screen: keys reach the app
        pane.wait_for(r"callwatch keys")
        pane.run("send-keys", "-t", session, "Escape")  # a lone ESC closes it
        _wait(lambda: "callwatch keys" not in pane.screen() and "june-promo-01" in pane.screen())
        pane.run("send-keys", "-t", session, "q")
        pane.wait_for(r"EXIT=0", timeout=15)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
