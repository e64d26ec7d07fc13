"""The store and the auth commands never import Textual (they run headless)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["callwatch.store.resolve", "callwatch.store.secrets",
                                    "callwatch.store.config", "callwatch.store.state",
                                    "callwatch.store.atomic", "callwatch.cli.auth_cmds"])
def test_no_textual(module: str) -> None:
    code = (f"import importlib, sys; importlib.import_module({module!r}); "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') "
            "or m.startswith('callwatch.tui')); print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
