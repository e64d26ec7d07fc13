"""Terminal-safe output: API text never reaches the terminal as control codes."""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

# C0 controls (tab kept out too: it breaks column alignment), DEL, C1 controls, and
# Unicode bidi overrides / isolates that can reorder what the operator reads.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str, limit: int | None = None) -> str:
    """Replace control characters with '?' (so an ESC can never start a sequence)."""
    clean = _UNSAFE.sub("?", text)
    if limit is not None and len(clean) > limit:
        clean = clean[: max(0, limit - 1)] + "…"
    return clean


def use_colour(stream: TextIO = sys.stdout) -> bool:
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    return stream.isatty()


def paint(text: str, sgr: str, enabled: bool) -> str:
    """Wrap ``text`` in one SGR colour (``"32"``, ``"1;31"``) when ``enabled``.

    ``text`` must already be sanitised: only the escape added here reaches the terminal.
    """
    if not enabled or not sgr:
        return text
    return f"\x1b[{sgr}m{text}\x1b[0m"
