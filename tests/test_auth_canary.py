"""A canary secret never reaches stdout, stderr or the log files, even when things break."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callwatch.sim.server import RunningSim
from callwatch.store import paths
from tests.helpers.common import KEY

CANARY = "CANARY-7f3a9c-do-not-print"

# Runs the real CLI with a bug planted in the signing path: the exception message and
# a local variable both carry the secret, as a careless bug would.
_PLANT = """
import sys
import callwatch.api.signing as signing

def broken_sign(api_key, secret, timestamp):
    leaked = secret.reveal()
    raise RuntimeError("signing exploded for " + leaked)

signing.sign = broken_sign
from callwatch.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _everything_written(proc: subprocess.CompletedProcess[str]) -> str:
    logs = [p.read_text(errors="replace") for p in Path(paths.log_dir()).rglob("*")
            if p.is_file()]
    return proc.stdout + proc.stderr + "".join(logs)


@pytest.mark.parametrize("debug", [True, False])
def test_canary_absent_when_signing_breaks(live_sim: RunningSim, debug: bool) -> None:
    env = dict(os.environ, CALLWATCH_API_KEY=KEY, CALLWATCH_API_SECRET=CANARY,
               CALLWATCH_BASE_URL=live_sim.base_url)
    args = ["auth", "status"] + (["--debug"] if debug else [])
    proc = subprocess.run([sys.executable, "-c", _PLANT, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 70
    assert CANARY not in _everything_written(proc)
    if debug:
        assert "RuntimeError: signing exploded for ********" in proc.stderr
        log = Path(paths.log_dir()) / "callwatch.log"
        assert "signing exploded" in log.read_text()
        assert log.stat().st_mode & 0o777 == 0o600
    else:
        assert "internal error (RuntimeError)" in proc.stderr and "--debug" in proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("debug", [True, False])
def test_canary_absent_on_bad_credentials_and_login(live_sim: RunningSim,
                                                    debug: bool) -> None:
    flag = ["--debug"] if debug else []
    env = dict(os.environ, CALLWATCH_API_KEY=KEY, CALLWATCH_API_SECRET=CANARY)
    status = subprocess.run([sys.executable, "-m", "callwatch", "auth", "status",
                             "--base-url", live_sim.base_url, *flag], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 3
    assert CANARY not in _everything_written(status)
    login = subprocess.run([sys.executable, "-m", "callwatch", "login", "--api-key", KEY,
                            "--base-url", live_sim.base_url, *flag], input=CANARY + "\n",
                           env=dict(os.environ), capture_output=True, text=True, timeout=60,
                           check=False)
    assert login.returncode == 3 and "bad credentials" in login.stdout
    assert CANARY not in _everything_written(login)
    assert not any(CANARY in p.read_text(errors="replace")
                   for p in Path(paths.config_dir()).rglob("*") if p.is_file())


def test_secret_repr_in_connection_objects() -> None:
    from callwatch.store.resolve import resolve_connection

    conn = resolve_connection(env={"CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": CANARY})
    assert CANARY not in repr(conn) and CANARY not in str(conn)
    assert CANARY not in f"{conn.credentials.secret}"


def test_no_plain_secret_in_resolution_locals(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash screen prints every frame's locals: none may hold the plain secret."""
    import traceback

    from callwatch.errors import ConfigError
    from callwatch.store.resolve import resolve_connection

    env = {"CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": CANARY,
           "CALLWATCH_BASE_URL": "ftp://nope"}
    with pytest.raises(ConfigError) as info:
        resolve_connection(env=env)
    for frame, _ in traceback.walk_tb(info.value.__traceback__):
        if frame.f_code.co_name == "resolve_connection":
            shown = "".join(repr(v) for k, v in frame.f_locals.items() if k != "env")
            assert CANARY not in shown
