"""Helpers for the one-shot command tests (no tests here)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from callwatch.cli import main
from tests.helpers.common import KEY, SECRET

CLI_TIMEOUT = 60


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def sim_env(base_url: str, *, secret: str = SECRET, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update({"CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": secret,
                "CALLWATCH_BASE_URL": base_url, "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(args: Sequence[str], env: dict[str, str]) -> Ran:
    """The real command in a child interpreter, output piped."""
    proc = subprocess.run([sys.executable, "-m", "callwatch", *args], env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def run_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             base_url: str | None, args: Sequence[str], *, secret: str = SECRET) -> Ran:
    """The command in this process (faster); ``base_url=None`` leaves credentials unset."""
    if base_url is not None:
        monkeypatch.setenv("CALLWATCH_API_KEY", KEY)
        monkeypatch.setenv("CALLWATCH_API_SECRET", secret)
        monkeypatch.setenv("CALLWATCH_BASE_URL", base_url)
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def run_in_pty(args: Sequence[str], env: dict[str, str], columns: int = 160) -> Ran:
    """The real command with stdout on a pseudo-terminal (stderr piped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "callwatch", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        _, err = proc.communicate(timeout=CLI_TIMEOUT)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return Ran(proc.returncode, b"".join(chunks).decode("utf-8", "replace"),
               err.decode("utf-8", "replace"))


def add_sim_job(base_url: str, **fields: Any) -> int:
    """Create a task through the simulator's unsigned control endpoint."""
    req = urllib.request.Request(base_url + "/_sim/jobs", method="POST",
                                 data=json.dumps(fields).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return int(json.loads(resp.read())["jobId"])


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers; yields its base URL."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        srv.close()


HOSTILE_NAMES = [
    "[bold]markup[/]",
    "\x1b]0;pwned title\x07",
    "\x1b[31mred\x1b[0m",
    "\x1b]52;c;cm0gLXJmIH4K\x07",
    "bidi \u202egnp.exe\u202c and C1 \x9b31m",
    "L" * 100_000,
]


# The public JSON contract of `status --json` / `list --json`, written out: a change to
# the code must not change it silently. First the stable core keys, in this order...
CORE_KEYS = ["jobId", "taskName", "status", "state", "progress", "numCnt", "callNum",
             "success", "fail", "successRate", "error"]
# ...then the API's own fields as the API names them.
API_KEYS = {
    "jobId", "status", "taskName", "rate", "numCnt", "callNum", "success", "fail",
    "createdTime", "displayNum", "text", "chargeLen", "toseatNum", "successRate",
    "toseatNumRate", "sendTime", "mdfTime", "appId", "source", "voiceFileId", "calloutRate",
    "finishTime", "keyFeedbackNum", "uploadName", "baseFile", "callLossNum", "callDuration",
    "callLossNumRate", "code", "maxCalls", "loopCount", "lan", "allCallToseatNum",
    "callTotal", "acd", "sipGroupName", "receivedSeatNum", "onineSeatNum", "maxRingingTime",
    "scriptId", "taskType",
}
TIME_KEYS = {"createdTime", "sendTime", "mdfTime", "finishTime"}
STATES = {"submitting", "waiting", "calling", "suspended", "completed", "cancelled",
          "submission_failed", "unknown"}


def check_entry(entry: dict[str, Any]) -> None:
    """The documented schema of one status/list object."""
    assert list(entry)[: len(CORE_KEYS)] == CORE_KEYS
    assert set(entry) == set(CORE_KEYS) | API_KEYS
    assert isinstance(entry["jobId"], int)
    assert entry["taskName"] is None or isinstance(entry["taskName"], str)
    assert entry["status"] is None or isinstance(entry["status"], int)
    assert entry["state"] in STATES
    for key in ("progress", "successRate"):
        assert entry[key] is None or isinstance(entry[key], float)
    for key in ("numCnt", "callNum", "success", "fail"):
        assert entry[key] is None or isinstance(entry[key], int)
    for key in TIME_KEYS:
        if entry[key] is not None:
            assert datetime.fromisoformat(entry[key]).utcoffset() is not None
    error = entry["error"]
    if error is not None:
        assert set(error) == {"kind", "code", "message"}
        assert isinstance(error["kind"], str) and isinstance(error["message"], str)
        assert error["code"] is None or isinstance(error["code"], int)
