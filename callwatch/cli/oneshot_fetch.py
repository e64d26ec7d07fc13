"""Talking to the API for the one-shot commands: client setup and concurrent reads."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.models import Job
from callwatch.cli.common import EXIT_API, EXIT_AUTH, EXIT_NETWORK, EXIT_OK, exit_code_for
from callwatch.errors import ApiTimeoutError, CallwatchError, ConfigError
from callwatch.store.resolve import Connection

TIMEOUT_ENV = "CALLWATCH_TIMEOUT"
# One call, retries included, ends within this; the whole command adds a small margin.
DEFAULT_REQUEST_TIMEOUT = RetryPolicy().deadline
_MARGIN = 1.0

Outcome = Job | CallwatchError


def request_timeout(value: float | None) -> float:
    """The per-request budget: ``--request-timeout``, else env CALLWATCH_TIMEOUT, else 25 s."""
    if value is None:
        raw = os.environ.get(TIMEOUT_ENV, "").strip()
        if not raw:
            return DEFAULT_REQUEST_TIMEOUT
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not 0 < value <= 300:
        raise ConfigError(f"request timeout {value:g} s is out of range (0 < s <= 300)")
    return value


def make_client(conn: Connection, deadline: float) -> ApiClient:
    """A client whose every call (retries included) ends within ``deadline`` seconds."""
    timeouts = Timeouts(connect=min(5.0, deadline), read=min(10.0, deadline),
                        write=min(5.0, deadline), pool=min(5.0, deadline))
    return ApiClient(conn.credentials, conn.brand, conn.base_url, timeouts=timeouts,
                     retry=RetryPolicy(deadline=deadline))


async def fetch_details(client: ApiClient, job_ids: Sequence[int],
                        deadline: float) -> dict[int, Outcome]:
    """Each distinct task's detail, fetched once and concurrently (the client caps it).

    A task's failure becomes its outcome; it never hides the others. Every outcome is
    known within ``deadline`` plus a small margin, queueing included.
    """
    unique = list(dict.fromkeys(job_ids))

    async def one(job_id: int) -> Outcome:
        try:
            async with asyncio.timeout(deadline + _MARGIN):
                return await client.detail(job_id)
        except TimeoutError:
            return ApiTimeoutError(
                f"no answer from {client.base_url} within {deadline:g} s")
        except CallwatchError as exc:
            return exc

    results = await asyncio.gather(*(one(i) for i in unique))
    return dict(zip(unique, results, strict=True))


_SEVERITY = (EXIT_AUTH, EXIT_NETWORK, EXIT_API)


def worst_exit(errors: Sequence[CallwatchError]) -> int:
    """Auth beats transport beats a rejected request; no errors is 0."""
    codes = {exit_code_for(e) for e in errors}
    for code in _SEVERITY:
        if code in codes:
            return code
    return min(codes) if codes else EXIT_OK


def group_errors(outcomes: dict[int, Outcome]) -> list[tuple[list[int], CallwatchError]]:
    """Failed tasks grouped by message, so one cause is reported on one line."""
    groups: dict[str, tuple[list[int], CallwatchError]] = {}
    for job_id, outcome in outcomes.items():
        if isinstance(outcome, CallwatchError):
            groups.setdefault(outcome.message, ([], outcome))[0].append(job_id)
    return list(groups.values())
