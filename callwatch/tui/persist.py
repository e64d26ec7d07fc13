"""Thin adapter between the monitor UI and the store: UI state and UI settings.

The store package owns the real formats; until it offers ``load_ui_state`` /
``save_ui_state`` and the config reader, this adapter keeps a small JSON file
per profile in the state dir (schema version, atomic replace) and reads the
``[ui]`` and ``[keys]`` tables of ``config.toml`` itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callwatch.store.paths import config_file, state_dir

log = logging.getLogger(__name__)
SCHEMA = 1
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass
class UiState:
    watched: list[int] = field(default_factory=list)
    sort: str = "id"
    sort_reverse: bool = False
    filter: str = ""


@dataclass
class UiSettings:
    bell: bool = True
    toast: bool = True
    keys: dict[str, str] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)


def state_file(profile: str | None) -> Path:
    name = _SAFE_NAME.sub("_", profile or "default")
    return state_dir() / f"ui-{name}.json"


def load_ui_state(profile: str | None) -> UiState:
    path = state_file(profile)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiState()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable UI state %s: %s", path, exc)
        return UiState()
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        return UiState()
    watched = [int(j) for j in raw.get("watched", []) if isinstance(j, int)
               and not isinstance(j, bool)]
    sort = raw.get("sort")
    filt = raw.get("filter")
    return UiState(watched=watched, sort=sort if isinstance(sort, str) else "id",
                   sort_reverse=bool(raw.get("sort_reverse", False)),
                   filter=filt if isinstance(filt, str) else "")


def save_ui_state(profile: str | None, state: UiState) -> Path:
    """Write atomically: a temp file in the same directory, then os.replace."""
    path = state_file(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"schema": SCHEMA, "watched": list(state.watched), "sort": state.sort,
            "sort_reverse": state.sort_reverse, "filter": state.filter}
    write_atomic(path, json.dumps(body, indent=2) + "\n")
    return path


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_settings() -> UiSettings:
    """``[ui] bell/toast``, ``[keys]`` (binding id -> key) and the profile names."""
    try:
        data: dict[str, Any] = tomllib.loads(config_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiSettings()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable config: %s", exc)
        return UiSettings()
    ui = data.get("ui") if isinstance(data.get("ui"), dict) else {}
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    profiles = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
    assert isinstance(ui, dict) and isinstance(keys, dict) and isinstance(profiles, dict)
    return UiSettings(
        bell=bool(ui.get("bell", True)),
        toast=bool(ui.get("toast", True)),
        keys={str(k): str(v) for k, v in keys.items() if isinstance(v, str)},
        profiles=sorted(str(p) for p in profiles),
    )
