"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and can fail.

They replace the old hygiene tests: layers cli -> tui -> monitor -> store -> api ->
errors/textsafe, only callwatch.tui imports Textual, the simulator never uses the
API client, and the CLI reaches the TUI only where it launches the app.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with ``cwd``'s pyproject.toml, on ``cwd``'s copy of callwatch."""
    # PYTHONPATH first: a copy of the package in ``cwd`` wins over the installed one.
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_the_import_contracts_hold() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("store/paths.py", "import textual", "Only callwatch.tui imports Textual"),
    ("store/paths.py", "import callwatch.monitor", "Layers"),
    ("api/brands.py", "import callwatch.store.paths", "Layers"),
    ("sim/model.py", "import callwatch.api.client", "The simulator uses only"),
    ("cli/oneshot.py", "import callwatch.tui.format", "The CLI reaches the TUI only"),
])
def test_a_broken_contract_is_caught(tmp_path: Path, module: str, line: str,
                                     contract: str) -> None:
    shutil.copytree(ROOT / "callwatch", tmp_path / "callwatch",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "callwatch" / module
    target.write_text(target.read_text() + f"\n{line}  # deliberately against a contract\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    proc = _lint(tmp_path)
    assert proc.returncode != 0, proc.stdout[-4000:]
    broken = proc.stdout.split("Broken contracts")[-1]
    assert contract in broken and module.replace("/", ".").removesuffix(".py") in broken
