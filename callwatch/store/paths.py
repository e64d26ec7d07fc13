"""Where callwatch keeps its files (platformdirs, overridable by env for tests)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "callwatch"


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else Path(default)


def config_dir() -> Path:
    return _dir("CALLWATCH_CONFIG_DIR", platformdirs.user_config_dir(APP))


def state_dir() -> Path:
    return _dir("CALLWATCH_STATE_DIR", platformdirs.user_state_dir(APP))


def log_dir() -> Path:
    return _dir("CALLWATCH_LOG_DIR", platformdirs.user_log_dir(APP))


def config_file() -> Path:
    return config_dir() / "config.toml"


def private_dir(path: Path) -> Path:
    """Make ``path`` (and any missing parents) with mode 0700; return it.

    Directories we create are 0700 whatever the umask (they hold profiles, watch lists,
    exports, logs). An existing directory is left as the user set it: never loosened.
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: theirs to set
        os.chmod(directory, 0o700)
    return path
