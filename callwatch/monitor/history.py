"""Per-task progress history for this session: throughput, ETA and a sparkline."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

HISTORY_POINTS = 120
THROUGHPUT_WINDOW = 60.0  # seconds of history behind the calls/min figure
MIN_SPAN = 3.0  # below this the rate is noise


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # monotonic seconds
    called: int
    progress: float


class History:
    __slots__ = ("_points",)

    def __init__(self) -> None:
        self._points: deque[Sample] = deque(maxlen=HISTORY_POINTS)

    def add(self, at: float, called: int | None, progress: float | None) -> None:
        if called is None:
            return
        self._points.append(Sample(at, called, progress or 0.0))

    def throughput(self) -> float | None:
        """Calls per minute over the last minute of samples."""
        if len(self._points) < 2:
            return None
        newest = self._points[-1]
        oldest = newest
        for p in reversed(self._points):
            if newest.at - p.at > THROUGHPUT_WINDOW:
                break
            oldest = p
        span = newest.at - oldest.at
        if span < MIN_SPAN:
            return None
        return max(0.0, (newest.called - oldest.called) / span * 60.0)

    def progress_series(self) -> tuple[float, ...]:
        return tuple(p.progress for p in self._points)


def eta_seconds(remaining: int | None, per_minute: float | None) -> float | None:
    if remaining is None or per_minute is None or per_minute <= 0:
        return None
    return max(0.0, remaining / per_minute * 60.0)
