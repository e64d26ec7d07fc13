"""Terminal-safe output: API text never reaches the terminal as control codes."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from callwatch.textsafe import sanitize

__all__ = ["paint", "sanitize", "use_colour"]

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
