"""Shared CLI pieces: exit codes, connection flags, one-line error reporting."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from callwatch.errors import (
    AUTH_ADVICE,
    EXIT_API,
    EXIT_AUTH,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    AuthError,
    CallwatchError,
    exit_code_for,
)

if TYPE_CHECKING:
    from callwatch.store.resolve import Connection

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    ok
  1    a task ended badly (wait: submission failed or cancelled)
  2    usage error
  3    credentials or authentication problem
  4    API unreachable / transport failure
  5    the API rejected a request or a task could not be read (cancel/suspend: refused)
  6    refused: actions are disabled (cancel/suspend; see --allow-actions)
  124  timeout (wait)"""


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
    """``callwatch: <first line>`` on stderr, further lines as they are; all terminal-safe."""
    from callwatch.cli.output import sanitize

    first, *rest = message.split("\n")
    print(f"callwatch: {sanitize(first)}", file=sys.stderr)
    for line in rest:
        print(sanitize(line), file=sys.stderr)


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


def _keep(text: str) -> str:
    return text


def guarded(debug: bool, fn: Callable[[], int], *, redact: Callable[[str], str] = _keep,
            internal_errors: bool = False,
            debug_log: Callable[[str], None] | None = None) -> int:
    """Run a command: the one place a failure becomes words on stderr and an exit code.

    ``redact`` scrubs secrets known to the command from any text; ``internal_errors``
    turns an unexpected exception into one line and exit 70 (``--debug``: the
    traceback, also given to ``debug_log``).
    """
    try:
        return fn()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        expected = isinstance(exc, CallwatchError)
        if not expected and not internal_errors:
            raise
        if debug:
            import traceback

            from callwatch.textsafe import sanitize_lines

            # It quotes foreign text: made terminal-safe like any other output.
            text = sanitize_lines(redact("".join(traceback.format_exception(exc))))
            sys.stderr.write(text)
            if debug_log is not None:
                debug_log(text)
        if isinstance(exc, CallwatchError):
            print_error(redact(exc.message))
            return exit_code_for(exc)
        if not debug:
            print_error(f"internal error ({type(exc).__name__}); run again with --debug "
                        "for the traceback")
        return EXIT_INTERNAL


__all__ = ["EXIT_API", "EXIT_AUTH", "EXIT_CODES_HELP", "EXIT_INTERNAL", "EXIT_NETWORK",
           "EXIT_OK", "EXIT_TASK_FAILED", "EXIT_TIMEOUT", "EXIT_USAGE", "add_connection_args",
           "exit_code_for", "guarded", "print_error"]


YOUNG_GC_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def tune_gc() -> None:
    """Fewer, larger young collections. Each refresh replaces thousands of small
    long-lived objects (a task's record and view); at the default threshold every one of
    them was traversed in two young collections before it died a cycle later: ~30–50 ms
    of a 10,000-task cycle, against ~8 ms now. A young collection of 20,000 objects is a
    few milliseconds: no key waits on it."""
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
