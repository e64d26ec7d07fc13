"""Plain value types of the API layer, free of HTTP: credentials and time windows.

Kept apart from ``client.py`` so that the store, the CLI and the simulator can use
them without importing the HTTP client.
"""

from __future__ import annotations

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
