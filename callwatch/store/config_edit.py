"""Write ``config.toml`` by editing the user's file in place.

``login``/``logout`` change a few values; everything else in the file (comments,
order, blank lines, keys callwatch does not know, values it ignored) stays byte for
byte. The caller gives the old and the new settings as flat ``path -> value`` maps;
only paths whose value changed are touched.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from callwatch.store.atomic import atomic_write_text, backup_unreadable

# A setting's place in the file: ("ui", "bell"), ("profiles", "work", "brand"), ...
Flat = Mapping[tuple[str, ...], object]


def read_doc(path: Path) -> tomlkit.TOMLDocument | None:
    """The file as an editable document; ``None`` if it is missing or not TOML."""
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, TOMLKitError):
        # load_config moves such a file aside already; this covers a file broken since.
        backup_unreadable(path)
        return None


def _same(old: object, new: object) -> bool:
    # bool is an int in Python: `true` must not count as equal to 1.
    return type(old) is type(new) and old == new


def _table(doc: MutableMapping[str, Any], path: tuple[str, ...]) -> MutableMapping[str, Any]:
    """The table at ``path``, made (or made to replace a non-table) when missing."""
    node: MutableMapping[str, Any] = doc
    for depth, key in enumerate(path):
        child = node.get(key)
        if not isinstance(child, MutableMapping):
            # [profiles] only holds tables: a super table writes them as [profiles.x].
            child = tomlkit.table(is_super_table=depth == 0 and key == "profiles")
            node[key] = child
        node = child
    return node


def _delete(doc: MutableMapping[str, Any], path: tuple[str, ...]) -> None:
    node: object = doc
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, MutableMapping) else None
    if isinstance(node, MutableMapping) and path[-1] in node:
        del node[path[-1]]


def apply_changes(doc: MutableMapping[str, Any], old: Flat, new: Flat,
                  removed_tables: set[tuple[str, ...]]) -> None:
    """Change ``doc`` from ``old`` to ``new``: set what differs, delete what went away."""
    for table in removed_tables:
        _delete(doc, table)
    for path in old:
        if path not in new and path[:-1] not in removed_tables:
            _delete(doc, path)
    for path, value in new.items():
        if path not in old or not _same(old[path], value):
            _table(doc, path[:-1])[path[-1]] = value


def write_doc(path: Path, doc: tomlkit.TOMLDocument, *, tables_removed: bool = False) -> None:
    text = tomlkit.dumps(doc)
    if tables_removed:
        # The blank line that separated a removed last table stays behind otherwise.
        text = text.rstrip("\n") + "\n" if text.strip() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text, mode=0o600)
