"""config.toml: profiles, [ui], [keys]; corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest

from callwatch.errors import ConfigError
from callwatch.store import paths
from callwatch.store.config import (
    Config,
    Profile,
    UiSettings,
    check_profile_name,
    load_config,
    save_config,
)


def test_missing_file_gives_defaults() -> None:
    cfg = load_config()
    assert cfg == Config()
    assert cfg.ui == UiSettings(bell=True, toast=True) and not cfg.warnings
    assert cfg.path == paths.config_file()


def test_save_and_load_profiles_ui_and_keys() -> None:
    cfg = Config(ui=UiSettings(bell=False, toast=True), keys={"pause": "space", "quit": "q"})
    cfg = cfg.with_profile(Profile("work", brand="onbuka", api_key="abcdef", interval=7.5))
    cfg = cfg.with_profile(Profile("lab", base_url="http://127.0.0.1:9000",
                                   secret_store="command", secret_command="pass show x"))
    path = save_config(cfg)
    assert path.stat().st_mode & 0o777 == 0o600
    back = load_config()
    assert back == cfg and not back.warnings
    assert back.default_profile == "work"  # the first profile became the default
    assert back.profile_names() == ["lab", "work"]
    assert back.ui.bell is False and back.keys["pause"] == "space"
    assert back.profile("lab") == Profile("lab", base_url="http://127.0.0.1:9000",
                                          secret_store="command", secret_command="pass show x")


def test_forgetting_the_default_picks_another() -> None:
    cfg = Config().with_profile(Profile("b")).with_profile(Profile("a"))
    assert cfg.default_profile == "b"
    cfg = cfg.without_profile("b")
    assert cfg.default_profile == "a"
    assert cfg.without_profile("a").default_profile is None


def test_corrupt_config_is_backed_up_and_named() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text("[profiles.work\nbrand = ")
    cfg = load_config()
    assert cfg.profiles == {} and cfg.ui == UiSettings()
    assert len(cfg.warnings) == 1 and str(path) in cfg.warnings[0]
    assert "not valid TOML" in cfg.warnings[0]
    backups = list(path.parent.glob("config.toml.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "[profiles.work\nbrand = "
    assert str(backups[0]) in cfg.warnings[0]
    assert not path.exists()
    assert load_config().warnings == ()  # once moved aside, the next start is quiet


def test_binary_garbage_config() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    cfg = load_config()
    assert cfg.warnings and str(path) in cfg.warnings[0]


def test_wrong_types_are_ignored_with_warnings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'default_profile = "nope"\n'
        '[ui]\nbell = "yes"\n'
        '[keys]\npause = 3\n'
        '[profiles.ok]\nbrand = "onbuka"\ninterval = 0.1\napi_key = 5\n'
        '[profiles."bad name"]\nbrand = "itnio"\n'
        '[profiles.cmd]\nsecret_command = "echo x"\n'
    )
    cfg = load_config(path)
    text = "\n".join(cfg.warnings)
    for fragment in ("bell", "pause", "interval", "api_key", "bad name", "nope"):
        assert fragment in text
    assert all(str(path) in w for w in cfg.warnings)
    assert cfg.ui.bell is True and "pause" not in cfg.keys
    assert cfg.profile_names() == ["cmd", "ok"]
    ok = cfg.profile("ok")
    assert ok is not None and ok.interval is None and ok.api_key is None
    cmd = cfg.profile("cmd")
    assert cmd is not None and cmd.secret_store == "command"
    assert cfg.default_profile == "cmd"


@pytest.mark.parametrize("name", ["", "a b", "../x", "x/y", ".hidden", "-x", "a" * 65])
def test_bad_profile_names(name: str) -> None:
    with pytest.raises(ConfigError):
        check_profile_name(name)


@pytest.mark.parametrize("name", ["default", "work-2", "a.b_c", "X"])
def test_good_profile_names(name: str) -> None:
    assert check_profile_name(name) == name
