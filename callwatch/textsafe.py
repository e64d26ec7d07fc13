"""Terminal-safe text shared by the CLI and the TUI (no Textual, no I/O).

API text (task names, TTS text) must never reach the terminal as control codes.
"""

from __future__ import annotations

import re

# C0 controls (tab too: it breaks column alignment), DEL, C1 controls, and Unicode
# bidi overrides / isolates that can reorder what the operator reads.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str, limit: int | None = None) -> str:
    """Replace control characters with '?' (so an ESC can never start a sequence)."""
    clean = _UNSAFE.sub("?", text)
    if limit is not None and len(clean) > limit:
        clean = clean[: max(0, limit - 1)] + "…"
    return clean
