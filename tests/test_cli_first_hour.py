"""A new user's first commands (issue 17), as real processes: one clear line when
something is wrong, and the advice that fits where the credentials came from."""

from __future__ import annotations

import os
import socket

import pytest

from callwatch.sim.server import RunningSim
from callwatch.store import secrets
from tests.helpers.common import KEY, SECRET, run_callwatch
from tests.helpers.oneshot import sim_env

CALLING = 5000600


def test_sim_on_a_busy_port_says_one_line_and_prints_no_credentials() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ran = run_callwatch("sim", "--port", str(port), timeout=30)
    assert ran.returncode == 2  # usage, not 3 (credentials)
    assert ran.stdout == ""  # checked before the export lines are printed
    assert ran.stderr.count("\n") == 1
    assert f"127.0.0.1:{port}" in ran.stderr and "in use" in ran.stderr
    assert "--port" in ran.stderr and "Traceback" not in ran.stderr


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_status_without_credentials_is_one_line_and_exit_3(json: bool) -> None:
    ran = run_callwatch("status", *(["--json"] if json else []), "5000600", "5000601")
    assert ran.returncode == 3
    assert ran.stdout == ""  # no header, no row per id
    assert ran.stderr.count("\n") == 1 and "no API credentials" in ran.stderr


def test_bad_env_secret_points_at_the_env_variables(live_sim: RunningSim) -> None:
    env = sim_env(live_sim.base_url, secret="not-the-secret")
    for args in (["status", str(CALLING)], ["list"], ["wait", str(CALLING)]):
        ran = run_callwatch(*args, env=env)
        assert ran.returncode == 3, args
        assert ran.stdout == "", args
        assert ran.stderr.count("\n") == 1, (args, ran.stderr)
        assert "check CALLWATCH_API_KEY / CALLWATCH_API_SECRET" in ran.stderr, args
        assert "callwatch login" not in ran.stderr, args


def test_bad_stored_secret_points_at_login_for_that_profile(live_sim: RunningSim) -> None:
    login = run_callwatch("login", "--profile", "work", "--base-url", live_sim.base_url,
                          "--api-key", KEY, "--insecure-storage", stdin=SECRET + "\n")
    assert login.returncode == 0, login.stderr
    secrets.secret_file("work").write_text("stale-secret\n")  # rotated in the portal
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_API")}
    ran = run_callwatch("status", "--profile", "work", str(CALLING), env=env)
    assert ran.returncode == 3 and ran.stdout == ""
    assert "callwatch login --profile work" in ran.stderr
    assert "CALLWATCH_API_SECRET" not in ran.stderr


def test_state_filter_takes_the_word_the_table_shows(live_sim: RunningSim) -> None:
    env = sim_env(live_sim.base_url)
    shown = run_callwatch("list", "--state", "submit_failed", "--json", env=env)
    slug = run_callwatch("list", "--state", "submission_failed", "--json", env=env)
    assert shown.returncode == slug.returncode == 0, shown.stderr + slug.stderr
    assert shown.stdout == slug.stdout and '"submission_failed"' in shown.stdout
    bad = run_callwatch("list", "--state", "failed", env=env)
    assert bad.returncode == 2 and "submit_failed" in bad.stderr
    assert "submission_failed" not in bad.stderr  # one name shown: the table's
    helped = run_callwatch("list", "--help")
    assert "submit_failed" in helped.stdout and "submission_failed" not in helped.stdout


def test_info_names_the_watch_list_file_of_environment_credentials() -> None:
    from callwatch.store import paths
    from callwatch.store.state import ui_state_file as state_file

    ran = run_callwatch("info")
    assert ran.returncode == 0
    line = next(x for x in ran.stdout.splitlines() if x.startswith("watch lists:"))
    assert "environment credentials" in line and "'env'" in line
    # The very file the monitor uses when the header says "env" (no profile).
    env_file = state_file(None).relative_to(paths.state_dir())
    assert line.endswith(f": {env_file}")
