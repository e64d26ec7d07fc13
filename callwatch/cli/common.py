"""Shared CLI pieces: exit codes, connection flags, one-line error reporting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from callwatch.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CallwatchError,
    exit_code_for,
)

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    ok
  1    a task ended badly (wait: submission failed or cancelled)
  2    usage error
  3    credentials or authentication problem
  4    API unreachable / transport failure
  5    the API rejected a request or a task could not be read
  124  timeout (wait)"""


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("connection")
    g.add_argument("--profile", help="named profile from config.toml (env CALLWATCH_PROFILE)")
    g.add_argument("--brand", help="itnio | onbuka | laaffic (env CALLWATCH_BRAND)")
    g.add_argument("--base-url", help="scheme://host[:port]; the path follows the brand "
                                      "(env CALLWATCH_BASE_URL)")
    g.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def print_error(message: str) -> None:
    """``callwatch: <first line>`` on stderr, further lines as they are; all terminal-safe."""
    from callwatch.cli.output import sanitize

    first, *rest = message.split("\n")
    print(f"callwatch: {sanitize(first)}", file=sys.stderr)
    for line in rest:
        print(sanitize(line), file=sys.stderr)


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

            text = redact("".join(traceback.format_exception(exc)))
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
