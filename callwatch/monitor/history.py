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
_FLOATS = array("f", bytes(4 * HISTORY_POINTS))
_INTS = array("i", bytes(4 * HISTORY_POINTS))


class History:
    """Sample ``n`` (counting from 0) lives at ``n % HISTORY_POINTS``."""

    __slots__ = ("_at", "_base", "_called", "_count", "_progress", "_window")

    def __init__(self) -> None:
        self._base: float | None = None  # times are stored as float32 offsets from this
        # Full size from the start, copied from a template: every sample is stored in
        # place (one path for the hot ``record``), and no buffer is reallocated as the
        # samples arrive. The same ~0.8 KB a task as a full history.
        self._at = array("f", _FLOATS)
        self._called = array("i", _INTS)
        self._progress = array("f", _FLOATS)
        self._count = 0  # samples ever added
        self._window = 0  # the oldest sample inside the throughput window (it only moves on)

    def __len__(self) -> int:
        return min(self._count, HISTORY_POINTS)

    def add(self, at: float, called: int | None, progress: float | None) -> None:
        self.record(at, called, progress, False)

    def throughput(self) -> float | None:
        """Calls per minute over the last minute of samples (amortised O(1): the
        window's start only moves forward)."""
        n = self._count
        if n < 2:
            return None
        newest = (n - 1) % HISTORY_POINTS
        at, t_new = self._at, self._at[newest]
        w = max(self._window, n - HISTORY_POINTS)  # samples before were overwritten
        while w < n - 1 and t_new - at[w % HISTORY_POINTS] > THROUGHPUT_WINDOW:
            w += 1
        self._window = w
        oldest = w % HISTORY_POINTS
        span = t_new - at[oldest]
        if span < MIN_SPAN:
            return None
        return max(0.0, (self._called[newest] - self._called[oldest]) / span * 60.0)

    def record(self, at: float, called: int | None, progress: float | None,
               calling: bool) -> float | None:
        """Add a sample (when there is a count), then the calls per minute when the task
        is calling (else None): the monitor's one call per changed task per cycle. The
        rate is ``throughput()``'s, written out here: at 10,000 tasks the call and its
        attribute loads were a third of this method's cost (~3 ms a cycle)."""
        if called is None:
            return self.throughput() if calling else None
        base = self._base
        if base is None:
            base = self._base = at
        if not 0 <= called <= _MAX_CALLED:
            called = max(0, min(_MAX_CALLED, called))
        if progress is None or not 0.0 <= progress <= 100.0:  # NaN too
            progress = min(100.0, max(0.0, progress or 0.0))
        n = self._count
        i = n % HISTORY_POINTS
        times, calls = self._at, self._called
        times[i] = at - base
        calls[i] = called
        self._progress[i] = progress
        n += 1
        self._count = n
        if not calling or n < 2:
            return None
        t_new = times[i]  # as stored (float32), like throughput()
        w = self._window
        if w < n - HISTORY_POINTS:
            w = n - HISTORY_POINTS
        while w < n - 1 and t_new - times[w % HISTORY_POINTS] > THROUGHPUT_WINDOW:
            w += 1
        self._window = w
        oldest = w % HISTORY_POINTS
        span = t_new - times[oldest]
        if span < MIN_SPAN:
            return None
        rate = (called - calls[oldest]) / span * 60.0
        return rate if rate > 0.0 else 0.0

    def progress_series(self) -> tuple[float, ...]:
        n, buf = self._count, self._progress
        if n <= HISTORY_POINTS:
            return tuple(buf[:n])
        i = n % HISTORY_POINTS
        return (*buf[i:], *buf[:i])


def eta_seconds(remaining: int | None, per_minute: float | None) -> float | None:
    if remaining is None or per_minute is None or per_minute <= 0:
        return None
    return max(0.0, remaining / per_minute * 60.0)
