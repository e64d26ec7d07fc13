"""The simulated account balance: billed minutes are charged as tasks progress, and an
empty account stops every calling task where it stands (still "calling", no progress),
as the real platform does.

Counters stay pure functions of simulated time: the wallet only sets a job's
``frozen_at`` (no dialling after it) and, on a top-up, moves its start later by the
time it stood still. A limited wallet settles before every API request, so that no
answer ever shows progress a later answer would take back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from callwatch.sim.model import CALLING, FINISHED, SimJob

PLENTY = 10_000.0  # the default balance: a demo or a test session never spends it
PRICE_PER_MINUTE = 0.01  # charged per billed minute (20 s blocks, as chargeLen)
BALANCE_CODES = (0, -1, -2, -13, -16, -18)  # what the balance call may be scripted to say


def billed_cost(job: SimJob, t: float) -> float:
    """What ``job`` has cost by sim time ``t``."""
    answered = int(job.called_at(t) * job.answer_ratio)
    billed_seconds = answered * math.ceil(job.talk_seconds / 20) * 20
    return billed_seconds / 60.0 * PRICE_PER_MINUTE


def total_cost(jobs: Iterable[SimJob], t: float) -> float:
    return sum(billed_cost(j, t) for j in jobs)


class Wallet:
    """``limited``: the balance was given (``--balance``); otherwise it is plenty and
    only reported (computed when asked, so a 10,000-task sim pays nothing per request)."""

    def __init__(self, amount: float | None, now: float) -> None:
        self.limited = amount is not None
        self.amount = PLENTY if amount is None else amount  # the balance at ``self.at``
        self.at = now
        self.cost_at = 0.0  # total cost of every job at ``self.at``
        self.gift = 0.0
        self.credit = 0.0
        self.code = 0  # a scripted answer code of the balance call (tests)
        self.empty_since: float | None = None
        self._started = False

    def balance(self, jobs: Iterable[SimJob], now: float) -> float:
        if self.limited:
            self.settle(list(jobs), now)
            return max(0.0, self.amount)
        jobs = list(jobs)
        self._start(jobs)
        return max(0.0, self.amount - (total_cost(jobs, now) - self.cost_at))

    def _start(self, jobs: list[SimJob]) -> None:
        if not self._started:  # money spent before the sim started is not charged
            self._started = True
            self.cost_at = total_cost(jobs, self.at)

    def settle(self, jobs: list[SimJob], now: float) -> None:
        """Charge what was spent since the last settle; stop dialling when it runs out."""
        if not self.limited:
            return
        self._start(jobs)
        if now > self.at and self.empty_since is None:
            cost = total_cost(jobs, now)
            spent = cost - self.cost_at
            if spent < self.amount:
                self.amount -= spent
                self.at, self.cost_at = now, cost
                return
            cutoff = self._cutoff(jobs, now)
            self.amount -= total_cost(jobs, cutoff) - self.cost_at
            self.empty_since = cutoff
        if self.empty_since is not None:
            self._freeze(jobs, now)
            self.at, self.cost_at = now, total_cost(jobs, now)

    def _cutoff(self, jobs: list[SimJob], now: float) -> float:
        """The sim time the balance ran out (cost is monotonic: bisect to 1 ms)."""
        lo, hi = self.at, now
        while hi - lo > 1e-3:
            mid = (lo + hi) / 2
            if total_cost(jobs, mid) - self.cost_at >= self.amount:
                hi = mid
            else:
                lo = mid
        return hi

    def _freeze(self, jobs: list[SimJob], now: float) -> None:
        assert self.empty_since is not None
        for job in jobs:
            if job.frozen_at is not None or job.stopped_at is not None or job.start > now:
                continue
            at = max(self.empty_since, job.start)
            if job.status_at(at) not in FINISHED:
                job.frozen_at = at

    def top_up(self, jobs: list[SimJob], now: float, amount: float) -> None:
        """Add money (``amount`` may set the balance when the caller computed it); frozen
        tasks dial again from where they stood."""
        self.settle(jobs, now)
        self.amount = max(0.0, self.amount) + amount
        self.at, self.cost_at = now, total_cost(jobs, now)
        if self.amount <= 0:  # set to nothing: the tasks stop now
            if self.limited and self.empty_since is None:
                self.empty_since = now
                self._freeze(jobs, now)
        elif self.empty_since is not None:
            self.empty_since = None
            for job in jobs:
                if job.frozen_at is not None:
                    job.start += now - job.frozen_at
                    job.frozen_at = None

    def set_balance(self, jobs: list[SimJob], now: float, value: float) -> None:
        """Set the balance; from now on it is limited (it can run out)."""
        if not self.limited:
            self.amount = self.balance(jobs, now)
            self.limited = True
            self.at, self.cost_at = now, total_cost(jobs, now)
        self.settle(jobs, now)
        self.top_up(jobs, now, value - max(0.0, self.amount))

    def calling(self, jobs: Iterable[SimJob], now: float) -> int:
        """Tasks standing still for lack of money (for the control endpoint)."""
        return sum(1 for j in jobs if j.frozen_at is not None and j.status_at(now) == CALLING)
