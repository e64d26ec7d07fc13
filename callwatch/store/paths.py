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
