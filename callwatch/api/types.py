"""Plain value types of the API layer, free of HTTP: credentials, time windows, job ids.

Kept apart from ``client.py`` so that the store, the CLI and the simulator can use
them without importing the HTTP client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from callwatch.api.signing import Secret


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: Secret

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask_key(self.api_key)!r}, secret=Secret('********'))"


def mask_key(api_key: str) -> str:
    return api_key[:3] + "*" * max(0, min(len(api_key) - 3, 8))


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: float, now: datetime | None = None) -> TimeWindow:
        end = now or datetime.now().astimezone()
        return cls(end - timedelta(days=days), end + timedelta(days=1))


_ID_SEPARATORS = re.compile(r"[\s,;]+")


def parse_job_ids(text: str, *, limit: int | None = None) -> list[int]:
    """Job ids separated by spaces, commas or semicolons, de-duplicated in order.

    The one parser of the CLI arguments and the TUI's add dialog: ValueError with a
    message for an operator.
    """
    parts = [p for p in _ID_SEPARATORS.split(text.strip()) if p]
    if not parts:
        raise ValueError("type one or more job ids, separated by spaces or commas")
    bad = [p for p in parts if not p.isdigit() or int(p) <= 0]
    if bad:
        shown = ", ".join(repr(b[:20]) for b in bad[:3])
        raise ValueError(f"not a job id: {shown} (ids are positive whole numbers)")
    if limit is not None and len(parts) > limit:
        raise ValueError(f"at most {limit} ids at once")
    return list(dict.fromkeys(int(p) for p in parts))
