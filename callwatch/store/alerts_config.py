"""``[alerts]`` and ``[[alerts.rules]]`` of ``config.toml``: read-only (the in-place
writer never touches them; ``callwatch`` does not write alert settings).

Like the rest of the file, a bad value never crashes: it is ignored with a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

EVENTS = ("finished", "failed", "stalled", "resumed", "fail_rate", "balance_low",
          "api_problem", "recovered")


@dataclass(frozen=True)
class AlertRule:
    """On any of ``on``: run ``exec`` (argv, no shell) and/or POST to ``webhook``."""

    on: frozenset[str]
    exec: tuple[str, ...] = ()
    webhook: str | None = None


@dataclass(frozen=True)
class AlertSettings:
    stall_minutes: float = 5.0  # calling with no new calls this long: stalled
    fail_rate: float = 60.0  # percent of calls failed...
    min_calls: int = 200  # ...once at least this many were made
    balance_below: float | None = None  # None: no balance_low event
    problem_minutes: float = 3.0  # an account-wide problem this long: api_problem
    desktop: bool = True  # notify-send, when there is one
    rules: tuple[AlertRule, ...] = ()


def _number(raw: Mapping[str, Any], key: str, default: float | None, lo: float,
            where: str, warnings: list[str]) -> float | None:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < lo:
        warnings.append(f"{where}: {key} must be a number of at least {lo:g}; ignored")
        return default
    return float(value)


def _rule(raw: object, where: str, warnings: list[str]) -> AlertRule | None:
    if not isinstance(raw, Mapping):
        warnings.append(f"{where} is not a table; ignored")
        return None
    on = raw.get("on")
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list) or not on or not all(isinstance(e, str) for e in on):
        warnings.append(f"{where}: on must be a list of events; rule ignored")
        return None
    unknown = [e for e in on if e not in EVENTS]
    if unknown:
        warnings.append(f"{where}: unknown event {unknown[0]!r} (events: "
                        f"{', '.join(EVENTS)}); ignored")
    events = frozenset(e for e in on if e in EVENTS)
    argv = _exec(raw.get("exec"), where, warnings)
    webhook = _webhook(raw.get("webhook"), where, warnings)
    if not events or (not argv and webhook is None):
        warnings.append(f"{where}: a rule needs known events and exec or webhook; ignored")
        return None
    return AlertRule(events, argv, webhook)


def _exec(value: object, where: str, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    try:
        if isinstance(value, str):
            import shlex  # only for a rule that has a command line

            return tuple(shlex.split(value))
        if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
            return tuple(value)
    except ValueError as exc:
        warnings.append(f"{where}: exec cannot be split ({exc}); ignored")
        return ()
    warnings.append(f"{where}: exec must be a command line or a list of arguments; ignored")
    return ()


def _webhook(value: object, where: str, warnings: list[str]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        warnings.append(f"{where}: webhook must be an http(s):// URL; ignored")
        return None
    return str(value)


def parse_alerts(data: Mapping[str, Any], where: str, warnings: list[str]) -> AlertSettings:
    raw = data.get("alerts", {})
    if not isinstance(raw, Mapping):
        warnings.append(f"{where}: [alerts] is not a table; ignored")
        return AlertSettings()
    place = f"{where} [alerts]"
    d = AlertSettings()
    stall = _number(raw, "stall_minutes", d.stall_minutes, 0.001, place, warnings)
    rate = _number(raw, "fail_rate", d.fail_rate, 0.0, place, warnings)
    calls = _number(raw, "min_calls", d.min_calls, 1, place, warnings)
    below = _number(raw, "balance_below", None, 0.0, place, warnings)
    problem = _number(raw, "problem_minutes", d.problem_minutes, 0.0, place, warnings)
    desktop = raw.get("desktop", True)
    if not isinstance(desktop, bool):
        warnings.append(f"{place}: desktop must be true or false; ignored")
        desktop = True
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        warnings.append(f"{place}: rules must be [[alerts.rules]] tables; ignored")
        rules_raw = []
    rules = [_rule(r, f"{where} [[alerts.rules]] #{i + 1}", warnings)
             for i, r in enumerate(rules_raw)]
    assert stall is not None and rate is not None and calls is not None
    assert problem is not None
    return AlertSettings(stall, min(rate, 100.0), int(calls), below, problem, desktop,
                         tuple(r for r in rules if r is not None))
