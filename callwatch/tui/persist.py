"""Thin adapter between the monitor UI and the store: UI state and UI settings.

The store owns the formats (``callwatch.store.state``: versioned JSON, atomic,
corrupt files moved aside; ``callwatch.store.config``: ``[ui]``, ``[keys]``,
profiles). The UI sees only the small mutable shapes below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from callwatch.store import paths

# The store modules (and tomllib) are imported when used: the demo and a first run
# have no files to read, and start faster without them (~6 ms).


@dataclass
class UiState:
    watched: list[int] = field(default_factory=list)
    sort: str = "id"
    sort_reverse: bool = False
    filter: str = ""
    warnings: tuple[str, ...] = ()


@dataclass
class UiSettings:
    bell: bool = True
    toast: bool = True
    keys: dict[str, str] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    warnings: tuple[str, ...] = ()


def state_file(profile: str | None) -> Path:
    from callwatch.store import state as store_state

    return store_state.ui_state_file(profile)


def load_ui_state(profile: str | None) -> UiState:
    from callwatch.store import state as store_state

    saved = store_state.load_ui_state(profile)
    return UiState(watched=list(saved.watched), sort=saved.sort.column or "id",
                   sort_reverse=saved.sort.reverse, filter=saved.filter,
                   warnings=tuple(saved.warnings))


def save_ui_state(profile: str | None, state: UiState) -> Path:
    from callwatch.store import state as store_state

    return store_state.save_ui_state(profile, store_state.UiState(
        watched=tuple(state.watched),
        sort=store_state.SortState(state.sort, state.sort_reverse),
        filter=state.filter))


def write_atomic(path: Path, text: str) -> None:
    from callwatch.store.atomic import atomic_write_text

    paths.private_dir(path.parent)
    atomic_write_text(path, text)


def load_settings() -> UiSettings:
    """``[ui] bell/toast``, ``[keys]`` (binding id -> key) and the profile names."""
    path = paths.config_file()
    if not path.exists():  # what load_config gives for a missing file, without its imports
        return UiSettings()
    from callwatch.store import config as store_config

    cfg = store_config.load_config(path)
    return UiSettings(bell=cfg.ui.bell, toast=cfg.ui.toast, keys=dict(cfg.keys),
                      profiles=cfg.profile_names(), warnings=tuple(cfg.warnings))
