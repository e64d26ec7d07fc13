from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
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


# --- credentials: keyring backends and a real Secret Service ----------------------------

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402

import keyring  # noqa: E402
import keyring.core  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402
from keyring.errors import PasswordDeleteError  # noqa: E402


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


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Callable[[KeyringBackend], None]:
    """Install a keyring backend for one test; the process-global one is restored after."""
    monkeypatch.setattr(keyring.core, "_keyring_backend",
                        getattr(keyring.core, "_keyring_backend", None))
    return keyring.set_keyring


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


def run_callwatch(*args: str, env: dict[str, str] | None = None, stdin: str = "",
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real ``callwatch`` command in a child interpreter."""
    return subprocess.run([sys.executable, "-m", "callwatch", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env=dict(os.environ) if env is None else env)
