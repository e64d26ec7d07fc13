"""``callwatch alerts``: the monitor without a screen. Each event is one JSON line on
stdout, the rules of ``config.toml`` run, and SIGTERM/SIGINT end it with exit 0: the
thing to run under systemd or in a tmux pane on an ops box."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence

from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_args,
    guarded,
    print_error,
    tune_gc,
)
from callwatch.cli.oneshot import seconds_arg
from callwatch.monitor.events import Event
from callwatch.store.alerts_config import AlertSettings
from callwatch.store.resolve import Connection


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch alerts",
        description="Watch tasks without a screen: print each event (finished, failed, "
                    "stalled, resumed, fail_rate, balance_low, api_problem, recovered) as "
                    "one JSON line and run the [[alerts.rules]] of config.toml. "
                    "SIGTERM or Ctrl+C stops it (exit 0).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--interval", type=seconds_arg, default=None, metavar="SECONDS",
                   help="seconds between refreshes (min 1; default: the profile's, else 5)")
    p.add_argument("--all-active", action="store_true",
                   help="watch every unfinished task and keep adding new ones")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="task ids to watch (default: the profile's saved watch list)")
    return p


def run(name: str, argv: Sequence[str]) -> int:
    from callwatch.api.types import parse_job_ids

    args = build_parser().parse_args(list(argv))
    try:
        ids = parse_job_ids(" ".join(args.job_ids)) if args.job_ids else []
    except ValueError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    return guarded(args.debug, lambda: _alerts(args, ids))


def _alerts(args: argparse.Namespace, ids: list[int]) -> int:
    from callwatch.store.config import load_config
    from callwatch.store.resolve import DEFAULT_INTERVAL, resolve_connection
    from callwatch.store.state import load_ui_state

    config = load_config()
    for warning in config.warnings:
        print_error(warning)
    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    for warning in conn.warnings:
        print_error(warning)
    if not ids and not args.all_active:
        ids = list(load_ui_state(conn.profile).watched)
    if not ids and not args.all_active:
        print_error("nothing to watch: give job ids, or --all-active")
        return EXIT_USAGE
    interval = args.interval or conn.interval or DEFAULT_INTERVAL
    return asyncio.run(_watch(conn, config.alerts, ids, interval, args.all_active))


def print_event(event: Event) -> None:
    # ensure_ascii (the default): no control character reaches the terminal.
    sys.stdout.write(json.dumps(event.to_json()) + "\n")
    sys.stdout.flush()


async def _watch(conn: Connection, settings: AlertSettings, ids: list[int], interval: float,
                 all_active: bool) -> int:
    from callwatch.alerts import Dispatcher
    from callwatch.api.client import ApiClient
    from callwatch.monitor import Monitor
    from callwatch.monitor.balance import BalancePoller
    from callwatch.monitor.events import EventDetector

    client = ApiClient(conn.credentials, conn.brand, conn.base_url)
    monitor = Monitor(client, interval=interval, all_active=all_active)
    tune_gc()  # a long-running monitor: see tune_gc
    monitor.watch(ids)
    monitor.events = EventDetector(settings, conn.profile)
    monitor.balance = BalancePoller()
    dispatcher = Dispatcher(settings, on_error=print_error)
    monitor.events.sinks += [print_event, dispatcher.submit]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, monitor.stop)
    what = "every active task" if all_active else f"{len(ids)} task(s)"
    print_error(f"watching {what} every {monitor.interval:g} s; events on stdout")
    try:
        await monitor.run(lambda update: None)
    finally:
        await dispatcher.aclose()
        await client.aclose()
    return EXIT_OK
