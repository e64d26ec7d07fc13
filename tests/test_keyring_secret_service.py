"""End to end against a real Secret Service (gnome-keyring on a private D-Bus session)."""

from __future__ import annotations

import subprocess

import pytest

from callwatch.sim.server import serve_in_thread
from callwatch.store.config import load_config
from tests.helpers.common import KEY, SECRET, make_state, run_callwatch

pytestmark = pytest.mark.e2e


def _lookup(env: dict[str, str], profile: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["secret-tool", "lookup", "service", "callwatch", "username", profile],
                          env=env, capture_output=True, text=True, timeout=20, check=False)


def test_login_status_logout_with_gnome_keyring(secret_service: dict[str, str]) -> None:
    env = secret_service
    assert "PYTHON_KEYRING_BACKEND" not in env
    with serve_in_thread(make_state()) as sim:
        info = run_callwatch("info", env=env)
        assert info.returncode == 0, info.stderr
        assert "keyring.backends.SecretService.Keyring" in info.stdout

        login = run_callwatch("login", "--profile", "ops", "--base-url", sim.base_url,
                              "--api-key", KEY, env=env, stdin=SECRET + "\n")
        assert login.returncode == 0, login.stdout + login.stderr
        assert "ok: signed request accepted" in login.stdout
        assert "keyring (keyring.backends.SecretService.Keyring)" in login.stdout
        stored = _lookup(env, "ops")
        landed = stored.returncode == 0 and stored.stdout.strip() == SECRET
        assert landed, "the secret did not land in the Secret Service"  # never print it
        prof = load_config().profile("ops")
        assert prof is not None and prof.secret_store == "keyring" and prof.api_key == KEY

        status = run_callwatch("auth", "status", "--profile", "ops", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "from keyring (keyring.backends.SecretService.Keyring)" in status.stdout
        assert "ok: signed request accepted" in status.stdout
        for proc in (info, login, status):
            assert SECRET not in proc.stdout + proc.stderr

        logout = run_callwatch("logout", "--profile", "ops", env=env)
        assert logout.returncode == 0, logout.stderr
        assert "keyring entry" in logout.stdout
        gone = _lookup(env, "ops")
        assert gone.returncode != 0 or gone.stdout.strip() == ""

        after = run_callwatch("auth", "status", "--profile", "ops", env=env)
        assert after.returncode == 3 and "holds no secret" in after.stderr
        forget = run_callwatch("logout", "--profile", "ops", "--forget", env=env)
        assert forget.returncode == 0 and load_config().profiles == {}


def test_missing_tools_skip_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tests.helpers.common import require_tools

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CALLWATCH_REQUIRE_SYSTEM_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_tools("gnome-keyring-daemon")
    monkeypatch.setenv("CALLWATCH_REQUIRE_SYSTEM_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="gnome-keyring-daemon"):
        require_tools("gnome-keyring-daemon")
