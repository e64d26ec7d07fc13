"""Problems the banner shows: one per kind, in words, with the fix."""

from __future__ import annotations

from dataclasses import dataclass

from callwatch.errors import CallwatchError


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # auth, ip_denied, timestamp, clock_skew, rate_limited, server, network, ...
    level: str  # "error" | "warning" | "info"
    message: str
    fix: str

    @property
    def text(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


def problem_for(error: CallwatchError) -> Problem:
    kind = error.kind
    if kind == "auth":
        return Problem("auth", "error", "Bad credentials (-1): the API rejected the key or secret",
                       "run `callwatch login` (or fix CALLWATCH_API_KEY/SECRET), then press r")
    if kind == "ip_denied":
        return Problem("ip_denied", "error",
                       "IP not allowed (-2): this machine is not on the key's allow-list",
                       "add its public IP in the vendor console, then press r")
    if kind == "timestamp":
        return Problem("timestamp", "error",
                       "Timestamp expired (-16): the clock could not be corrected",
                       "sync this machine's clock (NTP: timedatectl / chrony)")
    if kind == "rate_limited":
        return Problem("rate_limited", "warning", "Rate limited (-15)",
                       "backing off; raise the interval with +")
    if kind in ("server", "http_status"):
        return Problem("server", "warning", f"Server error: {error.message}",
                       "the API is failing; retrying each cycle")
    if kind == "network":
        return Problem("network", "error", f"Network unreachable: {error.message}",
                       "check the connection, VPN or --base-url; retrying")
    if kind == "timeout":
        return Problem("timeout", "warning", f"Timeout: {error.message}",
                       "the API or the network is slow; retrying")
    if kind == "bad_response":
        return Problem("bad_response", "warning", f"Malformed response: {error.message}",
                       "retrying; if it persists the API or a proxy is broken")
    return Problem("api", "warning", f"API rejected a request: {error.message}", "")


def skew_problem(offset: float) -> Problem:
    direction = "ahead of" if offset > 0 else "behind"
    return Problem("clock_skew", "info",
                   f"Clock skew corrected: the API's clock is {abs(offset):.0f} s {direction} "
                   "this machine's", "sync this machine's clock (NTP)")


def internal_problem(exc: BaseException) -> Problem:
    return Problem("internal", "error", f"Internal error in callwatch: {type(exc).__name__}",
                   "see the log file; polling continues")
