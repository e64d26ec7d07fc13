"""``callwatch``: the live monitor (Textual is imported only here, lazily)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from callwatch import codecache
from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_connection_args,
    guarded,
    print_error,
    tune_gc,
)

if TYPE_CHECKING:
    from callwatch.api.client import ApiClient
    from callwatch.cli.demo_proc import DemoSim
    from callwatch.monitor import Monitor
    from callwatch.store.config import Config
    from callwatch.store.resolve import Connection
    from callwatch.tui.app import CallwatchApp


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch",
        description="Live monitor for voice group-call tasks.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between refreshes (min 1; default: the profile's, else 5)")
    p.add_argument("--all-active", action="store_true",
                   help="watch every unfinished task and keep adding new ones")
    p.add_argument("--allow-actions", action="store_true",
                   help="enable cancel (x) and suspend (z) for this run (default: the "
                        "profile's `actions`, else read-only)")
    # Internal (callwatch serve's sessions): actions off even where a profile enables them.
    p.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--demo", action="store_true",
                   help="run on the built-in simulator: no account, no keyring")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="task ids to watch")
    return p


def _command_help(parser: argparse.ArgumentParser) -> None:
    """Sub-parsers for ``--help`` only: ``callwatch 123 456`` must stay job ids."""
    from callwatch.cli import COMMANDS

    sub = parser.add_subparsers(title="commands (callwatch COMMAND --help)", metavar="COMMAND")
    for name, (_module, summary) in COMMANDS.items():
        sub.add_parser(name, help=summary)


def run(name: str, argv: Sequence[str]) -> int:
    from callwatch.api.types import parse_job_ids

    parser = build_parser()
    if "-h" in argv or "--help" in argv:
        _command_help(parser)
    args = parser.parse_args(list(argv))
    if args.read_only and args.allow_actions:
        print_error("--read-only and --allow-actions cannot be used together")
        return EXIT_USAGE
    try:
        ids = parse_job_ids(" ".join(args.job_ids)) if args.job_ids else []
    except ValueError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    return guarded(args.debug, lambda: _run_app(args, ids))


def _run_app(args: argparse.Namespace, ids: list[int]) -> int:
    # Textual (and Rich's console) size the screen with shutil.get_terminal_size(), which
    # believes COLUMNS and LINES first: a stale export (a shell rc, a parent process) drew
    # 80x24 in a 120x40 terminal. The terminal itself knows its size.
    # Not under textual-serve: its web driver takes the browser's size from COLUMNS/ROWS.
    if "TEXTUAL_DRIVER" not in os.environ:
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)
    # The demo's simulator first: it boots on the other core while Textual loads.
    sim = _start_demo_sim() if args.demo else None
    try:
        with _startup_gc():
            app = _build_app(args, ids, sim)
        codecache.save()  # now, not only at the exit: a killed monitor never gets there
        code = app.run()
    finally:
        if sim is not None:
            sim.close()  # every way out (q, signals, errors): the child ends, reaped
    return int(code or 0) if app.return_code in (0, None) else int(app.return_code or 1)


def _start_demo_sim() -> DemoSim:
    from callwatch.cli import demo_proc

    return demo_proc.take()  # usually started already, by callwatch.cli.main


@contextlib.contextmanager
def _startup_gc() -> Iterator[None]:
    """No garbage collection while the imports and the app build allocate objects that
    live as long as the process; then freeze them. Collections walked them all again and
    again (~30 ms before the first frame, one full one 15 ms); frozen, they are skipped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        tune_gc()  # the long-running commands share the monitor's allocation pattern
        if enabled:
            gc.enable()


def _build_app(args: argparse.Namespace, ids: list[int],
               sim: DemoSim | None = None) -> CallwatchApp:
    from callwatch.monitor import Monitor
    from callwatch.store.config import load_config
    from callwatch.tui.app import CallwatchApp

    settings = load_config()
    if args.read_only:  # every profile's `actions = true` off, for this process only
        settings = replace(settings, profiles={
            name: replace(prof, actions=False) for name, prof in settings.profiles.items()})
    if sim is not None:
        from callwatch.cli.demo import DemoMonitor

        demo = DemoMonitor(sim, interval=args.interval or 2.0, all_active=args.all_active)
        _alerting(demo, settings, "demo", rules=False)
        settings = replace(settings, profiles={}, default_profile=None)
        return CallwatchApp(demo, account="demo", profile="demo", settings=settings,
                            initial=ids, persist=False, allow_actions=args.allow_actions)
    from callwatch.store.resolve import DEFAULT_INTERVAL  # keyring: not for the demo

    allow_http: bool = args.allow_insecure_http
    conn, client = _connect(args.profile, args.brand, args.base_url, allow_http)
    # e.g. "secret read from a plaintext file": shown as a toast on every start.
    settings = replace(settings, warnings=(*settings.warnings, *conn.warnings))
    interval = args.interval or conn.interval or DEFAULT_INTERVAL
    monitor = Monitor(client, interval=interval, all_active=args.all_active)
    monitor.auth_advice = conn.auth_advice  # the banner names where the secret came from
    _alerting(monitor, settings, conn.profile, rules=True)

    async def connector(profile: str) -> tuple[ApiClient, str]:
        from callwatch.api.client import ApiClient
        from callwatch.store.resolve import resolve_connection_async

        # The keyring is read in a worker thread; the client is made in the running loop.
        c = await resolve_connection_async(profile, allow_insecure_http=allow_http)
        return ApiClient(c.credentials, c.brand, c.base_url), _label(c)

    return CallwatchApp(monitor, account=_label(conn), profile=conn.profile,
                        settings=settings, initial=ids,
                        connector=connector, allow_actions=args.allow_actions)


def _alerting(monitor: Monitor, settings: Config, profile: str | None, *, rules: bool) -> None:
    """The balance in the header, the monitor's events, and (``rules``) the alert rules
    and desktop notifications of config.toml, delivered in the background."""
    from callwatch.monitor.balance import BalancePoller
    from callwatch.monitor.events import EventDetector

    monitor.balance = BalancePoller()
    monitor.events = EventDetector(settings.alerts, profile)
    if rules:
        from callwatch.alerts import Dispatcher

        monitor.events.sinks.append(Dispatcher(settings.alerts).submit)


def _label(conn: Connection) -> str:
    return f"{conn.profile or 'env'} · {conn.brand.value}"


def _connect(profile: str | None, brand: str | None, base_url: str | None,
             allow_insecure_http: bool) -> tuple[Connection, ApiClient]:
    from callwatch.api.client import ApiClient
    from callwatch.store.resolve import resolve_connection

    conn = resolve_connection(profile, brand, base_url,
                              allow_insecure_http=allow_insecure_http)
    client = ApiClient(conn.credentials, conn.brand, conn.base_url)
    return conn, client


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run("monitor", sys.argv[1:]))
