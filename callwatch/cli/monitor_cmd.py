"""``callwatch``: the live monitor (placeholder until the live-monitor issue lands)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run(name: str, argv: Sequence[str]) -> int:
    print("callwatch: the live monitor UI arrives with the live-monitor issue; "
          "try `callwatch sim` meanwhile.", file=sys.stderr)
    return 0
