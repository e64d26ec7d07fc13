"""Drive a running simulator's ``/_sim/`` control endpoints from tests and scripts."""

from __future__ import annotations

from typing import Any

import httpx


class ControlRejected(Exception):
    """The simulator refused the input (HTTP 400) or does not know the endpoint."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


def control(base_url: str, what: str, body: dict[str, Any] | None = None,
            timeout: float = 5.0) -> dict[str, Any]:
    """POST ``body`` to ``/_sim/{what}`` (GET when None) and return the new setting."""
    url = f"{base_url.rstrip('/')}/_sim/{what}"
    if body is None:
        resp = httpx.get(url, timeout=timeout)
    else:
        resp = httpx.post(url, json=body, timeout=timeout)
    if resp.status_code != 200:
        try:
            reason = str(resp.json().get("error", resp.text))
        except ValueError:
            reason = resp.text
        raise ControlRejected(resp.status_code, reason)
    out: dict[str, Any] = resp.json()
    return out


def set_task_fault(base_url: str, job_id: int, kind: str) -> dict[str, Any]:
    """Script ``kind`` (hang, http_502, truncated, wrong_shape, not_found; none clears)
    for every detail request of ``job_id``."""
    return control(base_url, "task_fault", {"jobId": job_id, "fault": kind})


def clear_task_faults(base_url: str) -> dict[str, Any]:
    return control(base_url, "task_fault", {"fault": "none"})


def set_list_lie(base_url: str, pages: int = 1_000_000_000, records_per_page: int = 3,
                 fill: str = "repeat") -> dict[str, Any]:
    """Make the list endpoint claim ``pages`` pages (``pages=0``: tell the truth again)."""
    return control(base_url, "list_lie",
                   {"pages": pages, "recordsPerPage": records_per_page, "fill": fill})


def set_balance(base_url: str, **fields: Any) -> dict[str, Any]:
    """The account's money: ``set=`` an amount, ``add=`` a top-up, ``gift=``, ``credit=``,
    ``code=`` what the balance call answers (0, -1, -2, -13, -16, -18)."""
    return control(base_url, "balance", fields)
