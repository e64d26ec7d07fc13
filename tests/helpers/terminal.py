"""A tmux pane driven by tests: real terminal emulation for what a user would see."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass

SGR = re.compile(r"\x1b\[[0-9;:]*m")


@dataclass
class Pane:
    tmux: list[str]
    session: str

    def run(self, *args: str) -> str:
        return subprocess.run([*self.tmux, *args], capture_output=True, text=True,
                              check=True).stdout

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.session)

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not on screen:\n{screen}")

    def title(self) -> str:
        return self.run("display", "-p", "-t", self.session, "#{pane_title}").strip()

    def window_name(self) -> str:
        return self.run("display", "-p", "-t", self.session, "#{window_name}").strip()

    def buffers(self) -> str:
        return self.run("list-buffers")


def send(pane: Pane, command: str) -> None:
    pane.run("send-keys", "-t", pane.session, "-l", command)
    pane.run("send-keys", "-t", pane.session, "Enter")
