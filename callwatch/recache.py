"""Regular expressions' compiled programs, kept like bytecode.

``re.compile`` parses each pattern and compiles it to a program for the regex engine in
pure Python, in every process: Textual's CSS tokenizer, Rich and the standard library
compile ~80 patterns before the monitor's first frame, ~80 ms on a slow core (more than
the gap to a bare Textual app). Python keeps no such cache across processes; this
module keeps the programs in ``__pycache__`` like :mod:`callwatch.codecache`, keyed by
the exact pattern and flags, for this exact interpreter build (``sys.version``, the
engine's magic and code size): a pattern not in the file is compiled as before. The
engine itself checks every program it is given (``_sre.compile`` validates it), and an
entry it rejects is compiled afresh.

It relies on ``re._compiler``'s internals (3.11 to 3.13): :func:`install` checks them on
a sample pattern and does nothing if they differ. Only the command-line entry points
install it, with the dataclass cache; importing callwatch as a library changes nothing.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from callwatch import codecache

try:
    import _sre  # type: ignore[import-not-found]  # the engine (CPython's)
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another interpreter
    _compiler = _parser = _sre = None

MAX_ENTRIES = 2000

Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]

_programs: dict[tuple[str | bytes, int], Entry] = {}  # read from the file
_used: dict[tuple[str | bytes, int], Entry] = {}
_missed = False
_original: Any = None


def _header() -> bytes:
    magic = getattr(_sre, "MAGIC", 0)
    return f"callwatch-re 1 {sys.version} {magic} {getattr(_sre, 'CODESIZE', 0)}\n".encode()


def cache_file() -> str | None:
    return codecache.cache_path("regex-code")


def _fresh(pattern: str | bytes, flags: int) -> Entry:
    """What ``re._compiler.compile`` computes before handing it to the engine."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = {str(k): int(v) for k, v in parsed.state.groupdict.items()}
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # Plain ints: the opcodes are an int subclass, which marshal refuses.
    return (int(flags | parsed.state.flags), [int(op) for op in code], parsed.state.groups - 1,
            groupindex, tuple(indexgroup))


def _compile(pattern: Any, flags: int = 0) -> Any:
    global _missed
    if not isinstance(pattern, (str, bytes)) or flags & re.DEBUG:
        return _original(pattern, flags)
    key = (pattern, int(flags))
    entry = _programs.get(key)
    if entry is not None:
        try:
            compiled = _sre.compile(pattern, *entry)
        except Exception:  # noqa: BLE001 - a program the engine rejects: compile afresh
            entry = None
        else:
            _used[key] = entry
            return compiled
    entry = _fresh(pattern, flags)
    compiled = _sre.compile(pattern, *entry)
    if len(_used) < MAX_ENTRIES:  # patterns made at run time (from input) stop here
        _used[key] = entry
        _missed = True
    return compiled


def _works() -> bool:
    """The internals this module relies on behave as it expects (on a sample)."""
    sample = r"(?P<word>\w+)-(\d+)(?i:x)"
    try:
        ours = _sre.compile(sample, *_fresh(sample, 0))
        theirs = _original(sample, 0)
    except Exception:  # noqa: BLE001 - any difference means: not installed
        return False
    text = "Ab-12X ab-3x"
    return (ours.flags == theirs.flags and ours.groups == theirs.groups
            and ours.groupindex == theirs.groupindex
            and [m.groups() for m in ours.finditer(text)]
            == [m.groups() for m in theirs.finditer(text)])


def install() -> None:
    """Read the file and let ``re`` use it (idempotent; nothing if ``re`` differs)."""
    global _original
    if _original is not None or _compiler is None:
        return
    _original = _compiler.compile
    if not _works():
        return
    path = cache_file()
    if path is not None:
        _programs.update(_valid(codecache.read_marshal(path, _header())))
    _compiler.compile = _compile


def _valid(data: object) -> dict[tuple[str | bytes, int], Entry]:
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(k, tuple) and len(k) == 2 and isinstance(v, tuple) and len(v) == 5}


def save() -> None:
    """Write the file if this process compiled anything new (atomically; best effort)."""
    global _missed
    path = cache_file()
    if not _missed or path is None or sys.dont_write_bytecode:
        return
    _missed = False
    programs = {**_valid(codecache.read_marshal(path, _header())), **_programs, **_used}
    if len(programs) > MAX_ENTRIES:
        programs = dict(_used)
    if codecache.write_marshal(path, _header(), programs):
        _programs.update(programs)
