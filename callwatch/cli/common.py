"""Shared CLI pieces: exit codes, connection flags, one-line error reporting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from callwatch.errors import (
    AUTH_ADVICE,
    ApiError,
    AuthError,
    CallwatchError,
    ConfigError,
    CredentialsError,
    IpDeniedError,
    TimestampError,
    TransportError,
)

if TYPE_CHECKING:
    from callwatch.store.resolve import Connection

EXIT_OK = 0
EXIT_TASK_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NETWORK = 4
EXIT_API = 5
EXIT_TIMEOUT = 124

EXIT_CODES_HELP = """exit codes:
  0    ok
  1    a task ended badly (wait: submission failed or cancelled)
  2    usage error
  3    credentials or authentication problem
  4    API unreachable / transport failure
  5    the API rejected a request or a task could not be read
  124  timeout (wait)"""


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, CredentialsError | AuthError | IpDeniedError | TimestampError):
        return EXIT_AUTH
    if isinstance(error, TransportError):
        return EXIT_NETWORK
    if isinstance(error, ApiError):
        return EXIT_API
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    return EXIT_API


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("connection")
    g.add_argument("--profile", help="named profile from config.toml (default: env "
                                     "CALLWATCH_PROFILE, else config.toml's default_profile)")
    g.add_argument("--brand", help="itnio | onbuka | laaffic (default: env CALLWATCH_BRAND, "
                                   "else the profile's, else itnio)")
    g.add_argument("--base-url", help="scheme://host[:port]; the path follows the brand "
                                      "(default: env CALLWATCH_BASE_URL, else the profile's, "
                                      "else the brand's host)")
    g.add_argument("--allow-insecure-http", action="store_true",
                   help="accept plain http:// to a host other than this machine (the API "
                        "key and signatures then travel unencrypted; warned on every start)")
    g.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def print_error(message: str) -> None:
    from callwatch.cli.output import sanitize

    print(f"callwatch: {sanitize(message)}", file=sys.stderr)


def print_traceback(exc: BaseException) -> None:
    """``--debug``: the traceback on stderr, made terminal-safe (it quotes foreign text)."""
    import traceback

    from callwatch.textsafe import sanitize_lines

    sys.stderr.write(sanitize_lines("".join(traceback.format_exception(exc))))


T = TypeVar("T")


def advise(message: str, conn: Connection) -> str:
    """``message`` with the auth advice fitting where the credentials came from."""
    return message.replace(AUTH_ADVICE, conn.auth_advice, 1)


def with_advice(outcome: T, conn: Connection) -> T:
    """An AuthError's message made to point at env variables or the profile (in place)."""
    if isinstance(outcome, AuthError):
        outcome.message = advise(outcome.message, conn)
        outcome.args = (outcome.message,)
    return outcome


def guarded(debug: bool, fn: Callable[[], int]) -> int:
    """Run a command; expected errors become one line on stderr and an exit code."""
    try:
        return fn()
    except CallwatchError as exc:
        if debug:
            print_traceback(exc)
        print_error(exc.message)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        return 130
