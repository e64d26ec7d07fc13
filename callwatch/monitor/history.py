"""Per-task progress history for this session: throughput, ETA and a sparkline.

Fixed ring buffers of plain numbers (about 1 KB a task when full), not a deque of
objects: at 10,000 tasks the object version held ~16 KB a task and its full
histories were most of the monitor's memory.
"""

from __future__ import annotations

from array import array

HISTORY_POINTS = 64  # ≥ one minute at the 1 s minimum interval; the sparkline shows ≤ 40
THROUGHPUT_WINDOW = 60.0  # seconds of history behind the calls/min figure
MIN_SPAN = 3.0  # below this the rate is noise
_MAX_CALLED = 2**31 - 1  # the buffer holds 32-bit counts; a hostile server sends more


class History:
    __slots__ = ("_at", "_base", "_called", "_next", "_progress")

    def __init__(self) -> None:
        self._base: float | None = None  # times are stored as float32 offsets from this
        self._at = array("f")
        self._called = array("i")
        self._progress = array("f")
        self._next = 0  # where the next sample goes once the ring is full

    def __len__(self) -> int:
        return len(self._at)

    def add(self, at: float, called: int | None, progress: float | None) -> None:
        if called is None:
            return
        if self._base is None:
            self._base = at
        sample = (at - self._base, max(0, min(_MAX_CALLED, called)),
                  min(100.0, max(0.0, progress or 0.0)))
        if len(self._at) < HISTORY_POINTS:
            self._at.append(sample[0])
            self._called.append(sample[1])
            self._progress.append(sample[2])
            return
        i = self._next
        self._at[i], self._called[i], self._progress[i] = sample
        self._next = (i + 1) % HISTORY_POINTS

    def _ordered(self, buf: array[float] | array[int]) -> list[float]:
        i = self._next
        return [*buf[i:], *buf[:i]]

    def throughput(self) -> float | None:
        """Calls per minute over the last minute of samples."""
        n = len(self._at)
        if n < 2:
            return None
        newest = (self._next - 1) % n
        at, called = self._at, self._called
        t_new, oldest = at[newest], newest
        for step in range(1, n):  # walk back while inside the window
            j = (newest - step) % n
            if t_new - at[j] > THROUGHPUT_WINDOW:
                break
            oldest = j
        span = t_new - at[oldest]
        if span < MIN_SPAN:
            return None
        return max(0.0, (called[newest] - called[oldest]) / span * 60.0)

    def progress_series(self) -> tuple[float, ...]:
        return tuple(self._ordered(self._progress))


def eta_seconds(remaining: int | None, per_minute: float | None) -> float | None:
    if remaining is None or per_minute is None or per_minute <= 0:
        return None
    return max(0.0, remaining / per_minute * 60.0)
