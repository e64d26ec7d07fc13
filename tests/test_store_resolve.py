"""resolve_connection: flags > env > profile (keyring > secret_command > file)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest
from keyring.backend import KeyringBackend

from callwatch.api.brands import Brand
from callwatch.api.signing import Secret
from callwatch.errors import ConfigError, CredentialsError
from callwatch.store import secrets
from callwatch.store.config import Config, Profile, save_config
from callwatch.store.resolve import resolve_connection, resolve_connection_async
from tests.helpers.common import MemoryKeyring

ENV = {"CALLWATCH_API_KEY": "envkey", "CALLWATCH_API_SECRET": "envsecret"}


def _save(*profiles: Profile) -> Config:
    cfg = Config()
    for p in profiles:
        cfg = cfg.with_profile(p)
    save_config(cfg)
    return cfg


def test_env_only() -> None:
    conn = resolve_connection(env={**ENV, "CALLWATCH_BRAND": "laaffic"})
    assert conn.brand is Brand.LAAFFIC and conn.base_url == "https://api.laaffic.com"
    assert conn.credentials.api_key == "envkey"
    assert conn.credentials.secret == Secret("envsecret") and conn.secret_source == "env"
    assert conn.profile is None


def test_nothing_at_all() -> None:
    with pytest.raises(CredentialsError) as info:
        resolve_connection(env={})
    assert "callwatch login" in info.value.message


def test_flags_beat_env_beat_profile() -> None:
    _save(Profile("work", brand="onbuka", base_url="https://10.0.0.1:1", api_key="k",
                  secret_store="command", secret_command=f"{sys.executable} -c print(1234)"))
    conn = resolve_connection(env={})
    assert conn.brand is Brand.ONBUKA and conn.base_url == "https://10.0.0.1:1"
    conn = resolve_connection(env={"CALLWATCH_BASE_URL": "https://10.0.0.2:2"})
    assert conn.base_url == "https://10.0.0.2:2"
    conn = resolve_connection(brand="itnio", base_url="https://10.0.0.3:3",
                              env={"CALLWATCH_BASE_URL": "https://10.0.0.2:2"})
    assert conn.brand is Brand.ITNIO and conn.base_url == "https://10.0.0.3:3"


def test_complete_env_ignores_the_default_profile() -> None:
    _save(Profile("work", brand="onbuka", api_key="k", secret_store="file"))
    conn = resolve_connection(env=ENV)
    assert conn.profile is None and conn.brand is Brand.ITNIO and conn.secret_source == "env"


def test_named_profile_with_env_credentials_keeps_profile_settings() -> None:
    _save(Profile("work", brand="onbuka", api_key="k", interval=9.0))
    conn = resolve_connection("work", env=ENV)
    assert conn.profile == "work" and conn.brand is Brand.ONBUKA and conn.interval == 9.0
    assert conn.credentials.api_key == "envkey" and conn.secret_source == "env"


def test_env_secret_with_profile_key() -> None:
    _save(Profile("work", api_key="profilekey"))
    conn = resolve_connection(env={"CALLWATCH_API_SECRET": "s"})
    assert conn.credentials.api_key == "profilekey" and conn.secret_source == "env"
    with pytest.raises(CredentialsError, match="no API key"):
        resolve_connection(env={"CALLWATCH_API_SECRET": "s"}, config=Config())


def test_key_override_without_secret_is_refused(
        use_keyring: Callable[[KeyringBackend], None]) -> None:
    use_keyring(MemoryKeyring())
    secrets.keyring_set("work", Secret("stored"))
    _save(Profile("work", api_key="profilekey"))
    with pytest.raises(CredentialsError) as info:
        resolve_connection(env={"CALLWATCH_API_KEY": "otherkey"})
    assert "oth***" in info.value.message and "otherkey" not in info.value.message
    same = resolve_connection(env={"CALLWATCH_API_KEY": "profilekey"})
    assert same.credentials.secret == Secret("stored")


def test_unknown_profile() -> None:
    _save(Profile("work", api_key="k"))
    with pytest.raises(CredentialsError) as info:
        resolve_connection("nope", env={})
    assert "nope" in info.value.message and "work" in info.value.message
    with pytest.raises(CredentialsError):
        resolve_connection(env={"CALLWATCH_PROFILE": "nope"})
    with pytest.raises(ConfigError):
        resolve_connection("../etc", env={})


def test_profile_secret_from_keyring(use_keyring: Callable[[KeyringBackend], None]) -> None:
    use_keyring(MemoryKeyring())
    secrets.keyring_set("work", Secret("from-keyring"))
    _save(Profile("work", api_key="k"), Profile("other", api_key="k2"))
    conn = resolve_connection(env={})
    assert conn.profile == "work" and conn.credentials.secret == Secret("from-keyring")
    assert conn.secret_source.startswith("keyring (") and "MemoryKeyring" in conn.secret_source
    with pytest.raises(CredentialsError, match="holds no secret for profile 'other'"):
        resolve_connection("other", env={})


async def test_async_resolution_for_a_profile_switch(
        use_keyring: Callable[[KeyringBackend], None]) -> None:
    use_keyring(MemoryKeyring())
    secrets.keyring_set("b", Secret("bee-secret"))
    _save(Profile("a", api_key="ka"), Profile("b", api_key="kb", brand="onbuka"))
    conn = await resolve_connection_async("b", env={})
    assert conn.profile == "b" and conn.brand is Brand.ONBUKA


def test_keyring_missing_falls_back_to_command_with_warning() -> None:
    # the fail backend is active (conftest): the command is used and the user told why
    _save(Profile("work", api_key="k", secret_store="keyring",
                  secret_command=f"{sys.executable} -c \"print('  cmd-secret  ')\""))
    conn = resolve_connection(env={})
    assert conn.credentials.secret == Secret("cmd-secret") and conn.secret_source == "command"
    assert any("no usable keyring backend" in w for w in conn.warnings)


def test_no_keyring_no_fallback_gives_the_options() -> None:
    _save(Profile("work", api_key="k"))
    with pytest.raises(CredentialsError) as info:
        resolve_connection(env={})
    assert "--insecure-storage" in info.value.message
    assert "callwatch login --profile work" in info.value.message


@pytest.mark.parametrize(("command", "fragment"), [
    ("definitely-not-a-command-xyz", "command not found"),
    (f"{sys.executable} -c \"import sys; sys.stderr.write('nope'); sys.exit(3)\"",
     "exited with status 3 (its output is not shown"),
    (f"{sys.executable} -c pass", "printed nothing"),
    (f"{sys.executable} -c \"import time; time.sleep(5)\"", "did not finish within 0.5 s"),
    ("'unbalanced", "cannot be parsed"),
])
def test_secret_command_failures(command: str, fragment: str) -> None:
    with pytest.raises(CredentialsError) as info:
        secrets.run_secret_command(command, "work", timeout=0.5)
    assert fragment in info.value.message and "work" in info.value.message


def test_secret_command_has_no_shell() -> None:
    secret = secrets.run_secret_command(f"{sys.executable} -c \"import sys; "
                                        "print(sys.argv[1])\" '$HOME;x'", "p")
    assert secret == Secret("$HOME;x")


def test_insecure_file_storage_modes_and_warning() -> None:
    path = secrets.write_secret_file("work", Secret("file-secret"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    _save(Profile("work", api_key="k", secret_store="file"))
    conn = resolve_connection(env={})
    assert conn.credentials.secret == Secret("file-secret")
    assert conn.secret_source == f"file ({path})"
    assert any("plaintext" in w and str(path) in w for w in conn.warnings)


def test_wide_secret_file_is_refused() -> None:
    path = secrets.write_secret_file("work", Secret("file-secret"))
    _save(Profile("work", api_key="k", secret_store="file"))
    os.chmod(path, 0o644)
    with pytest.raises(CredentialsError) as info:
        resolve_connection(env={})
    assert "refusing" in info.value.message and "chmod 600" in info.value.message
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o755)
    conn = resolve_connection(env={})
    assert any("chmod 700" in w for w in conn.warnings)


def test_windows_reads_the_secret_file_without_unix_modes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Windows file stats as 0o666: the mode check would refuse every secret file
    there. Windows (no mode bits) relies on the per-user folder's ACL instead."""
    path = secrets.write_secret_file("work", Secret("file-secret"))
    _save(Profile("work", api_key="k", secret_store="file"))
    os.chmod(path, 0o666)  # what Windows reports for any writable file
    with pytest.raises(CredentialsError):
        resolve_connection(env={})  # the control: on Unix, refused
    monkeypatch.setattr(secrets, "unix_modes", lambda: False)
    conn = resolve_connection(env={})
    assert conn.credentials.secret == Secret("file-secret")
    assert any("plaintext" in w for w in conn.warnings)


def test_bad_brand_in_profile_names_the_profile() -> None:
    _save(Profile("work", brand="acme", api_key="k"))
    with pytest.raises(ConfigError) as info:
        resolve_connection(env={"CALLWATCH_API_SECRET": "s"})
    assert "work" in info.value.message and "acme" in info.value.message


def test_config_warnings_travel_with_the_connection() -> None:
    from callwatch.store import paths

    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text("not toml [")
    conn = resolve_connection(env=ENV)
    assert any("not valid TOML" in w for w in conn.warnings)
