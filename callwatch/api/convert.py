"""Lenient scalar conversions for the vendor's drifting JSON types.

Each function returns ``None`` for a value it cannot read instead of raising:
a single odd field must not hide a whole task.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, datetime, timedelta, timezone

# The task APIs send zone-less "yyyy-MM-dd HH:mm:ss"; the spec reads them as UTC+8.
API_TZ = timezone(timedelta(hours=8), "UTC+8")
LOCAL_DT_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_TEXT = 10_000


def to_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        s = value.strip()
        if len(s) > 40:
            return None
        try:
            return int(s)
        except ValueError:
            f = to_float(s)
            return int(f) if f is not None else None
    return None


def to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        s = value.strip().rstrip("%").strip()
        if not s or len(s) > 40:
            return None
        try:
            f = float(s)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def to_text(value: object) -> str | None:
    """Strings stay strings (capped); numbers become text; anything else is None."""
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$", re.IGNORECASE)
_UNIT = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def to_seconds(value: object) -> float | None:
    """``"13s"`` → 13.0; plain numbers are seconds."""
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            return None
        unit = m.group(2).lower() if m.group(2) else None
        return float(m.group(1)) * _UNIT[unit]
    return to_float(value)


def to_datetime(value: object) -> datetime | None:
    """LocalDateTime (UTC+8), ISO-8601 with offset, or epoch seconds/milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return None
            secs = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(secs, UTC).astimezone(API_TZ)
        if isinstance(value, str):
            return _parse_dt_text(value) if len(value) <= 64 else None
    except (ValueError, OverflowError, OSError):
        return None
    return None


@functools.lru_cache(maxsize=4096)
def _parse_dt_text(value: str) -> datetime | None:
    """Cached: a task's times repeat in every list page (strptime was a fifth of the
    parse time of a 10,000-task cycle). ISO first: the API's ``2024-06-01 10:00:00`` is
    ISO 8601 with a space, and ``strptime`` (imported on first use, ~2 ms of start-up)
    is left for the unpadded forms it also reads (``2024-6-1 9:05:00``)."""
    s = value.strip()
    if not s or len(s) > 40:
        return None
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        try:
            dt = datetime.strptime(s, LOCAL_DT_FORMAT)
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=API_TZ)


@functools.lru_cache(maxsize=16)
def format_local_dt(dt: datetime) -> str:
    """Format for the API's LocalDateTime fields (UTC+8, no zone). Cached: a list
    pass sends its window's two times with every page (~100 pages at 10,000 tasks)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(API_TZ).strftime(LOCAL_DT_FORMAT)
