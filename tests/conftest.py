"""Fixtures for every test; the helpers themselves live in tests/helpers/."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
from hypothesis import settings
from keyring.backend import KeyringBackend

from callwatch.sim.app import SimState
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import make_state, require_tools

# Hypothesis: a quick profile for the developer loop; CI (.ci/run) sets
# CALLWATCH_HYPOTHESIS=ci for the full run of at least 10,000 examples per property.
settings.register_profile("quick", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("CALLWATCH_HYPOTHESIS", "quick"))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local time is UTC (snapshots and formatted times do not depend on the machine)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


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


@pytest.fixture
def sim_state() -> SimState:
    return make_state()


@pytest.fixture
def live_sim(sim_state: SimState) -> Iterator[RunningSim]:
    with serve_in_thread(sim_state) as running:
        yield running


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Callable[[KeyringBackend], None]:
    """Install a keyring backend for one test; the process-global one is restored after."""
    monkeypatch.setattr(keyring.core, "_keyring_backend",
                        getattr(keyring.core, "_keyring_backend", None))
    return keyring.set_keyring


def _bus_has(env: dict[str, str], name: str) -> bool:
    proc = subprocess.run(
        ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
         "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
        env=env, capture_output=True, text=True, timeout=5, check=False)
    return "boolean true" in proc.stdout


@pytest.fixture
def secret_service(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private D-Bus session with an unlocked gnome-keyring Secret Service.

    Yields the environment for subprocesses (DBUS_SESSION_BUS_ADDRESS set,
    PYTHON_KEYRING_BACKEND unset).
    """
    require_tools("dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool")
    home = tmp_path / "ss-home"
    run_dir = home / "run"
    run_dir.mkdir(parents=True, mode=0o700)
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(run_dir),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "xdg-config"))
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    procs: list[subprocess.Popen[Any]] = [bus]
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        assert address, "dbus-daemon printed no address"
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        gk = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env)
        procs.append(gk)
        assert gk.stdin is not None
        gk.stdin.write(b"callwatch-test-keyring-password")
        gk.stdin.close()
        deadline = time.monotonic() + 10
        while not _bus_has(env, "org.freedesktop.secrets"):
            assert gk.poll() is None, "gnome-keyring-daemon exited"
            assert time.monotonic() < deadline, "the Secret Service did not appear on the bus"
            time.sleep(0.05)
        yield env
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
