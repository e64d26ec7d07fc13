"""Only callwatch.tui may import Textual: the core runs (and is tested) headless."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["callwatch.api.client", "callwatch.api.models",
                                    "callwatch.sim.app", "callwatch.sim.server",
                                    "callwatch.errors", "callwatch.monitor",
                                    "callwatch.store"])
def test_core_modules_do_not_import_textual(module: str) -> None:
    code = (f"import importlib, sys; importlib.import_module({module!r}); "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') "
            "or m.startswith('callwatch.tui')); print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
