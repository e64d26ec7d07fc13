"""Issue 12 in a real terminal: every command against a server that puts escape
sequences into its error messages (known and unknown codes) leaves tmux's title,
window name and clipboard untouched. The control experiment that proves this setup
sees a leak is ``test_control_sequences_are_detected_by_this_setup``."""

from __future__ import annotations

import sys
import time

import pytest

from tests.helpers.common import KEY, SECRET
from tests.helpers.terminal import Pane
from tests.helpers.terminal import send as _send
from tests.hostile import EVIL, envelope_app, serve
from tests.test_reliability_terminal import pane as pane  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

COMMANDS = ["auth status", "status 1", "status --json 1", "list --since 1d",
            "wait 1 --timeout 3", f"login --profile p --api-key {KEY} --insecure-storage"]


@pytest.mark.parametrize("code", [-77, -16])
def test_hostile_error_text_leaves_the_terminal_alone(pane: Pane, code: int) -> None:
    title, window = pane.title(), pane.window_name()
    with serve(envelope_app({"code": code, "msg": EVIL})) as url:
        _send(pane, f"export CALLWATCH_API_KEY={KEY} CALLWATCH_API_SECRET={SECRET} "
                    f"CALLWATCH_BASE_URL={url}; clear")
        for i, command in enumerate(COMMANDS):
            feed = f"echo {SECRET} | " if command.startswith("login") else ""
            _send(pane, f"{feed}{sys.executable} -m callwatch {command}; echo __DONE{i}__$?")
            pane.wait_for(rf"__DONE{i}__\d", timeout=60)
    time.sleep(0.3)
    screen = pane.screen()
    assert pane.title() == title
    assert pane.window_name() == window
    assert pane.buffers().strip() == ""
    assert "PWNTITLE" in screen or code != -77, screen  # shown, as inert text
