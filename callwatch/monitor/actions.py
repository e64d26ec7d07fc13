"""Cancel and suspend: one request per task, outcomes in words, an audit line per action.

Shared by the one-shot commands and the monitor. The API answers one code for a whole
id list, so each task is sent alone: a finished task's refusal then names that task and
does not hide the others' success.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from callwatch.api.client import ApiClient
from callwatch.api.models import JobState
from callwatch.errors import ApiTimeoutError, CallwatchError, StateRefusedError
from callwatch.store.audit import AuditLog
from callwatch.textsafe import sanitize

# Only these states can be cancelled or suspended (the API answers -54 for the others).
ACTIONABLE = frozenset({JobState.WAITING, JobState.SUBMITTING, JobState.CALLING})
DISABLED_HINT = ("actions are disabled (read-only): start callwatch with --allow-actions, "
                 "or set actions = true in the profile ([profiles.NAME] in config.toml)")
NO_RESUME = "No resume call is documented: a suspended task cannot be resumed from here."
_MARGIN = 1.0


class Action(enum.Enum):
    CANCEL = "cancel"
    SUSPEND = "suspend"

    @property
    def target(self) -> JobState:
        return JobState.CANCELLED if self is Action.CANCEL else JobState.SUSPENDED

    @property
    def done(self) -> str:
        """The outcome word of a task the action was applied to."""
        return self.target.label


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task. ``outcome``: the action's word (``cancelled`` /
    ``suspended``), ``already`` (refused, but the task is in that state: done before),
    ``refused`` (the API said no) or ``failed`` (no usable answer)."""

    job_id: int
    action: Action
    outcome: str
    error: CallwatchError | None = None
    state: JobState | None = None  # the task's state read after a refusal

    @property
    def ok(self) -> bool:
        return self.error is None or self.outcome == "already"

    @property
    def code(self) -> int | None:
        return getattr(self.error, "code", None)

    @property
    def message(self) -> str | None:
        return self.error.message if self.error is not None else None

    def words(self) -> str:
        """For a toast or a terminal line (terminal-safe)."""
        if self.outcome == self.action.done:
            return f"#{self.job_id} {self.outcome}"
        if self.outcome == "already":
            return f"#{self.job_id} is already {self.action.done} (the API answered -54)"
        state = f"; it is {self.state.label}" if self.state is not None else ""
        why = "" if self.outcome == "refused" else " (no usable answer)"
        return (f"#{self.job_id} not {self.action.done}{why}: "
                f"{sanitize(self.message or '')}{state}")

    def entry(self) -> dict[str, object]:
        """The JSON object of ``--json`` and of the audit line's results."""
        return {"jobId": self.job_id, "action": self.action.value, "outcome": self.outcome,
                "ok": self.ok, "code": self.code,
                "kind": self.error.kind if self.error is not None else None,
                "message": self.message,
                "state": self.state.slug if self.state is not None else None}


@dataclass(frozen=True)
class AccountLabel:
    """Who acted on which account, as the audit log names it (never key or secret)."""

    profile: str | None
    brand: str
    base_url: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


async def _one(client: ApiClient, action: Action, job_id: int,
               deadline: float) -> TaskOutcome:
    send = client.cancel if action is Action.CANCEL else client.suspend
    try:
        async with asyncio.timeout(deadline + _MARGIN):
            await send([job_id], deadline=deadline)
    except TimeoutError:
        error: CallwatchError = ApiTimeoutError(
            f"no answer from {client.base_url} within {deadline:g} s")
        return TaskOutcome(job_id, action, "failed", error)
    except CallwatchError as exc:
        error = exc
    else:
        return TaskOutcome(job_id, action, action.done)
    # A redacted copy: the message may echo what the API was sent.
    error.message = sanitize(client.redact(error.message), 300)
    error.args = (error.message,)
    if not isinstance(error, StateRefusedError):
        refused = error.kind not in ("transport", "timeout", "network", "http_status",
                                     "bad_response")
        return TaskOutcome(job_id, action, "refused" if refused else "failed", error)
    # Refused for its state: read it, to say which (and whether it was done already, by
    # someone else or by an earlier try of this very request whose answer was lost).
    state: JobState | None = None
    try:
        async with asyncio.timeout(deadline + _MARGIN):
            state = (await client.detail(job_id, deadline=deadline)).state
    except (TimeoutError, CallwatchError):
        pass
    outcome = "already" if state is action.target else "refused"
    return TaskOutcome(job_id, action, outcome, error, state)


async def perform(client: ApiClient, action: Action, job_ids: Sequence[int],
                  account: AccountLabel, audit: AuditLog, *,
                  deadline: float = 25.0) -> tuple[list[TaskOutcome], str | None]:
    """Apply ``action`` to each task (concurrently, capped by the client), then append
    one audit line. Returns the outcomes in ``job_ids`` order (duplicates once) and a
    warning when the audit line could not be written."""
    ids = list(dict.fromkeys(int(j) for j in job_ids))
    started = datetime.now().astimezone()
    outcomes = list(await asyncio.gather(*(_one(client, action, j, deadline) for j in ids)))
    record = {
        "time": started.isoformat(timespec="seconds"),
        "profile": account.profile,
        "brand": account.brand,
        "host": sanitize(account.host),
        "action": action.value,
        "ids": ids,
        "results": [o.entry() for o in outcomes],
    }
    return outcomes, audit.append(record)
