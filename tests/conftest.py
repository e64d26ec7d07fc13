from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callwatch.api.client import ApiClient, Credentials, RetryPolicy, Timeouts
from callwatch.api.signing import Secret
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import SimClock
from callwatch.sim.server import RunningSim, serve_in_thread

FIXTURES = Path(__file__).parent / "fixtures"
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


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, state or credentials leak into tests."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CALLWATCH_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("CALLWATCH_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("CALLWATCH_LOG_DIR", str(base / "log"))
    for var in ("CALLWATCH_API_KEY", "CALLWATCH_API_SECRET", "CALLWATCH_BASE_URL",
                "CALLWATCH_BRAND", "CALLWATCH_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    os.environ.pop("NO_COLOR", None)


def make_state(jobs: int = 12, *, faults: str = "none", **cfg: Any) -> SimState:
    state = SimState(SimConfig(keys={KEY: SECRET}, faults=faults, **cfg))
    state.populate(jobs)
    return state


@pytest.fixture
def sim_state() -> SimState:
    return make_state()


@pytest.fixture
def live_sim(sim_state: SimState) -> Iterator[RunningSim]:
    with serve_in_thread(sim_state) as running:
        yield running


def make_client(base_url: str, *, key: str = KEY, secret: str = SECRET,
                **kwargs: Any) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2,
                                           deadline=10.0))
    kwargs.setdefault("timeouts", Timeouts(connect=2, read=2, write=2, pool=2))
    return ApiClient(Credentials(key, Secret(secret)), base_url=base_url, **kwargs)


__all__ = ["KEY", "SECRET", "ManualClock", "SimClock", "fixture_json", "make_client",
           "make_state"]
