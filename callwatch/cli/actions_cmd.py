"""``callwatch cancel|suspend ID…``: act on tasks, only when enabled, confirmed, audited.

Read-only is the default: without ``--allow-actions`` or the profile's ``actions = true``
nothing is sent (exit 6). Without ``--yes`` the user types the task id (or, for several,
their count) on a terminal; with no terminal to ask on, nothing is sent (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from callwatch.api.models import Job
from callwatch.cli.common import (
    EXIT_AUTH,
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_args,
    exit_code_for,
    guarded,
    print_error,
    with_advice,
)
from callwatch.cli.oneshot import job_id_arg, seconds_arg
from callwatch.cli.oneshot_fetch import (
    TIMEOUT_ENV,
    Outcome,
    fetch_details,
    make_client,
    request_timeout,
    worst_exit,
)
from callwatch.cli.oneshot_render import job_line
from callwatch.cli.output import paint, sanitize, use_colour
from callwatch.errors import ActionsDisabledError, error_text
from callwatch.monitor.actions import (
    NO_RESUME,
    AccountLabel,
    Action,
    TaskOutcome,
    perform,
)
from callwatch.store.audit import AuditLog
from callwatch.store.resolve import Connection, resolve_connection


def build_parser(name: str) -> argparse.ArgumentParser:
    action = Action(name)
    what = ("Cancel tasks (status 4, final)." if action is Action.CANCEL else
            "Suspend tasks (the API's 'provisional' call, status 5). " + NO_RESUME)
    p = argparse.ArgumentParser(
        prog=f"callwatch {name}", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=what + " Only waiting, submitting or calling tasks can be "
        f"{action.done}. Actions are off unless --allow-actions or the profile's "
        "actions = true; every attempt is appended to audit.jsonl in the state directory "
        "(callwatch info).",
        epilog=EXIT_CODES_HELP)
    add_connection_args(p)
    p.add_argument("job_ids", nargs="+", type=job_id_arg, metavar="JOB_ID")
    p.add_argument("--allow-actions", action="store_true",
                   help="enable actions for this run (default: the profile's `actions`, "
                        "else off)")
    p.add_argument("--yes", "-y", action="store_true",
                   help="do not ask (default: ask on the terminal; no terminal: refuse)")
    p.add_argument("--json", action="store_true",
                   help="a JSON array, one object per id with its outcome")
    p.add_argument("--request-timeout", type=seconds_arg, metavar="SECONDS",
                   help=f"give up on one API call after this long, retries included "
                        f"(default 25; env {TIMEOUT_ENV})")
    return p


def run(name: str, argv: Sequence[str]) -> int:
    args = build_parser(name).parse_args(list(argv))
    return guarded(args.debug, lambda: cmd_action(Action(name), args))


def cmd_action(action: Action, args: argparse.Namespace) -> int:
    ids: list[int] = list(dict.fromkeys(args.job_ids))
    deadline = request_timeout(args.request_timeout)
    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    for warning in conn.warnings:
        print_error(warning)
    if not (args.allow_actions or conn.actions):
        # Before any request, before any question.
        where = f"[profiles.{conn.profile}]" if conn.profile else "[profiles.NAME]"
        raise ActionsDisabledError(
            f"refused: actions are disabled (read-only); nothing was sent to the API. "
            f"Pass --allow-actions, or set actions = true under {where} in config.toml "
            f"(or `callwatch login --allow-actions`)")
    if not args.yes:
        if not sys.stdin.isatty():
            print_error(f"not confirmed: stdin is not a terminal to ask on; nothing was "
                        f"sent. Pass --yes to {action.value} without asking")
            return EXIT_USAGE
        if not _confirm(action, ids, conn, deadline):
            print_error("not confirmed: nothing was sent")
            return EXIT_USAGE
    outcomes, audit_warning = asyncio.run(_act(conn, action, ids, deadline))
    if audit_warning:
        print_error(audit_warning)
    return _report(outcomes, conn, args.json)


async def _act(conn: Connection, action: Action, ids: list[int],
               deadline: float) -> tuple[list[TaskOutcome], str | None]:
    label = AccountLabel(conn.profile, conn.brand.value, conn.base_url)
    with AuditLog.open() as audit:  # before sending: no action goes out unrecorded
        async with make_client(conn, deadline) as client:
            return await perform(client, action, ids, label, audit, deadline=deadline)


def _report(outcomes: list[TaskOutcome], conn: Connection, as_json: bool) -> int:
    refused = [with_advice(o.error, conn) for o in outcomes
               if o.error is not None and not o.ok]
    if refused and len(refused) == len(outcomes) \
            and all(exit_code_for(e) == EXIT_AUTH for e in refused):
        raise refused[0]  # the account, not the tasks: said once
    if as_json:
        # ensure_ascii: no control character reaches the terminal.
        sys.stdout.write(json.dumps([o.entry() for o in outcomes], indent=2) + "\n")
    else:
        colour = use_colour(sys.stdout)
        for o in outcomes:
            sgr = "32" if o.ok else "1;31"
            sys.stdout.write(paint(sanitize(o.words()), sgr, colour) + "\n")
    sys.stdout.flush()
    if refused and not as_json:
        kinds = {e.kind for e in refused}
        if kinds == {"refused"}:
            print_error(error_text("refused").text)
    return worst_exit(refused) if refused else EXIT_OK


def _confirm(action: Action, ids: list[int], conn: Connection, deadline: float) -> bool:
    """Name the tasks (as the API reads them now) and ask for the id, or the count."""
    details: dict[int, Outcome] = asyncio.run(_details(conn, ids, deadline))
    err = sys.stderr
    colour = use_colour(err)
    print(f"{action.value} {len(ids)} task{'s' if len(ids) > 1 else ''} on "
          f"{sanitize(conn.profile or 'env')} · {conn.brand.value}:", file=err)
    for i in ids:
        found = details.get(i)
        line = job_line(found, colour) if isinstance(found, Job) else (
            f"{i}  (cannot read it: {sanitize(found.message if found else '?', 80)})")
        print("  " + line, file=err)
    if action is Action.SUSPEND:
        print(NO_RESUME, file=err)
    want = str(ids[0]) if len(ids) == 1 else str(len(ids))
    what = "the task id" if len(ids) == 1 else f"the number of tasks ({len(ids)})"
    err.write(f"type {what} to {action.value}, anything else aborts: ")
    err.flush()
    answer = sys.stdin.readline()
    return answer.strip() == want


async def _details(conn: Connection, ids: list[int], deadline: float) -> dict[int, Outcome]:
    async with make_client(conn, deadline) as client:
        return await fetch_details(client, ids, deadline)
