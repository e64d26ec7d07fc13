"""Per-profile UI state (watch list, sort, filter) as versioned JSON, replaced atomically.

Reading never crashes: an unreadable file is moved aside as
``<name>.corrupt-<timestamp>`` and ``UiState.warnings`` says so, naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callwatch.errors import ConfigError
from callwatch.store import paths
from callwatch.store.atomic import atomic_write_bytes, backup_unreadable
from callwatch.store.config import check_profile_name

SCHEMA = 1
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class SortState:
    column: str = ""
    reverse: bool = False


@dataclass(frozen=True)
class UiState:
    watched: tuple[int, ...] = ()
    sort: SortState = field(default_factory=SortState)
    filter: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "watched": list(self.watched),
            "sort": {"column": self.sort.column, "reverse": self.sort.reverse},
            "filter": self.filter,
        }


def ui_state_file(profile: str | None) -> Path:
    name = check_profile_name(profile or DEFAULT_PROFILE)
    return paths.state_dir() / "profiles" / f"{name}.json"


class _Invalid(Exception):
    pass


def _parse(data: object) -> UiState:
    if not isinstance(data, dict):
        raise _Invalid("not a JSON object")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise _Invalid(f"unknown schema {schema!r} (this version reads {SCHEMA})")
    watched_raw = data.get("watched", [])
    if not isinstance(watched_raw, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in watched_raw):
        raise _Invalid("'watched' must be a list of task ids")
    sort_raw = data.get("sort", {})
    if not isinstance(sort_raw, dict):
        raise _Invalid("'sort' must be an object")
    column, reverse = sort_raw.get("column", ""), sort_raw.get("reverse", False)
    if not isinstance(column, str) or not isinstance(reverse, bool):
        raise _Invalid("'sort' needs a string column and a boolean reverse")
    text = data.get("filter", "")
    if not isinstance(text, str):
        raise _Invalid("'filter' must be a string")
    watched = tuple(dict.fromkeys(watched_raw))  # de-duplicated, order kept
    return UiState(watched=watched, sort=SortState(column, reverse), filter=text)


def load_ui_state(profile: str | None) -> UiState:
    """The saved state of ``profile`` (None: "default"); defaults when missing or bad."""
    try:
        path = ui_state_file(profile)
    except ConfigError as exc:
        return UiState(warnings=(exc.message,))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UiState()
    except OSError as exc:
        return UiState(warnings=(f"cannot read {path} ({exc.strerror or exc}); using defaults",))
    try:
        return _parse(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError, _Invalid) as exc:
        backup = backup_unreadable(path)
        kept = f"moved it to {backup}" if backup else "could not move it aside"
        return UiState(warnings=(
            f"{path} is unreadable ({exc}); {kept}; starting with an empty watch list",))


def save_ui_state(profile: str | None, state: UiState) -> Path:
    path = ui_state_file(profile)
    data = json.dumps(state.to_json(), indent=1, sort_keys=True).encode() + b"\n"
    atomic_write_bytes(path, data, mode=0o600)
    return path
