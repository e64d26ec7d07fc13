"""House rules a newcomer can rely on: no function over 80 lines, no module over 400.

Measured with ``ast`` (a function's span is ``end_lineno - lineno + 1``, its nested
functions included), so a long function cannot hide behind a comment style.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "callwatch"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400


def long_functions(source: str, name: str, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name (N lines)`` for every function of ``source`` longer than ``limit``."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            span = (node.end_lineno or node.lineno) - node.lineno + 1
            if span > limit:
                found.append(f"{name}:{node.lineno} {node.name} ({span} lines)")
    return found


def _modules() -> list[Path]:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50  # the walk found the package, not an empty folder
    return modules


def test_no_function_is_over_80_lines() -> None:
    too_long = [hit for path in _modules()
                for hit in long_functions(path.read_text(), str(path.relative_to(PACKAGE)))]
    assert not too_long, "split these:\n" + "\n".join(too_long)


def test_no_module_is_over_400_lines() -> None:
    too_long = [f"{path.relative_to(PACKAGE)} ({n} lines)" for path in _modules()
                if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not too_long, "split these:\n" + "\n".join(too_long)


def test_the_length_check_sees_nested_and_async_functions() -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(80))
    source = f"def outer():\n    async def inner():\n{body}    return inner\n"
    assert long_functions(source, "m.py") == ["m.py:1 outer (83 lines)",
                                              "m.py:2 inner (81 lines)"]
    assert long_functions("def short():\n    return 1\n", "m.py") == []
