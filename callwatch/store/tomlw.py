"""A tiny TOML writer for callwatch's own config (strings, bools, numbers, tables).

``tomllib`` reads TOML but cannot write it; our config is flat enough that a few
lines do, and every output is checked by reading it back in the tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")

TomlValue = str | bool | int | float | list[str]


def _key(key: str) -> str:
    return key if _BARE.match(key) else _string(key)


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML cannot hold a non-finite number here")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dumps(doc: Mapping[str, object]) -> str:
    """Top-level scalars, then tables; a table whose values are all tables is nested."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, object]]] = []
    for key, value in doc.items():
        if isinstance(value, Mapping):
            tables.append((_key(key), value))
        elif value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    while tables:
        name, table = tables.pop(0)
        scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
        subs = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
        if scalars or not subs:
            if lines:
                lines.append("")
            lines.append(f"[{name}]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars if v is not None)
        tables[0:0] = [(f"{name}.{_key(k)}", v) for k, v in subs]
    return "\n".join(lines) + "\n"
