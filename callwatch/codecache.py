"""Dataclasses' generated methods, compiled once and kept like bytecode.

``@dataclass`` writes each class's ``__init__``, ``__eq__``, ``__repr__``... as source and
compiles it at every start: about 150 compilations before the monitor's first frame,
~25 ms of a start that a Textual hello-world makes in ~400. Python keeps the bytecode
of modules in ``__pycache__``, not these; this module keeps them there too, in one
marshal file keyed by the exact source text (a changed class simply misses and is
compiled as before) and by the interpreter's bytecode magic.

Trust is that of ``.pyc`` files: whoever can write that folder can write bytecode
Python runs anyway. Nothing is written under PYTHONDONTWRITEBYTECODE; an unreadable
or foreign file is ignored and replaced. Only the command-line entry points install
it (``callwatch.cli.main``, the demo's simulator): importing callwatch as a library
changes nothing.
"""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys
from contextlib import suppress
from importlib.util import MAGIC_NUMBER, cache_from_source
from types import CodeType
from typing import Any

MAX_ENTRIES = 2000  # beyond this (many upgrades), keep only what the last run used

_codes: dict[str, CodeType] = {}  # read from the file
_used: dict[str, CodeType] = {}  # asked for by this process
_missed = False  # compiled something the file did not hold: worth writing
_installed = False


def cache_path(name: str) -> str | None:
    """Beside callwatch's own bytecode (``sys.pycache_prefix`` honoured)."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    anchor = cache_from_source(os.path.join(os.path.dirname(__file__), "__init__.py"))
    return os.path.join(os.path.dirname(anchor), f"{name}.{tag}.marshal")


def cache_file() -> str | None:
    return cache_path("dataclass-code")


def read_marshal(path: str, header: bytes) -> object:
    """The file's data if it starts with ``header``; None if absent, foreign or bad."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:len(header)] != header:
            return None
        return marshal.loads(data[len(header):])
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write_marshal(path: str, header: bytes, data: Any) -> bool:
    """Atomically (a reader sees the old file or the new one); False if it could not."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(header + marshal.dumps(data))
        os.replace(tmp, path)
    except (OSError, ValueError):
        with suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _load(path: str) -> dict[str, CodeType]:
    codes = read_marshal(path, MAGIC_NUMBER)
    if not isinstance(codes, dict):
        return {}
    return {k: v for k, v in codes.items() if isinstance(k, str) and isinstance(v, CodeType)}


def cached_exec(source: Any, env: dict[str, Any] | None = None,
                scope: dict[str, Any] | None = None, /) -> None:
    """``exec(source, globals, locals)`` as dataclasses call it, the compiled source
    reused."""
    global _missed
    if env is None:  # exec's own default: the caller's globals
        env = sys._getframe(1).f_globals
    if isinstance(source, str):
        code = _codes.get(source)
        if code is None:
            # dont_inherit: compiled as in dataclasses (this module's __future__ import
            # would turn the methods' annotations into strings).
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _missed = True
        _used[source] = code
        source = code
    builtins.exec(source, env, scope)  # noqa: S102 - dataclasses' own generated code


def install() -> None:
    """Read the file and let dataclasses use it (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    path = cache_file()
    if path is not None:
        _codes.update(_load(path))
    # dataclasses look ``exec`` up in their module's globals first (3.11 to 3.14).
    dataclasses.exec = cached_exec  # type: ignore[attr-defined]
    from callwatch import recache

    recache.install()  # the regular expressions' programs, the same way


def save() -> None:
    """Write the file if this process compiled anything new (atomically; best effort)."""
    global _missed
    if _installed:
        from callwatch import recache

        recache.save()
    path = cache_file()
    if not (_installed and _missed) or path is None or sys.dont_write_bytecode:
        return
    _missed = False
    # Merged with the file as it is now: the demo's simulator, a process of its own,
    # writes it too.
    codes = {**_load(path), **_codes, **_used}
    if len(codes) > MAX_ENTRIES:
        codes = dict(_used)
    if write_marshal(path, MAGIC_NUMBER, codes):
        _codes.update(codes)
