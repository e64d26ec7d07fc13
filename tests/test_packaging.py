"""The installed metadata agrees with the code: one version, the declared imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import requires, version
from pathlib import Path

import callwatch

ROOT = Path(__file__).resolve().parent.parent


def test_one_version_source() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"]
    assert "version" not in pyproject["project"]
    assert version("callwatch") == callwatch.__version__


def _imported_top_level() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "callwatch").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_imported_library_is_declared() -> None:
    declared = {re.split(r"[\s;<>=!~\[]", req, maxsplit=1)[0].lower()
                for req in requires("callwatch") or [] if "extra ==" not in req}
    third_party = _imported_top_level() - set(sys.stdlib_module_names) - {"callwatch"}
    assert "rich" in third_party  # imported directly, not only through Textual
    assert third_party <= declared, sorted(third_party - declared)
