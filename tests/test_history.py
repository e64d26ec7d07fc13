"""Per-task history: ring buffers of numbers, a sliding throughput window, bounded size."""

from __future__ import annotations

import sys

from callwatch.monitor.history import HISTORY_POINTS, History, eta_seconds


def test_throughput_is_calls_per_minute_over_the_last_minute() -> None:
    h = History()
    assert h.throughput() is None
    for t in range(10):  # 2 s apart, 10 calls each time: 300 calls a minute
        h.add(2.0 * t, 10 * t, t)
    assert h.throughput() == 300.0
    for t in range(10, 100):  # then the rate halves; a minute later only that counts
        h.add(2.0 * t, 90 + 5 * (t - 9), t)
    assert h.throughput() == 150.0
    assert len(h) == HISTORY_POINTS  # bounded


def test_too_short_a_span_gives_no_rate_and_a_stall_gives_zero() -> None:
    h = History()
    h.add(0.0, 5, 1.0)
    h.add(1.0, 6, 1.0)
    assert h.throughput() is None  # 1 s: noise
    for t in range(2, 80):
        h.add(float(t), 6, 1.0)
    assert h.throughput() == 0.0
    assert eta_seconds(100, 0.0) is None and eta_seconds(100, 60.0) == 100.0


def test_series_is_oldest_first_after_the_ring_wraps() -> None:
    h = History()
    for n in range(HISTORY_POINTS + 10):
        h.add(float(n), n, n % 100)
    series = h.progress_series()
    assert len(series) == HISTORY_POINTS
    assert series[0] == 10 and series[-1] == (HISTORY_POINTS + 9) % 100


def test_hostile_numbers_are_clamped_and_a_full_history_is_small() -> None:
    h = History()
    for n in range(HISTORY_POINTS * 3):
        h.add(float(n), 10**30 if n % 2 else -5, 1e9)
    assert max(h.progress_series()) == 100.0
    size = sum(sys.getsizeof(b) for b in (h._at, h._called, h._progress)) + sys.getsizeof(h)
    assert size < 1200, size  # ~1 KB a task (the object version held ~16 KB)
