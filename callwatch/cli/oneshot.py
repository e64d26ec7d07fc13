"""``callwatch status|list|wait``: one-shot commands for scripts and quick looks.

Never imports Textual: these run headless, fast, and over SSH.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from callwatch.api.client import MAX_LIST_PAGES
from callwatch.api.models import ACTIVE_STATES, FINISHED_STATES, Job, JobState
from callwatch.api.types import TimeWindow, parse_job_ids
from callwatch.cli.common import (
    EXIT_AUTH,
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_connection_args,
    exit_code_for,
    guarded,
    print_error,
    with_advice,
)
from callwatch.cli.oneshot_fetch import (
    TIMEOUT_ENV,
    Outcome,
    fetch_details,
    group_errors,
    make_client,
    request_timeout,
    worst_exit,
)
from callwatch.cli.oneshot_render import error_entry, error_line, header, job_entry, job_line
from callwatch.cli.output import use_colour
from callwatch.errors import CallwatchError
from callwatch.store.resolve import Connection, resolve_connection

DEFAULT_SINCE = "7d"


# --- argument types -------------------------------------------------------------------


def job_id_arg(value: str) -> int:
    """One job id per argument (argparse type), read by the shared parser."""
    try:
        ids = parse_job_ids(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if len(ids) != 1:
        raise argparse.ArgumentTypeError(f"one job id per argument, not {value[:40]!r}")
    return ids[0]


def seconds_arg(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return seconds


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_when(value: str, *, end_of_day: bool = False,
               now: datetime | None = None) -> datetime:
    """``1d``/``12h``/``30m`` ago, a date ``YYYY-MM-DD`` (local midnight; with
    ``end_of_day`` the next midnight) or an ISO date-time. Always timezone-aware."""
    now = now or datetime.now().astimezone()
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {value!r} (use 1d, 7d, 12h, YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        when += timedelta(days=1)
    return when


# The words the tables show ("submit failed"), typed as one word; --state takes these.
STATE_NAMES = ", ".join(s.label.replace(" ", "_") for s in JobState if s is not JobState.UNKNOWN)


def parse_states(value: str) -> list[JobState] | None:
    """``active``, ``finished``, ``all`` or one state (slug, label or code)."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    if key == "all":
        return None
    if key == "active":
        return list(ACTIVE_STATES)
    if key == "finished":
        return list(FINISHED_STATES)
    for state in JobState:
        if state is JobState.UNKNOWN:
            continue
        if key in (state.slug, state.label.replace(" ", "_"), str(state.value)):
            return [state]
    # The API's slugs are accepted too.
    raise argparse.ArgumentTypeError(
        f"unknown state {value!r}: use active, finished, all or one of {STATE_NAMES}")


# --- parsers --------------------------------------------------------------------------


def _parser(name: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"callwatch {name}", description=description,
                                epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--request-timeout", type=seconds_arg, metavar="SECONDS",
                   help=f"give up on one API call after this long, retries included "
                        f"(default 25; env {TIMEOUT_ENV})")
    return p


def build_parser(name: str) -> argparse.ArgumentParser:
    if name == "status":
        p = _parser(name, "Print the state of tasks once (one detail request per task).")
        p.add_argument("job_ids", nargs="+", type=job_id_arg, metavar="JOB_ID")
        p.add_argument("--json", action="store_true", help="a JSON array, one object per id")
    elif name == "list":
        p = _parser(name, "List the account's tasks (every page of the task list).")
        p.add_argument("--since", default=DEFAULT_SINCE, metavar="WHEN",
                       help="created after: 1d, 7d, 12h, YYYY-MM-DD (default 7d)")
        p.add_argument("--until", metavar="WHEN", help="created before (default: now)")
        p.add_argument("--state", dest="states", nargs="+", action="extend", metavar="STATE",
                       help=f"active | finished | all | {STATE_NAMES} (default: all)")
        p.add_argument("--search", metavar="TEXT",
                       help="match task name, file or TTS text (default: no search)")
        p.add_argument("--json", action="store_true", help="a JSON array of tasks")
    elif name == "wait":
        p = _parser(name, "Wait until every task is finished; exit 0 if all completed.")
        p.add_argument("job_ids", nargs="+", type=job_id_arg, metavar="JOB_ID")
        p.add_argument("--timeout", type=seconds_arg, metavar="SECONDS",
                       help="give up after this long (exit 124); default: wait forever")
        p.add_argument("--interval", type=seconds_arg, metavar="SECONDS",
                       help="seconds between polls (default: the profile's, 5; min 1)")
        p.add_argument("--quiet", "-q", action="store_true",
                       help="no progress line and no summary: only the exit code")
    else:  # pragma: no cover - the dispatcher only routes the three names
        raise ValueError(name)
    return p


def run(name: str, argv: Sequence[str]) -> int:
    parser = build_parser(name)
    args = parser.parse_args(list(argv))
    commands: dict[str, Callable[[argparse.Namespace, argparse.ArgumentParser], int]] = {
        "status": cmd_status, "list": cmd_list, "wait": _cmd_wait,
    }
    return guarded(args.debug, lambda: commands[name](args, parser))


def _connect(args: argparse.Namespace) -> Connection:
    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    for warning in conn.warnings:  # e.g. plain http, a plaintext secret file
        print_error(warning)
    return conn


def _dump_json(value: object) -> None:
    # ensure_ascii (the default) escapes every control character, C1 and bidi included:
    # no raw ESC or CSI byte reaches the terminal.
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def _report_errors(outcomes: dict[int, Outcome]) -> None:
    for ids, error in group_errors(outcomes):
        which = "task " + ", ".join(str(i) for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
        print_error(f"{which}: {error.message}")


# --- status ---------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    ids: list[int] = args.job_ids
    deadline = request_timeout(args.request_timeout)
    conn = _connect(args)  # no credentials: one line on stderr (guarded), exit 3
    outcomes = {i: with_advice(o, conn) for i, o in
                asyncio.run(_status(conn, ids, deadline)).items()}
    account = _account_error(outcomes)
    if account is not None:
        raise account  # the same for every task: said once, like the other commands
    if args.json:
        _dump_json([_entry(i, outcomes[i]) for i in ids])
    else:
        colour = use_colour(sys.stdout)
        lines = [header()]
        for i in ids:
            outcome = outcomes[i]
            lines.append(job_line(outcome, colour) if isinstance(outcome, Job)
                         else error_line(i, outcome, colour))
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    _report_errors(outcomes)
    return worst_exit([o for o in outcomes.values() if isinstance(o, CallwatchError)])


def _account_error(outcomes: dict[int, Outcome]) -> CallwatchError | None:
    """The error, when every task failed because of the account (key, secret, IP,
    clock): one cause, not a row per task."""
    errors = [o for o in outcomes.values() if isinstance(o, CallwatchError)]
    if errors and len(errors) == len(outcomes) \
            and all(exit_code_for(e) == EXIT_AUTH for e in errors):
        return errors[0]
    return None


def _entry(job_id: int, outcome: Outcome) -> dict[str, Any]:
    return job_entry(outcome) if isinstance(outcome, Job) else error_entry(job_id, outcome)


async def _status(conn: Connection, ids: Sequence[int], deadline: float) -> dict[int, Outcome]:
    async with make_client(conn, deadline) as client:
        return await fetch_details(client, ids, deadline)


# --- list -----------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    now = datetime.now().astimezone()
    try:
        start = parse_when(args.since, now=now)
        end = (parse_when(args.until, end_of_day=True, now=now) if args.until
               else now + timedelta(days=1))
        states = _states(args.states or ["all"])
    except argparse.ArgumentTypeError as exc:
        parser.print_usage(sys.stderr)
        print_error(str(exc))
        return EXIT_USAGE
    if start >= end:
        parser.print_usage(sys.stderr)
        print_error("--since must be before --until")
        return EXIT_USAGE
    deadline = request_timeout(args.request_timeout)
    conn = _connect(args)
    try:
        jobs, capped = asyncio.run(_list(conn, TimeWindow(start, end), states, args.search,
                                         deadline))
    except CallwatchError as exc:
        raise with_advice(exc, conn) from None
    if capped:
        print_error(f"the API claims more than {MAX_LIST_PAGES} pages: showing the first "
                    f"{len(jobs)} tasks (narrow --since/--until or --state)")
    if args.json:
        _dump_json([job_entry(j) for j in jobs])
    elif jobs:
        colour = use_colour(sys.stdout)
        sys.stdout.write("\n".join([header()] + [job_line(j, colour) for j in jobs]) + "\n")
    else:
        print("no tasks match", file=sys.stderr)
    return 0


def _states(values: Sequence[str]) -> list[JobState] | None:
    chosen: list[JobState] = []
    for value in values:
        states = parse_states(value)
        if states is None:
            return None
        chosen.extend(s for s in states if s not in chosen)
    return chosen


async def _list(conn: Connection, window: TimeWindow, states: list[JobState] | None,
                search: str | None, deadline: float) -> tuple[list[Job], bool]:
    async with make_client(conn, deadline) as client:
        jobs = [job async for job in client.iter_query(window, states, search or None)]
        return jobs, client.list_capped


# --- wait -----------------------------------------------------------------------------


def _cmd_wait(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from callwatch.cli.oneshot_wait import cmd_wait

    return cmd_wait(args, _connect(args), request_timeout(args.request_timeout))
