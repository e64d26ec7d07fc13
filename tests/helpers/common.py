"""Shared test helpers: credentials, simulator state, clients, keyrings, the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
from callwatch.sim.app import SimConfig, SimState

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY, SECRET = "bDqJFiq9", "7bz1lzh9"


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class ManualClock:
    """A real-time source tests step by hand."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_state(jobs: int = 12, *, faults: str = "none", **cfg: Any) -> SimState:
    state = SimState(SimConfig(keys={KEY: SECRET}, faults=faults, **cfg))
    state.populate(jobs)
    return state


def make_client(base_url: str, *, key: str = KEY, secret: str = SECRET,
                **kwargs: Any) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2,
                                           deadline=10.0))
    kwargs.setdefault("timeouts", Timeouts(connect=2, read=2, write=2, pool=2))
    return ApiClient(Credentials(key, Secret(secret)), base_url=base_url, **kwargs)


class MemoryKeyring(KeyringBackend):
    """A recommended in-memory backend for tests."""

    priority = 5.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


def require_tools(*tools: str) -> None:
    """Skip when system tools are missing, unless CI demands them (then fail)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    message = f"system tools missing: {', '.join(missing)}"
    if os.environ.get("CALLWATCH_REQUIRE_SYSTEM_TOOLS"):
        pytest.fail(message + " (CALLWATCH_REQUIRE_SYSTEM_TOOLS is set)")
    pytest.skip(message)


def tmux_cmd() -> list[str]:
    """tmux on a private server (no user config): no interference with the user's tmux
    or another test's."""
    require_tools("tmux")
    server = f"cw-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return [shutil.which("tmux") or "tmux", "-L", server, "-f", "/dev/null"]


def run_callwatch(*args: str, env: dict[str, str] | None = None, stdin: str = "",
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real ``callwatch`` command in a child interpreter."""
    return subprocess.run([sys.executable, "-m", "callwatch", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env=dict(os.environ) if env is None else env)
