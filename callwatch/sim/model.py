"""Simulated tasks: a time-driven state machine with consistent counters.

A task's counters are a pure function of the simulated time, so reading 10,000
tasks costs no background work and any instant can be reproduced in a test.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callwatch.api.convert import API_TZ, LOCAL_DT_FORMAT
from callwatch.api.states import FINISHED_CODES, JobState

# The wire's status codes, named from the one map of states (callwatch/api/states.py).
_CODES: list[int] = [s.value for s in JobState if s is not JobState.UNKNOWN]
WAITING, CALLING, COMPLETED, SUBMIT_FAILED, CANCELLED, SUSPENDED, SUBMITTING = _CODES
FINISHED = tuple(sorted(FINISHED_CODES))


def fmt(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).astimezone(API_TZ).strftime(LOCAL_DT_FORMAT)


@dataclass
class SimJob:
    job_id: int
    name: str
    created: float  # sim epoch seconds
    num_cnt: int
    start: float  # calling starts (end of waiting)
    dial_rate: float  # numbers dialled per second while calling
    answer_ratio: float
    talk_seconds: int  # average talk time of an answered call
    submit_seconds: float = 3.0
    submit_fails: bool = False
    text: str | None = "Hello, this is a reminder of your appointment tomorrow."
    app_id: str = "4luaKsL2"
    country_code: str = "91"
    display_num: str = "1008122211"
    lan: str | None = "EN"
    # Frozen by an action (cancel / suspend) at this sim time, with the resulting status.
    stopped_at: float | None = None
    stopped_status: int | None = None
    # The account ran out of money at this sim time: no dialling after it (sim/wallet.py).
    frozen_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> float:
        return self.created + self.submit_seconds

    @property
    def end(self) -> float:
        return self.start + self.num_cnt / self.dial_rate

    def called_at(self, t: float) -> int:
        if self.submit_fails:
            return 0
        if self.stopped_at is not None:
            t = min(t, self.stopped_at)
        if self.frozen_at is not None:
            t = min(t, self.frozen_at)
        if t <= self.start:
            return 0
        return min(self.num_cnt, int((t - self.start) * self.dial_rate))

    def status_at(self, t: float) -> int:
        if self.stopped_at is not None and t >= self.stopped_at:
            assert self.stopped_status is not None
            return self.stopped_status
        if t < self.submitted:
            return SUBMITTING
        if self.submit_fails:
            return SUBMIT_FAILED
        if t < self.start:
            return WAITING
        if self.called_at(t) >= self.num_cnt:
            return COMPLETED
        return CALLING

    def counters(self, t: float) -> dict[str, Any]:
        called = self.called_at(t)
        success = int(called * self.answer_ratio)
        fail = called - success
        talk = success * self.talk_seconds
        status = self.status_at(t)
        if called:
            last_change = self.start + called / self.dial_rate
        elif status == SUBMIT_FAILED:
            last_change = self.submitted
        else:
            last_change = self.created
        if self.stopped_at is not None and t >= self.stopped_at:
            last_change = self.stopped_at
        finish = None
        if status == COMPLETED:
            finish = self.end
        elif status in (CANCELLED, SUBMIT_FAILED):
            finish = last_change
        return {
            "status": status,
            "called": called,
            "success": success,
            "fail": fail,
            "talk": talk,
            "mdf": last_change,
            "finish": finish,
        }

    def list_record(self, t: float, id_key: str) -> dict[str, Any]:
        c = self.counters(t)
        return {
            id_key: self.job_id,
            "taskName": self.name,
            "status": c["status"],
            "rate": _rate(c["called"], self.num_cnt),
            "numCnt": self.num_cnt,
            "callNum": c["called"],
            "success": c["success"],
            "fail": c["fail"],
            "createdTime": fmt(self.created),
        }

    def detail_record(self, t: float, id_key: str) -> dict[str, Any]:
        c = self.counters(t)
        called, success = c["called"], c["success"]
        # Billing in 20 s blocks, as the vendor's "20+20" bill period.
        charge = success * (math.ceil(self.talk_seconds / 20) * 20)
        return {
            id_key: self.job_id,
            "taskName": self.name,
            "displayNum": self.display_num,
            "text": self.text,
            "status": c["status"],
            "rate": _rate(called, self.num_cnt),
            "numCnt": self.num_cnt,
            "chargeLen": charge,
            "success": success,
            "fail": c["fail"],
            "toseatNum": 0,
            "successRate": f"{100 * success / called:.2f}" if called else "0",
            "toseatNumRate": "0",
            "sendTime": fmt(self.start),
            "createdTime": fmt(self.created),
            "mdfTime": fmt(c["mdf"]),
            "appId": self.app_id,
            "source": 3 if self.text is not None else 1,
            "calloutRate": 1,
            "finishTime": fmt(c["finish"]),
            "keyFeedbackNum": success // 5,
            "callLossNum": 0,
            "callDuration": c["talk"],
            "callLossNumRate": "0",
            "voiceFileId": None if self.text is not None else f"{self.job_id}a1b2c3.mp3",
            "code": self.country_code,
            "maxCalls": 40,
            "loopCount": 1,
            "lan": self.lan,
            "allCallToseatNum": 0,
            # Unanswered numbers get one redial, so attempts exceed numbers dialled.
            "callTotal": called + c["fail"] // 10,
            "acd": f"{c['talk'] // success}s" if success else "0s",
            "sipGroupName": "",
            "receivedSeatNum": 0,
            "onineSeatNum": 0,
            "uploadName": None,
            "baseFile": None,
            "maxRingingTime": 60,
        }


def _rate(called: int, total: int) -> str:
    if total <= 0:
        return "0"
    pct = 100.0 * called / total
    return str(int(pct)) if pct.is_integer() else f"{pct:.1f}"


_NAMES = [
    "june-promo", "payment-reminder", "appointment-confirm", "survey-wave", "otp-fallback",
    "renewal-notice", "delivery-update", "event-invite", "debt-collection", "welcome-call",
    "service-outage", "loyalty-bonus", "flash-sale", "insurance-renewal", "school-notice",
]


def demo_jobs(now: float, count: int, rng: random.Random, first_id: int = 5000600) -> list[SimJob]:
    """A realistic mix: the first twelve show every state and move within seconds;
    the rest are long-lived (so a large sim stays a load target for minutes)."""
    jobs: list[SimJob] = []
    for i in range(count):
        jid = first_id + i
        name = f"{_NAMES[i % len(_NAMES)]}-{i + 1:02d}" if i < 12 else f"bulk-{jid}"
        created = now - rng.uniform(600, 7200)
        base = dict(job_id=jid, name=name, created=created,
                    answer_ratio=rng.uniform(0.35, 0.8), talk_seconds=rng.randint(8, 45),
                    lan=rng.choice(["EN", "ES", "IN", "VN"]),
                    country_code=rng.choice(["91", "63", "84", "52"]))
        if i < 12:
            job = _demo_job(i, now, rng, base)
        else:
            job = _bulk_job(now, rng, base)
        jobs.append(job)
    return jobs


def _demo_job(i: int, now: float, rng: random.Random, base: dict[str, Any]) -> SimJob:
    kind = i % 12
    created = float(base["created"])
    if kind in (0, 1, 2, 3):  # calling, visibly moving; one finishes within ~a minute
        total = [240, 1200, 5000, 900][kind]
        rate = [4.0, 3.0, 6.0, 1.5][kind]
        start = now - total / rate * [0.8, 0.3, 0.1, 0.5][kind]
        return SimJob(num_cnt=total, start=start, dial_rate=rate, **base)
    if kind == 4:  # completed
        return SimJob(num_cnt=800, start=created + 60, dial_rate=2.0, **base)
    if kind == 5:  # submission failed
        return SimJob(num_cnt=300, start=created + 60, dial_rate=2.0, submit_fails=True, **base)
    if kind == 6:  # cancelled mid-way
        job = SimJob(num_cnt=2000, start=now - 900, dial_rate=1.0, **base)
        job.stopped_at, job.stopped_status = now - 400, CANCELLED
        return job
    if kind == 7:  # suspended mid-way
        job = SimJob(num_cnt=3000, start=now - 600, dial_rate=2.0, **base)
        job.stopped_at, job.stopped_status = now - 200, SUSPENDED
        return job
    if kind == 8:  # waiting, starts calling in ~20 s
        return SimJob(num_cnt=600, start=now + 20, dial_rate=5.0, **base)
    if kind == 9:  # submitting, then waiting, then calling
        base["created"] = now - 1
        return SimJob(num_cnt=400, start=now + 15, dial_rate=3.0, submit_seconds=8.0, **base)
    if kind == 10:  # scheduled for later today
        return SimJob(num_cnt=10000, start=now + 3 * 3600, dial_rate=8.0, **base)
    return SimJob(num_cnt=150_000, start=now - 1800, dial_rate=20.0, **base)  # big, running


def _bulk_job(now: float, rng: random.Random, base: dict[str, Any]) -> SimJob:
    roll = rng.random()
    created = float(base["created"])
    if roll < 0.03:
        return SimJob(num_cnt=rng.randint(100, 2000), start=created + 60, dial_rate=5.0, **base)
    if roll < 0.05:
        return SimJob(num_cnt=500, start=created + 60, dial_rate=2.0, submit_fails=True, **base)
    if roll < 0.06:
        job = SimJob(num_cnt=2000, start=now - 600, dial_rate=1.0, **base)
        job.stopped_at, job.stopped_status = now - 300, rng.choice([CANCELLED, SUSPENDED])
        return job
    total = rng.randint(5_000, 100_000)
    # At most one sixth done per 5 minutes: a large sim stays "active" for a long time.
    rate = rng.uniform(total / 7200, total / 1800)
    if roll < 0.2:
        return SimJob(num_cnt=total, start=now + rng.uniform(60, 3600), dial_rate=rate, **base)
    return SimJob(num_cnt=total, start=now - rng.uniform(0, 0.5) * total / rate,
                  dial_rate=rate, **base)


class SimClock:
    """Simulated time: ``origin + (real - real_origin) * speed``, with a manual offset.

    Tests pass their own ``real`` function (or call :meth:`advance`) to step time.
    """

    def __init__(self, real: Callable[[], float], speed: float = 1.0) -> None:
        self._real = real
        self._real0 = real()
        self._origin = self._real0
        self.speed = speed
        self._manual = 0.0

    def now(self) -> float:
        return self._origin + (self._real() - self._real0) * self.speed + self._manual

    def advance(self, seconds: float) -> None:
        self._manual += seconds

    @property
    def offset(self) -> float:
        """Seconds added by :meth:`advance` so far."""
        return self._manual

    def set_speed(self, speed: float) -> None:
        """Change speed from now on without a jump in simulated time."""
        now = self.now() - self._manual
        self._real0 = self._real()
        self._origin = now
        self.speed = speed


def search_match(job: SimJob, needle: str) -> bool:
    n = needle.lower()
    return n in job.name.lower() or (job.text is not None and n in job.text.lower())
