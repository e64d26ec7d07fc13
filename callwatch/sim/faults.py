"""Deterministic fault injection for the simulator (same seed, same faults)."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class Fault(enum.Enum):
    NONE = "none"
    HTTP_503 = "http_503"
    SLOW = "slow"
    DROP = "drop"  # connection closed mid-response
    MALFORMED = "malformed"  # 200 with a body that is not JSON
    TRUNCATED = "truncated"  # 200 with JSON cut short
    RATE_LIMIT = "rate_limit"  # -15
    INTERNAL = "internal"  # -18


class TaskFault(enum.Enum):
    """How one task's detail request fails, for every request until cleared."""

    NONE = "none"  # clears the fault
    HANG = "hang"  # never answers (until the client gives up or the server stops)
    HTTP_502 = "http_502"  # a proxy's HTML 502 page
    TRUNCATED = "truncated"  # 200 with the real JSON cut short
    WRONG_SHAPE = "wrong_shape"  # 200 with a JSON list instead of an object
    NOT_FOUND = "not_found"  # the API's -24 for that task


TASK_FAULTS = tuple(f.value for f in TaskFault)
# A hung request waits this long at most: far beyond any client timeout.
HANG_SECONDS = 3600.0


@dataclass(frozen=True)
class ListLie:
    """The list endpoint lies about its size: claims ``pages`` pages of
    ``records_per_page`` while serving at most that many records per page; ``fill``
    is "repeat" (the first records on every page) or "real" (the real records, then
    empty pages)."""

    pages: int = 1_000_000_000
    records_per_page: int = 3
    fill: str = "repeat"


LIST_FILLS = ("repeat", "real")

PROFILES = ("none", "flaky", "chaos")

# Probability of each fault per request, by profile.
_TABLE: dict[str, list[tuple[Fault, float]]] = {
    "none": [],
    "flaky": [(Fault.HTTP_503, 0.05), (Fault.SLOW, 0.05), (Fault.DROP, 0.03)],
    "chaos": [
        (Fault.HTTP_503, 0.05), (Fault.SLOW, 0.04), (Fault.DROP, 0.03),
        (Fault.MALFORMED, 0.03), (Fault.TRUNCATED, 0.03), (Fault.RATE_LIMIT, 0.04),
        (Fault.INTERNAL, 0.03),
    ],
}
# chaos: in every block of this many requests, the last quarter sees a skewed clock.
SKEW_BLOCK = 400
SKEW_SECONDS = 900.0
# A scripted SLOW fault waits this long: longer than any client read timeout.
SCRIPTED_SLOW_DELAY = 12.0


@dataclass
class Decision:
    fault: Fault
    delay: float = 0.0
    skew: float = 0.0


class FaultPlan:
    def __init__(self, profile: str = "none", seed: int = 0) -> None:
        self.set_profile(profile)
        self._rng = random.Random(seed)
        self._count = 0
        self._script: list[Fault] = []
        self._then: Fault | None = None
        self.slow_delay = SCRIPTED_SLOW_DELAY  # scripted SLOW faults wait this long

    def script(self, faults: list[Fault], then: Fault | None = None) -> None:
        """Tests: serve these faults in order, then ``then`` forever (None: the profile)."""
        self._script = list(faults)
        self._then = then

    @property
    def profile(self) -> str:
        return self._profile

    def set_profile(self, profile: str) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown fault profile {profile!r}; choose one of {PROFILES}")
        self._profile = profile

    def _scripted(self, fault: Fault) -> Decision:
        # Without a delay a scripted SLOW fault would answer at once: no fault at all.
        return Decision(fault, self.slow_delay if fault is Fault.SLOW else 0.0)

    def decide(self) -> Decision:
        """Draw the fault for the next request."""
        self._count += 1
        if self._script:
            return self._scripted(self._script.pop(0))
        if self._then is not None:
            return self._scripted(self._then)
        roll = self._rng.random()
        delay_roll = self._rng.random()
        skew = 0.0
        if self._profile == "chaos" and (self._count % SKEW_BLOCK) >= SKEW_BLOCK * 3 // 4:
            skew = SKEW_SECONDS
        acc = 0.0
        for fault, p in _TABLE[self._profile]:
            acc += p
            if roll < acc:
                delay = 0.0
                if fault is Fault.SLOW:
                    # Mostly slow-but-fine; one in five longer than a client's read timeout.
                    delay = 1.0 + 2.0 * delay_roll if delay_roll < 0.8 else 12.0
                return Decision(fault, delay, skew)
        return Decision(Fault.NONE, 0.0, skew)
