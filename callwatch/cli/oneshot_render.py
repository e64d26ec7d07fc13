"""Rendering for the one-shot commands: table lines and JSON entries.

No Textual here: these commands must start fast and run headless.
"""

from __future__ import annotations

from typing import Any

from callwatch.api.models import Job, JobState
from callwatch.cli.output import paint, sanitize
from callwatch.errors import ApiError, CallwatchError

NAME_WIDTH = 28

# The keys every entry carries, in this order, before the other detail fields.
CORE_KEYS = ("jobId", "taskName", "status", "state", "progress", "numCnt", "callNum",
             "success", "fail", "successRate", "error")


def error_dict(error: CallwatchError) -> dict[str, Any]:
    code = error.code if isinstance(error, ApiError) else None
    return {"kind": error.kind, "code": code, "message": error.message}


def job_entry(job: Job) -> dict[str, Any]:
    """One task as JSON: the core keys, then every normalised field under its API name."""
    api = job.to_api_dict()
    entry: dict[str, Any] = {
        "jobId": job.job_id,
        "taskName": job.task_name,
        "status": job.status_code,
        "state": job.state.slug,
        "progress": _round(job.progress),
        "numCnt": job.num_cnt,
        "callNum": job.called,
        "success": job.success,
        "fail": job.fail,
        "successRate": _round(job.answer_rate),
        "error": None,
    }
    for key, value in api.items():
        entry.setdefault(key, value)
    return entry


def error_entry(job_id: int, error: CallwatchError) -> dict[str, Any]:
    """A task that could not be read: same keys as :func:`job_entry`, values null."""
    entry: dict[str, Any] = dict.fromkeys(job_entry(Job(job_id=job_id)))
    entry["jobId"] = job_id
    entry["state"] = JobState.UNKNOWN.slug
    entry["error"] = error_dict(error)
    return entry


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def state_word(state: JobState, colour: bool) -> str:
    look = state.look
    return paint(f"{look.word:<13}", look.sgr, colour)


def header() -> str:
    return (f"{'ID':>10}  {'NAME':<{NAME_WIDTH}}  {'STATE':<13}  {'PROGRESS':>8}  "
            f"{'CALLED/TOTAL':>15}  {'SUCCESS':>8}  {'FAIL':>8}")


def job_line(job: Job, colour: bool) -> str:
    name = sanitize(job.task_name or "", NAME_WIDTH)
    progress = job.progress
    pct = "-" if progress is None else f"{progress:.1f}%"
    called = f"{_num(job.called)}/{_num(job.num_cnt)}"
    return (f"{job.job_id:>10}  {name:<{NAME_WIDTH}}  {state_word(job.state, colour)}  "
            f"{pct:>8}  {called:>15}  {_num(job.success):>8}  {_num(job.fail):>8}")


def error_line(job_id: int, error: CallwatchError, colour: bool) -> str:
    word = paint(f"{'error':<13}", "1;31", colour)
    message = sanitize(error.message, 120)
    return f"{job_id:>10}  {'':<{NAME_WIDTH}}  {word}  {error.kind}: {message}"
