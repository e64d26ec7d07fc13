"""Problems the banner shows: one per kind, in words, with the fix."""

from __future__ import annotations

from dataclasses import dataclass

from callwatch.errors import (
    ERRORS,
    AuthError,
    CallwatchError,
    IpDeniedError,
    NetworkError,
    RateLimitedError,
    TimestampError,
)

# Errors that say something about the account, not about one task.
ACCOUNT_ERRORS = (AuthError, IpDeniedError, RateLimitedError, TimestampError, NetworkError)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # auth, ip_denied, timestamp, clock_skew, rate_limited, server, network, ...
    level: str  # "error" | "warning" | "info"
    message: str
    fix: str

    @property
    def text(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


# The banner's kinds: its words and fix come from the one table (callwatch.errors.ERRORS).
_LEVELS = {"auth": "error", "ip_denied": "error", "timestamp": "error", "network": "error",
           "rate_limited": "warning", "server": "warning", "timeout": "warning",
           "bad_response": "warning", "api": "warning"}
_SAME_AS = {"http_status": "server"}  # an HTTP 5xx reads as the API's internal error
# Kinds whose banner quotes the error's own message (the host, the status, the wait).
_DETAILED = frozenset({"server", "network", "timeout", "bad_response", "api"})


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def problem_for(error: CallwatchError, auth_advice: str | None = None) -> Problem:
    """``auth_advice``: where the rejected key and secret came from (env or a profile)."""
    kind = _SAME_AS.get(error.kind, error.kind)
    if kind not in _LEVELS:
        kind = "api"  # any other rejection: the table's generic words, and the message
    entry = ERRORS[kind]
    message = _sentence(entry.message)
    if kind in _DETAILED:
        message += f": {error.message}"
    return Problem(kind, _LEVELS[kind], message,
                   entry.live_fix(auth_advice if kind == "auth" else None))


def skew_problem(offset: float) -> Problem:
    direction = "ahead of" if offset > 0 else "behind"
    return Problem("clock_skew", "info",
                   f"Clock skew corrected: the API's clock is {abs(offset):.0f} s {direction} "
                   "this machine's", "sync this machine's clock (NTP)")


def internal_problem(exc: BaseException) -> Problem:
    return Problem("internal", "error", f"Internal error in callwatch: {type(exc).__name__}",
                   "see the log file; polling continues")


def list_problem(error: CallwatchError) -> Problem:
    """The task list failed: every task it covers keeps its last values meanwhile."""
    p = problem_for(error)
    return Problem("list", p.level, f"Task list failing: {error.message}",
                   "rows keep their last values (marked stale); retrying")


def failing_problem(count: int, example: str) -> Problem:
    """``example``: one failing task in words (``#5000601 HTTP 502``)."""
    more = "" if count == 1 else f", {count - 1} more"
    return Problem("tasks", "warning", f"{count} task{'s' if count > 1 else ''} failing "
                   f"({example}{more})", "see their rows")


def cap_problem(pages: int) -> Problem:
    return Problem("list_cap", "warning",
                   f"The task list claims more than {pages} pages: read the first {pages} only",
                   "the server's counts look wrong; watching what was read")


# Account-wide kinds that stretch the interval, and how far (x the interval).
BACKOFF_CAPS = {"rate_limited": 16.0, "timestamp": 16.0, "network": 4.0}


class AccountProblems:
    """Account-wide problems for the banner, each kept until a clean cycle (or, for the
    list and the network, the next good answer) clears it; some stretch the interval."""

    def __init__(self) -> None:
        self.kinds: dict[str, Problem] = {}
        self.backoff = 1.0
        self._seen: set[str] = set()  # kinds raised during the current cycle
        self._cycle = 0  # cycles overlap: only the latest one's end judges

    def raise_(self, problem: Problem) -> None:
        self.kinds[problem.kind] = problem
        self._seen.add(problem.kind)

    def clear(self, *kinds: str) -> None:
        for kind in kinds:
            self.kinds.pop(kind, None)

    def cycle_start(self) -> int:
        self._seen.clear()
        self._cycle += 1
        return self._cycle

    def cycle_end(self, cycle: int, interval: float, asked: bool) -> None:
        """Kinds not raised again this cycle are gone; backoff grows or resets. A cycle
        that asked nothing (everything in flight or backing off) learnt nothing."""
        if cycle != self._cycle or not asked:
            return
        for kind in list(self.kinds):
            # The list's problem lasts until a list page answers (it may be backing off).
            if kind not in self._seen and kind != "list":
                del self.kinds[kind]
        stretch = [BACKOFF_CAPS[k] for k in self._seen if k in BACKOFF_CAPS]
        self.backoff = min(max(stretch), self.backoff * 2) if stretch else 1.0
        if "rate_limited" in self.kinds:
            p = self.kinds["rate_limited"]
            words = _sentence(ERRORS["rate_limited"].message)
            self.kinds["rate_limited"] = Problem(
                p.kind, p.level, f"{words}: next refresh in "
                f"{interval * self.backoff:.0f} s (backoff x{self.backoff:.0f})", p.fix)

    def reset(self) -> None:
        self.kinds.clear()
        self._seen.clear()
        self.backoff = 1.0
