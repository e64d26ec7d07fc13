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


def test_record_is_add_then_throughput_whatever_arrives() -> None:
    """``record`` does both in one body (the hot path): for any sequence, including
    missing and hostile values and irregular times, it answers as the two steps do."""
    import random

    rnd = random.Random(7)
    for _ in range(100):
        one, two = History(), History()
        at, count = 0.0, 0
        for _ in range(150):
            at += rnd.choice([0.5, 1.0, 2.0, 5.0, 30.0])
            count += rnd.choice([0, 1, 5, 100])
            called = rnd.choice([count, count, None, -5, 2**40])
            progress = rnd.choice([50.0, None, float("nan"), 150.0, 3.25])
            calling = rnd.random() < 0.8
            got = one.record(at, called, progress, calling)
            if called is not None:
                two.add(at, called, progress)
            assert got == (two.throughput() if calling else None)
        assert one.progress_series() == two.progress_series() and len(one) == len(two)


def test_a_short_history_shows_only_its_samples() -> None:
    h = History()
    assert len(h) == 0 and h.progress_series() == ()
    for n in range(3):
        h.add(float(n), n, 10.0 * n)
    assert len(h) == 3 and h.progress_series() == (0.0, 10.0, 20.0)
