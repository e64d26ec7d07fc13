"""login / logout / auth status / info, without a keyring (the usual headless case)."""

from __future__ import annotations

import io
import os
import re
import sys
import threading
import time
from collections.abc import Callable

import pytest
from keyring.backend import KeyringBackend

from callwatch.cli import auth_cmds
from callwatch.sim.server import RunningSim, free_port, serve_in_thread
from callwatch.store import paths, secrets
from callwatch.store.config import load_config
from tests.helpers.common import KEY, SECRET, MemoryKeyring, make_state, run_callwatch


def cw(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str,
       *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = auth_cmds.run(name, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def call(name: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        return cw(capsys, monkeypatch, name, *argv, stdin=stdin)
    return call


def test_login_status_logout_with_insecure_storage(live_sim: RunningSim) -> None:
    url = live_sim.base_url
    login = run_callwatch("login", "--base-url", url, "--api-key", KEY, "--insecure-storage",
                          stdin=SECRET + "\n")
    assert login.returncode == 0, login.stderr
    assert "ok: signed request accepted" in login.stdout
    assert "'default' is the default profile" in login.stdout
    assert "plaintext" in login.stderr
    path = secrets.secret_file("default")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    cfg = load_config()
    prof = cfg.profile("default")
    assert prof is not None and prof.secret_store == "file" and prof.api_key == KEY
    assert SECRET not in paths.config_file().read_text()

    status = run_callwatch("auth", "status")
    assert status.returncode == 0, status.stderr
    assert f"file ({path})" in status.stdout and "bDq*****" in status.stdout
    assert "plaintext" in status.stderr  # the warning, on every start
    for proc in (login, status):
        assert SECRET not in proc.stdout + proc.stderr

    logout = run_callwatch("logout", "--forget")
    assert logout.returncode == 0, logout.stderr
    assert not path.exists() and load_config().profiles == {}
    assert run_callwatch("auth", "status").returncode == 3


def test_login_without_keyring_stores_nothing_and_lists_options(live_sim: RunningSim,
                                                               run: Run) -> None:
    code, out, err = run("login", "--base-url", live_sim.base_url, "--api-key", KEY,
                         stdin=SECRET + "\n")
    assert code == 3 and "ok:" in out
    assert "no usable keyring backend" in err and "--insecure-storage" in err
    assert "dbus-run-session" in err and "secret_command" in err
    assert not paths.config_file().exists()


def test_bad_credentials_are_not_stored(live_sim: RunningSim, run: Run) -> None:
    code, out, err = run("login", "--base-url", live_sim.base_url, "--api-key", KEY,
                         "--insecure-storage", stdin="wrong-secret\n")
    assert code == 3 and "bad credentials" in out and "nothing saved" in err
    assert not paths.config_file().exists()
    assert not secrets.secret_file("default").exists()


def test_ip_not_allowed(run: Run) -> None:
    with serve_in_thread(make_state(allowed_ips={KEY: {"10.9.9.9"}})) as sim:
        code, out, _ = run("login", "--base-url", sim.base_url, "--api-key", KEY,
                           "--insecure-storage", stdin=SECRET)
    assert code == 3 and "IP not allowed" in out
    assert not paths.config_file().exists()


def test_clock_skew_is_reported(live_sim: RunningSim, run: Run) -> None:
    live_sim.state.skew = 900.0
    code, out, _ = run("login", "--base-url", live_sim.base_url, "--api-key", KEY,
                       "--insecure-storage", stdin=SECRET)
    assert code == 0 and "clock skew corrected" in out
    assert re.search(r"(899|900|901) s behind the API's", out)


def test_unreachable_needs_no_verify(run: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run("login", "--base-url", url, "--api-key", KEY, "--insecure-storage",
                         stdin=SECRET)
    assert code == 4 and "unreachable" in out and "--no-verify" in err
    assert not paths.config_file().exists()
    code, out, _ = run("login", "--base-url", url, "--api-key", KEY, "--insecure-storage",
                       "--no-verify", stdin=SECRET)
    assert code == 0 and "not verified" in out
    code, out, _ = run("auth", "status")
    assert code == 4 and "unreachable" in out


def test_login_needs_an_api_key_without_a_terminal(run: Run) -> None:
    code, _, err = run("login", "--insecure-storage", stdin=SECRET)
    assert code == 2 and "--api-key" in err


def test_empty_secret_is_refused(live_sim: RunningSim, run: Run) -> None:
    code, _, err = run("login", "--base-url", live_sim.base_url, "--api-key", KEY,
                       "--insecure-storage", stdin="\n")
    assert code == 2 and "no API secret" in err


def test_keyring_login_and_second_profile(live_sim: RunningSim, run: Run,
                                          use_keyring: Callable[[KeyringBackend], None]
                                          ) -> None:
    backend = MemoryKeyring()
    use_keyring(backend)
    code, out, _ = run("login", "--profile", "one", "--base-url", live_sim.base_url,
                       "--api-key", KEY, stdin=SECRET)
    assert code == 0 and "keyring (tests.helpers.common.MemoryKeyring)" in out
    code, out, _ = run("login", "--profile", "two", "--base-url", live_sim.base_url,
                       "--api-key", KEY, "--interval", "12", stdin=SECRET)
    assert code == 0 and "default profile" not in out
    assert backend.store == {("callwatch", "one"): SECRET, ("callwatch", "two"): SECRET}
    cfg = load_config()
    assert cfg.default_profile == "one" and cfg.profile_names() == ["one", "two"]
    two = cfg.profile("two")
    assert two is not None and two.interval == 12.0
    code, out, _ = run("auth", "status", "--profile", "two")
    assert code == 0 and "profile:  two" in out and "keyring (" in out
    code, out, _ = run("logout", "--profile", "two")
    assert code == 0 and "keyring entry" in out
    assert ("callwatch", "two") not in backend.store
    code, _, err = run("auth", "status", "--profile", "two")
    assert code == 3 and "holds no secret" in err


def test_secret_command_login(live_sim: RunningSim, run: Run) -> None:
    command = f"{sys.executable} -c \"print('{SECRET}')\""
    code, out, _ = run("login", "--base-url", live_sim.base_url, "--api-key", KEY,
                       "--secret-command", command)
    assert code == 0 and "not stored" in out
    prof = load_config().profile("default")
    assert prof is not None and prof.secret_store == "command"
    assert prof.secret_command == command
    code, out, _ = run("auth", "status")
    assert code == 0 and "from command" in out


def test_status_from_env(live_sim: RunningSim, run: Run,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLWATCH_API_KEY", KEY)
    monkeypatch.setenv("CALLWATCH_API_SECRET", SECRET)
    code, out, _ = run("auth", "status", "--base-url", live_sim.base_url)
    assert code == 0 and "from env" in out and "environment only" in out
    monkeypatch.setenv("CALLWATCH_API_SECRET", "bad")
    code, out, _ = run("auth", "status", "--base-url", live_sim.base_url)
    assert code == 3 and "bad credentials" in out


def test_info(run: Run) -> None:
    code, out, _ = run("info")
    assert code == 0 and "callwatch 0.1.0" in out
    assert str(paths.config_file()) in out and str(paths.state_dir()) in out
    assert str(paths.log_dir()) in out and "keyring:     unavailable" in out


def test_info_with_a_hung_keyring_returns(run: Run, monkeypatch: pytest.MonkeyPatch,
                                          use_keyring: Callable[[KeyringBackend], None]
                                          ) -> None:
    import keyring.core

    release = threading.Event()
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    # Backend detection itself talks to D-Bus and can hang.
    monkeypatch.setattr(keyring.core, "init_backend", lambda limit=None: release.wait(30))
    monkeypatch.setenv("CALLWATCH_KEYRING_TIMEOUT", "0.3")
    started = time.monotonic()
    code, out, _ = run("info")
    assert code == 0 and "did not answer within 0.3 s" in out
    assert time.monotonic() - started < 2
    release.set()


def test_info_subprocess() -> None:
    proc = run_callwatch("info")
    assert proc.returncode == 0 and os.environ["CALLWATCH_CONFIG_DIR"] in proc.stdout
