"""The error taxonomy every layer above the API sees.

Each error has a stable ``kind`` (used by the banner, the JSON output and exit
codes) and a message written for an operator, with the fix where there is one.
"""

from __future__ import annotations

from callwatch.textsafe import sanitize_lines


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


# What an authentication failure asks of the user. Callers that know where the
# credentials came from put their own advice in its place (Connection.auth_advice).
AUTH_ADVICE = "check the API key and secret (callwatch login)"

_BY_CODE: dict[int, tuple[type[ApiError], str]] = {
    -1: (AuthError, f"authentication failed: {AUTH_ADVICE}"),
    -2: (IpDeniedError, "this machine's IP address is not on the key's allow-list"),
    -15: (RateLimitedError, "rate limited by the API: requests are too frequent"),
    -16: (TimestampError, "timestamp rejected: the local clock is off (check NTP)"),
    -18: (ServerInternalError, "the API reported an internal error"),
    -22: (ParameterError, "the API rejected a parameter"),
    -24: (NotFoundError, "no such task"),
}


def api_error_for(code: int, vendor_message: str | None) -> ApiError:
    """Map a documented status code to its typed error."""
    cls, text = _BY_CODE.get(code, (ApiError, "the API rejected the request"))
    detail = f" (code {code}"
    if vendor_message:
        detail += f": {vendor_message}"
    detail += ")"
    return cls(text + detail, code)
