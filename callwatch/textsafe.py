"""Terminal-safe text shared by the CLI and the TUI (no Textual, no I/O).

Foreign text (API strings, config values, helper output, the environment) must never
reach the terminal, a log or an export as control codes or invisible characters.
"""

from __future__ import annotations

import unicodedata

REPLACEMENT = "?"

# Replaced: Cc (C0, DEL, C1; TAB too: it breaks column alignment), Cf (bidi controls
# and marks such as U+200E/F, U+061C, U+202A-202E, U+2066-2069; zero-width U+200B-200D,
# U+2060-2064, U+FEFF; soft hyphen...), Zl/Zp (line breaks), Cs (lone surrogates make
# print() raise) and Cn (unassigned: the terminal may give them any width). Kept:
# Zs (no-break spaces) and Co (private use: icon fonts).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})


class _Table(dict[int, int | str]):
    """``str.translate`` table filled on first sight of each code point.

    Only characters that are not ``str.isprintable`` are ever looked up (see
    :func:`sanitize`), so the table stays small and the lookups run in C once warm.
    """

    def __missing__(self, codepoint: int) -> int | str:
        unsafe = unicodedata.category(chr(codepoint)) in _UNSAFE_CATEGORIES
        value: int | str = REPLACEMENT if unsafe else codepoint
        self[codepoint] = value
        return value


_TABLE = _Table()


def is_unsafe(char: str) -> bool:
    """True for a character :func:`sanitize` replaces."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def sanitize(text: str, limit: int | None = None) -> str:
    """Replace control, bidi, zero-width and line-break characters with '?' (so an ESC can
    never start a sequence and nothing hidden can reorder or shift what is read)."""
    # isprintable() is False for every unsafe category (and for Zs/Co, which the table
    # keeps): clean text, the common case, costs one C-level scan.
    clean = text if text.isprintable() else text.translate(_TABLE)
    if limit is not None and len(clean) > limit:
        clean = clean[: max(0, limit - 1)] + "…"
    return clean


def sanitize_lines(text: str) -> str:
    """:func:`sanitize` each line, keeping the line breaks (multi-line messages)."""
    return "\n".join(sanitize(line) for line in text.split("\n"))
