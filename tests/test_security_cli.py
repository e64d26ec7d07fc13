"""Issue 12 through the real command against hostile servers (uvicorn on 127.0.0.1):
API error text is inert, plain http to a remote host is refused, a failing
secret_command's output never shows, TLS failures are named."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from callwatch.api.policy import InsecureTransportError
from callwatch.errors import CredentialsError, NetworkError
from callwatch.store import paths
from callwatch.store.config import Profile, load_config, save_config
from callwatch.store.resolve import resolve_connection, resolve_connection_async
from tests.helpers.common import KEY, SECRET, make_client, require_tools, run_callwatch
from tests.hostile import EVIL, assert_inert, envelope_app, self_signed, serve

REMOTE_HTTP = "http://192.0.2.1:9"  # TEST-NET: never reached, the URL alone decides
TOKEN = "tok-5ecr3t-LEAK-9f3a"


def _env(base_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
            "CALLWATCH_BASE_URL": base_url, **extra}


@pytest.mark.parametrize("code", [-77, -16, -22, -1, -18])
def test_auth_status_and_oneshots_print_hostile_error_text_inert(code: int) -> None:
    with serve(envelope_app({"code": code, "msg": EVIL})) as url:
        runs = [run_callwatch("auth", "status", env=_env(url)),
                run_callwatch("status", "1", env=_env(url)),
                run_callwatch("status", "--json", "1", env=_env(url)),
                run_callwatch("list", "--since", "1d", env=_env(url))]
    for proc in runs:
        assert proc.returncode in (3, 4, 5), proc
        assert_inert(proc.stdout + proc.stderr)
    if code == -77:  # unknown code: the vendor's words are shown, made visible
        assert "?]2;PWNTITLE?" in runs[0].stdout


def test_login_prints_hostile_error_text_inert_and_saves_nothing() -> None:
    with serve(envelope_app({"code": -77, "msg": EVIL})) as url:
        proc = run_callwatch("login", "--profile", "p", "--api-key", KEY, "--base-url", url,
                             "--insecure-storage", stdin=SECRET + "\n")
    assert proc.returncode == 5, proc
    assert "?]52;c;" in proc.stdout
    assert_inert(proc.stdout + proc.stderr)
    assert not paths.config_file().exists()


@pytest.mark.parametrize("argv", [["status", "1"], ["status", "--json", "1"], ["list"],
                                  ["wait", "1", "--timeout", "5"], ["auth", "status"], ["1"]])
def test_plain_http_to_a_remote_host_is_refused_before_connecting(argv: list[str]) -> None:
    proc = run_callwatch(*argv, env=_env(REMOTE_HTTP), timeout=30)
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing plain http:// to 192.0.2.1" in lines[0], proc.stderr
    assert "--allow-insecure-http" in lines[0]
    assert proc.stdout == ""


def test_login_refuses_to_save_a_plain_http_profile_without_the_opt_in() -> None:
    proc = run_callwatch("login", "--profile", "lab", "--api-key", KEY, "--base-url",
                         REMOTE_HTTP, "--insecure-storage", "--no-verify", stdin=SECRET + "\n")
    assert proc.returncode == 2, proc
    assert "refusing plain http://" in proc.stderr
    assert not paths.config_file().exists()


def test_the_opt_in_is_saved_and_warned_about_on_every_start() -> None:
    proc = run_callwatch("login", "--profile", "lab", "--api-key", KEY, "--base-url",
                         REMOTE_HTTP, "--insecure-storage", "--no-verify",
                         "--allow-insecure-http", stdin=SECRET + "\n")
    assert proc.returncode == 0, proc
    assert "unencrypted" in proc.stderr
    prof = load_config().profile("lab")
    assert prof is not None and prof.allow_insecure_http
    assert "allow_insecure_http = true" in paths.config_file().read_text()
    conn = resolve_connection("lab", env={})
    assert conn.base_url == REMOTE_HTTP
    assert any("plain http://" in w for w in conn.warnings)
    # Another remote URL for the same run still needs the opt-in (flag or profile key).
    save_config(load_config().with_profile(Profile("bare", api_key=KEY,
                                                   base_url="http://192.0.2.2",
                                                   secret_store="file")))
    with pytest.raises(InsecureTransportError) as info:
        resolve_connection("bare", env={})
    assert "refusing plain http://" in info.value.message


def test_loopback_http_stays_allowed() -> None:
    for url in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        conn = resolve_connection(env={"CALLWATCH_API_KEY": KEY, "CALLWATCH_API_SECRET": SECRET,
                                       "CALLWATCH_BASE_URL": url})
        assert conn.base_url == url and conn.warnings == ()


# --- secret_command ---------------------------------------------------------------------


def _leaky_helper(tmp_path: Path) -> str:
    """A password helper that fails after printing its token on both streams."""
    script = tmp_path / "leaky-helper.py"
    script.write_text(f"import sys\nprint({TOKEN!r})\n"
                      f"sys.stderr.write('error: token ' + {TOKEN!r} + ' expired\\n')\n"
                      "sys.exit(7)\n")
    return f"{sys.executable} {script}"


def test_a_failing_secret_command_never_shows_its_output(tmp_path: Path) -> None:
    command = _leaky_helper(tmp_path)
    save_config(load_config().with_profile(
        Profile("vault", api_key=KEY, secret_store="command", secret_command=command)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_API")}
    runs = [run_callwatch("status", "--profile", "vault", "1", env=env),
            run_callwatch("status", "--json", "--profile", "vault", "1", env=env),
            run_callwatch("auth", "status", "--profile", "vault", env=env),
            run_callwatch("--profile", "vault", "1", env=env),
            run_callwatch("login", "--profile", "other", "--api-key", KEY, "--no-verify",
                          "--secret-command", command, env=env)]
    for proc in runs:
        assert proc.returncode == 3, proc
        assert TOKEN not in proc.stdout + proc.stderr
        assert "exited with status 7" in proc.stdout + proc.stderr, proc
    # Without usable credentials, --json too says it in one line on stderr.
    assert runs[1].stdout == "" and "not shown" in runs[1].stderr
    # The monitor's profile switch shows the exception's message as a toast.
    with pytest.raises(CredentialsError) as info:
        asyncio.run(resolve_connection_async("vault", env={}))
    assert TOKEN not in info.value.message and "status 7" in info.value.message


# --- TLS --------------------------------------------------------------------------------


def test_a_tls_verification_failure_is_named(tmp_path: Path) -> None:
    require_tools("openssl")
    cert, key = self_signed(tmp_path)
    with serve(envelope_app({"code": -77, "msg": "reached"}), certfile=cert,
               keyfile=key) as url:
        async def query() -> None:
            async with make_client(url) as client:
                await client.detail(1)

        with pytest.raises(NetworkError) as info:
            asyncio.run(query())
        assert "certificate verification failed for 127.0.0.1" in info.value.message
        assert "SSL_CERT_FILE" in info.value.message
        # Trusting the private CA as the message says makes it work.
        proc = run_callwatch("auth", "status", env=_env(url, SSL_CERT_FILE=str(cert)))
    assert "reached" in proc.stdout, proc
