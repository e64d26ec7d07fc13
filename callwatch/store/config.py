"""``config.toml``: profiles (no secrets), ``[ui]`` settings and ``[keys]`` bindings.

Reading never crashes: a file that is not TOML is moved aside as
``config.toml.corrupt-<timestamp>`` and defaults are used; a value of the wrong
type is ignored. Either way ``Config.warnings`` says what happened, naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callwatch.errors import ConfigError
from callwatch.store import paths
from callwatch.store.alerts_config import AlertSettings, parse_alerts
from callwatch.store.atomic import backup_unreadable

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SECRET_STORES = ("keyring", "command", "file")
MIN_INTERVAL = 1.0


def check_profile_name(name: str) -> str:
    """Profile names become keyring usernames and file names: keep them plain."""
    if not _PROFILE_NAME.match(name) or name in (".", ".."):
        raise ConfigError(
            f"invalid profile name {name!r}: use letters, digits, '_', '-' or '.' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class Profile:
    """One account. The secret itself is never here: only where to find it."""

    name: str
    brand: str = "itnio"
    base_url: str | None = None
    api_key: str | None = None
    interval: float | None = None
    # Where `login` put the secret: "keyring", "command" (secret_command) or "file".
    secret_store: str = "keyring"
    secret_command: str | None = None
    # Plain http to a remote host accepted (login --allow-insecure-http): see api/policy.
    allow_insecure_http: bool = False
    # Cancel/suspend allowed for this profile (read-only otherwise): see README "Actions".
    actions: bool = False

    def to_table(self) -> dict[str, object]:
        table: dict[str, object] = {"brand": self.brand}
        for key in ("base_url", "api_key", "interval", "secret_command"):
            value = getattr(self, key)
            if value is not None:
                table[key] = value
        table["secret_store"] = self.secret_store
        if self.allow_insecure_http:
            table["allow_insecure_http"] = True
        if self.actions:
            table["actions"] = True
        return table


@dataclass(frozen=True)
class UiSettings:
    bell: bool = True
    toast: bool = True


@dataclass(frozen=True)
class Config:
    default_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    ui: UiSettings = field(default_factory=UiSettings)
    # binding id -> key, e.g. {"pause": "p"}; the TUI's keymap overrides.
    keys: Mapping[str, str] = field(default_factory=dict)
    # Read only: flat() leaves it out, so saving never touches [alerts].
    alerts: AlertSettings = field(default_factory=AlertSettings)
    path: Path | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def profile(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def profile_names(self) -> list[str]:
        return sorted(self.profiles)

    def with_profile(self, profile: Profile) -> Config:
        """Add or replace a profile; the first profile becomes the default."""
        profiles = dict(self.profiles)
        profiles[profile.name] = profile
        default = self.default_profile
        if default is None or default not in profiles:
            default = profile.name
        return replace(self, profiles=profiles, default_profile=default, warnings=())

    def without_profile(self, name: str) -> Config:
        profiles = {k: v for k, v in self.profiles.items() if k != name}
        default = self.default_profile
        if default == name or default not in profiles:
            default = min(profiles) if profiles else None
        return replace(self, profiles=profiles, default_profile=default, warnings=())

    def flat(self) -> dict[tuple[str, ...], object]:
        """Every setting by its place in the file, in the order a new file gets them."""
        flat: dict[tuple[str, ...], object] = {}
        if self.default_profile:
            flat[("default_profile",)] = self.default_profile
        flat[("ui", "bell")] = self.ui.bell
        flat[("ui", "toast")] = self.ui.toast
        for binding, key in sorted(self.keys.items()):
            flat[("keys", binding)] = key
        for name, profile in sorted(self.profiles.items()):
            for field_name, value in profile.to_table().items():
                flat[("profiles", name, field_name)] = value
        return flat


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
           warnings: list[str]) -> Any:
    value = table.get(key)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        warnings.append(f"{where}: {key} has the wrong type ({type(value).__name__}); ignored")
        return None
    return value


def _parse_profile(name: str, raw: object, where: str, warnings: list[str]) -> Profile | None:
    place = f"{where} [profiles.{name}]"
    if not isinstance(raw, Mapping):
        warnings.append(f"{place} is not a table; ignored")
        return None
    try:
        check_profile_name(name)
    except ConfigError as exc:
        warnings.append(f"{place}: {exc.message}; ignored")
        return None
    brand = _typed(raw, "brand", str, place, warnings) or "itnio"
    interval = _typed(raw, "interval", float, place, warnings)
    if interval is not None and interval < MIN_INTERVAL:
        warnings.append(f"{place}: interval must be at least {MIN_INTERVAL:g} s; ignored")
        interval = None
    command = _typed(raw, "secret_command", str, place, warnings) or None
    store = _typed(raw, "secret_store", str, place, warnings)
    if store not in SECRET_STORES:
        if store is not None:
            warnings.append(f"{place}: secret_store must be one of {', '.join(SECRET_STORES)}")
        store = "command" if command else "keyring"
    return Profile(
        name=name,
        brand=brand,
        base_url=_typed(raw, "base_url", str, place, warnings) or None,
        api_key=_typed(raw, "api_key", str, place, warnings) or None,
        interval=interval,
        secret_store=store,
        secret_command=command,
        allow_insecure_http=_typed(raw, "allow_insecure_http", bool, place, warnings) is True,
        actions=_typed(raw, "actions", bool, place, warnings) is True,
    )


def parse_config(data: Mapping[str, Any], path: Path, warnings: list[str]) -> Config:
    where = str(path)
    ui_raw = data.get("ui", {})
    if not isinstance(ui_raw, Mapping):
        warnings.append(f"{where}: [ui] is not a table; ignored")
        ui_raw = {}
    bell = _typed(ui_raw, "bell", bool, f"{where} [ui]", warnings)
    toast = _typed(ui_raw, "toast", bool, f"{where} [ui]", warnings)
    ui = UiSettings(bell=True if bell is None else bell, toast=True if toast is None else toast)
    keys_raw = data.get("keys", {})
    keys: dict[str, str] = {}
    if isinstance(keys_raw, Mapping):
        for k, v in keys_raw.items():
            if isinstance(v, str) and v:
                keys[str(k)] = v
            else:
                warnings.append(f"{where} [keys]: {k} must be a key name (string); ignored")
    else:
        warnings.append(f"{where}: [keys] is not a table; ignored")
    profiles: dict[str, Profile] = {}
    profiles_raw = data.get("profiles", {})
    if isinstance(profiles_raw, Mapping):
        for name, raw in profiles_raw.items():
            profile = _parse_profile(str(name), raw, where, warnings)
            if profile is not None:
                profiles[profile.name] = profile
    else:
        warnings.append(f"{where}: [profiles] is not a table; ignored")
    default = _typed(data, "default_profile", str, where, warnings)
    if default is not None and default not in profiles:
        warnings.append(f"{where}: default_profile {default!r} is not a defined profile")
        default = None
    if default is None and profiles:
        default = min(profiles)
    alerts = parse_alerts(data, where, warnings)
    return Config(default_profile=default, profiles=profiles, ui=ui, keys=keys, alerts=alerts,
                  path=path, warnings=tuple(warnings))


def load_config(path: Path | None = None) -> Config:
    """Read ``config.toml``; never raises for a bad file (see ``Config.warnings``)."""
    path = path or paths.config_file()
    warnings: list[str] = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        return Config(path=path, warnings=(
            f"cannot read {path} ({exc.strerror or exc}); using defaults",))
    import tomllib  # here: a first run and the demo have no file and start faster

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        backup = backup_unreadable(path)
        kept = f"moved it to {backup}" if backup else "could not move it aside"
        return Config(path=path, warnings=(
            f"{path} is not valid TOML ({exc}); {kept}; using defaults",))
    return parse_config(data, path, warnings)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write ``config`` by editing the file in place: only changed values are touched."""
    import tomlkit  # here, not at start-up: only login and logout write the file

    from callwatch.store import config_edit

    path = path or config.path or paths.config_file()
    paths.private_dir(path.parent)
    doc = config_edit.read_doc(path)
    if doc is None:
        doc, old = tomlkit.document(), Config()
        old_flat: dict[tuple[str, ...], object] = {}
    else:
        # Compare with what the loader made of the file, so that values it ignored
        # (wrong type, bad profile name) are left as the user wrote them.
        old = parse_config(doc.unwrap(), path, [])
        old_flat = old.flat()
    gone: set[tuple[str, ...]] = {
        ("profiles", name) for name in old.profiles if name not in config.profiles}
    config_edit.apply_changes(doc, old_flat, config.flat(), gone)
    config_edit.write_doc(path, doc, tables_removed=bool(gone))
    return path
