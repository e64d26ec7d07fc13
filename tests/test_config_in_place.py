"""login / logout edit config.toml in place: comments, order and unknown keys survive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callwatch.sim.server import RunningSim
from callwatch.store import paths
from callwatch.store.config import Config, Profile, UiSettings, load_config, save_config
from tests.helpers.common import KEY, SECRET, run_callwatch

HAND_WRITTEN = f'''# callwatch settings, by hand
default_profile = "work"   # the usual one

[ui]
bell = false  # quiet please
theme = "dark"            # not a callwatch key (yet)

[keys]
pause = "space"
bogus = 3                 # ignored by callwatch, kept in the file

# my work account
[profiles.work]
brand = "onbuka"
api_key = "workkey1"
secret_store = "command"
secret_command = "echo {SECRET}"
note = "ask Ann for a new key"

[profiles."bad name"]     # not a valid profile name: ignored, kept
brand = "itnio"
'''


def _lab_table(base_url: str) -> str:
    return (f'\n[profiles.lab]\nbrand = "itnio"\nbase_url = "{base_url}"\n'
            f'api_key = "{KEY}"\nsecret_store = "file"\n')


def test_login_then_logout_keeps_the_hand_written_file(live_sim: RunningSim) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    url = live_sim.base_url
    login = run_callwatch("login", "--profile", "lab", "--base-url", url, "--api-key", KEY,
                          "--insecure-storage", stdin=SECRET + "\n")
    assert login.returncode == 0, login.stderr
    # Byte for byte: the old text untouched, the new profile appended.
    assert path.read_text() == HAND_WRITTEN + _lab_table(url)
    assert path.stat().st_mode & 0o777 == 0o600
    lab = load_config().profile("lab")
    assert lab is not None and lab.secret_store == "file" and lab.base_url == url

    logout = run_callwatch("logout", "--profile", "lab", "--forget")
    assert logout.returncode == 0, logout.stderr
    assert path.read_text() == HAND_WRITTEN


def test_login_again_changes_only_the_changed_line(live_sim: RunningSim) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    # The same profile, now pointed at the simulator with its key.
    login = run_callwatch("login", "--profile", "work", "--brand", "itnio", "--base-url",
                          live_sim.base_url, "--api-key", KEY, "--secret-command", f"echo {SECRET}")
    assert login.returncode == 0, login.stderr
    expected = HAND_WRITTEN.replace('api_key = "workkey1"', f'api_key = "{KEY}"').replace(
        'brand = "onbuka"', 'brand = "itnio"').replace(
        'note = "ask Ann for a new key"\n',
        f'note = "ask Ann for a new key"\nbase_url = "{live_sim.base_url}"\n')
    assert path.read_text() == expected


def test_forgetting_the_last_profile_keeps_the_rest() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    logout = run_callwatch("logout", "--profile", "work", "--forget")
    assert logout.returncode == 0, logout.stderr
    text = path.read_text()
    assert "[profiles.work]" not in text and "workkey1" not in text
    # No profile is left, so no default either; every other line is still there.
    kept = [line for line in HAND_WRITTEN.splitlines()
            if line and not line.startswith("default_profile")]
    work = HAND_WRITTEN.split("[profiles.work]\n")[1].split("\n\n")[0].splitlines()
    assert [line for line in text.splitlines() if line] == [
        line for line in kept if line not in work and line != "[profiles.work]"]


_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,10}", fullmatch=True).filter(
    lambda n: n not in (".", ".."))
_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
_profiles = st.builds(
    Profile, name=_names, brand=st.sampled_from(["itnio", "onbuka", "laaffic"]),
    base_url=st.none() | _text, api_key=st.none() | _text,
    interval=st.none() | st.floats(1.0, 1e6), secret_store=st.sampled_from(["keyring", "file"]),
)


# Each example writes and reads config.toml twice: a few hundred are plenty (CI's
# 10,000 took over two minutes).
@settings(max_examples=min(settings().max_examples, 300))
@given(first=st.lists(_profiles, max_size=3), second=st.lists(_profiles, max_size=3),
       bell=st.booleans(), keys=st.dictionaries(_names, _text, max_size=3))
def test_save_then_load_gives_the_same_config(first: list[Profile], second: list[Profile],
                                              bell: bool, keys: dict[str, str]) -> None:
    path = paths.config_file()
    path.unlink(missing_ok=True)
    cfg = Config(ui=UiSettings(bell=bell), keys=keys)
    for steps in (first, second):
        # The second round edits the file the first one wrote.
        for profile in steps:
            cfg = cfg.with_profile(profile)
        save_config(cfg)
        assert load_config() == cfg
        if steps:
            cfg = cfg.without_profile(steps[0].name)
            save_config(cfg)
            assert load_config() == cfg
