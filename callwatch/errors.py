"""The error taxonomy every layer above the API sees.

Each error has a stable ``kind`` (used by the banner, the JSON output and exit
codes) and a message written for an operator, with the fix where there is one.
"""

from __future__ import annotations

from typing import NamedTuple

from callwatch.textsafe import sanitize_lines

# Exit codes of every command (the CLI documents them in EXIT_CODES_HELP).
EXIT_OK = 0
EXIT_TASK_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NETWORK = 4
EXIT_API = 5
EXIT_ACTIONS_DISABLED = 6
EXIT_TIMEOUT = 124


class CallwatchError(Exception):
    """Base of every error callwatch raises on purpose."""

    kind = "error"

    def __init__(self, message: str) -> None:
        # Messages quote foreign text (vendor messages, helper output, config values):
        # made terminal-safe here, once, so no caller can print it raw.
        message = sanitize_lines(message)
        super().__init__(message)
        self.message = message


# --- business errors: the API answered, with a non-zero status code -----------------


class ApiError(CallwatchError):
    """The API rejected the request (non-zero status in the envelope)."""

    kind = "api"
    code: int | None

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class AuthError(ApiError):
    kind = "auth"


class IpDeniedError(ApiError):
    kind = "ip_denied"


class RateLimitedError(ApiError):
    kind = "rate_limited"


class TimestampError(ApiError):
    kind = "timestamp"


class ServerInternalError(ApiError):
    kind = "server"


class ParameterError(ApiError):
    kind = "parameter"


class NotFoundError(ApiError):
    kind = "not_found"


class StateRefusedError(ApiError):
    """-54: the task's state does not allow the action (cancel/suspend a finished task)."""

    kind = "refused"


# --- transport errors: no usable answer ---------------------------------------------


class TransportError(CallwatchError):
    kind = "transport"


class ApiTimeoutError(TransportError):
    kind = "timeout"


class NetworkError(TransportError):
    """Connection refused, reset, DNS failure: the server could not be reached."""

    kind = "network"


class HttpStatusError(TransportError):
    kind = "http_status"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class BadResponseError(TransportError):
    """The body is not JSON, or not the documented envelope."""

    kind = "bad_response"


# --- local problems -------------------------------------------------------------------


class CredentialsError(CallwatchError):
    """No usable credentials (missing key/secret, keyring unavailable...)."""

    kind = "credentials"


class ConfigError(CallwatchError):
    kind = "config"


class ActionsDisabledError(CallwatchError):
    """Cancel/suspend asked for while actions are off (read-only is the default)."""

    kind = "actions_disabled"


# What an authentication failure asks of the user. Callers that know where the
# credentials came from put their own advice in its place (Connection.auth_advice).
AUTH_ADVICE = "run `callwatch login` (or fix CALLWATCH_API_KEY/SECRET)"

_BY_CODE: dict[int, tuple[type[ApiError], str]] = {
    -1: (AuthError, f"authentication failed: {AUTH_ADVICE}"),
    -2: (IpDeniedError, "this machine's IP address is not on the key's allow-list"),
    -13: (AuthError, "the account is locked: ask the vendor to unlock it"),
    -15: (RateLimitedError, "rate limited by the API: requests are too frequent"),
    -16: (TimestampError, "timestamp rejected: the local clock is off (check NTP)"),
    -18: (ServerInternalError, "the API reported an internal error"),
    -22: (ParameterError, "the API rejected a parameter"),
    -24: (NotFoundError, "no such task"),
    -54: (StateRefusedError, "refused: the task's state does not allow it"),
}


def api_error_for(code: int, vendor_message: str | None) -> ApiError:
    """Map a documented status code to its typed error."""
    cls, text = _BY_CODE.get(code, (ApiError, "the API rejected the request"))
    detail = f" (code {code}"
    if vendor_message:
        detail += f": {vendor_message}"
    detail += ")"
    return cls(text + detail, code)


# --- one vocabulary: what each kind means, what fixes it, and its exit code ------------


class ErrorText(NamedTuple):
    """kind -> (message, fix, exit_code, live): the banner, `wait`, `auth status`, `login`."""

    message: str  # what is wrong, for an operator
    fix: str  # what to do about it ("" when there is nothing to do but wait)
    exit_code: int
    # The fix as a live screen says it, where that differs: the monitor retries by
    # itself and r re-checks at once. "{fix}" stands for the fix; "" means the fix.
    live: str = ""

    @property
    def text(self) -> str:
        return f"{self.message}: {self.fix}" if self.fix else self.message

    def live_fix(self, fix: str | None = None) -> str:
        """The banner's fix; ``fix`` replaces the table's (the auth advice that names
        where the rejected secret came from)."""
        fix = self.fix if fix is None else fix
        return self.live.replace("{fix}", fix) if self.live else fix


ERRORS: dict[str, ErrorText] = {
    # The CLI puts the advice fitting where the secret came from in AUTH_ADVICE's place.
    "auth": ErrorText("bad credentials (-1): the API rejected the key or secret",
                      AUTH_ADVICE, EXIT_AUTH, "{fix}, then press r"),
    "ip_denied": ErrorText("IP not allowed (-2): this machine is not on the key's allow-list",
                           "add its public IP in the vendor console", EXIT_AUTH,
                           "{fix}, then press r"),
    "timestamp": ErrorText("timestamp rejected (-16): the clock could not be corrected",
                           "sync this machine's clock (NTP: timedatectl / chrony)", EXIT_AUTH),
    "credentials": ErrorText("no usable credentials", "run `callwatch login`", EXIT_AUTH),
    "rate_limited": ErrorText("rate limited (-15)", "raise the interval", EXIT_API,
                              "backing off; {fix} with +"),
    "server": ErrorText("server error", "the API is failing; retry later", EXIT_API,
                        "the API is failing; retrying each cycle"),
    "parameter": ErrorText("the API rejected a parameter", "", EXIT_API),
    "not_found": ErrorText("no such task", "check the job id", EXIT_API),
    "api": ErrorText("the API rejected a request", "", EXIT_API),
    "refused": ErrorText("refused (-54): the task's state does not allow it",
                         "only waiting, submitting or calling tasks can be cancelled or "
                         "suspended", EXIT_API),
    "transport": ErrorText("no usable answer from the API", "retry", EXIT_NETWORK, "retrying"),
    "network": ErrorText("network unreachable", "check the connection, VPN or --base-url",
                         EXIT_NETWORK, "{fix}; retrying"),
    "timeout": ErrorText("timeout", "the API or the network is slow; retry", EXIT_NETWORK,
                         "the API or the network is slow; retrying"),
    "http_status": ErrorText("server error", "the API is failing; retry later", EXIT_NETWORK,
                             "the API is failing; retrying each cycle"),
    "bad_response": ErrorText("malformed response",
                              "retry; if it persists the API or a proxy is broken",
                              EXIT_NETWORK,
                              "retrying; if it persists the API or a proxy is broken"),
    "config": ErrorText("configuration problem", "fix the option or config.toml", EXIT_USAGE),
    "actions_disabled": ErrorText("refused: actions are disabled",
                                  "pass --allow-actions, or set actions = true in the "
                                  "profile ([profiles.NAME] in config.toml)",
                                  EXIT_ACTIONS_DISABLED),
    "error": ErrorText("error", "", EXIT_API),
}


def error_text(kind: str) -> ErrorText:
    """The table entry for ``kind`` (an unknown kind reads as a generic API error)."""
    return ERRORS.get(kind, ERRORS["error"])


def exit_code_for(error: BaseException) -> int:
    """The exit code of a failure: by its kind, or its nearest parent's that the table
    has (a new kind inherits its family's code); anything unexpected is an API error."""
    for cls in type(error).__mro__:
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str) and kind in ERRORS:
            return ERRORS[kind].exit_code
    return ERRORS["error"].exit_code
