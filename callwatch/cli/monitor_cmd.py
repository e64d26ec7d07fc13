"""``callwatch``: the live monitor (Textual is imported only here, lazily)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_connection_args,
    exit_code_for,
    print_error,
)
from callwatch.errors import CallwatchError

if TYPE_CHECKING:
    from callwatch.api.client import ApiClient
    from callwatch.store.resolve import Connection
    from callwatch.tui.app import CallwatchApp


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch",
        description="Live monitor for voice group-call tasks. Subcommands: sim, status, "
                    "list, wait, login, logout, auth, info (callwatch SUBCOMMAND --help).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between refreshes (min 1, default 5)")
    p.add_argument("--all-active", action="store_true",
                   help="watch every unfinished task and keep adding new ones")
    p.add_argument("--demo", action="store_true",
                   help="run on the built-in simulator: no account, no keyring")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="task ids to watch")
    return p


def parse_ids(values: Sequence[str]) -> list[int]:
    out: list[int] = []
    for raw in values:
        for part in raw.replace(",", " ").split():
            if not part.isdigit() or int(part) <= 0:
                raise ValueError(f"not a job id: {part[:20]!r}")
            out.append(int(part))
    return out


def run(name: str, argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    try:
        ids = parse_ids(args.job_ids)
    except ValueError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    try:
        with _startup_gc():
            app = _build_app(args, ids)
    except CallwatchError as exc:
        if args.debug:
            raise
        print_error(exc.message)
        return exit_code_for(exc)
    code = app.run()
    return int(code or 0) if app.return_code in (0, None) else int(app.return_code or 1)


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
        if enabled:
            gc.enable()


def _build_app(args: argparse.Namespace, ids: list[int]) -> CallwatchApp:
    from callwatch.monitor import Monitor
    from callwatch.tui.app import CallwatchApp
    from callwatch.tui.persist import load_settings

    settings = load_settings()
    if args.demo:
        from callwatch.cli.demo import demo_client
        from callwatch.sim.server import demo_state

        state = demo_state(12)
        monitor = Monitor(demo_client(state), interval=args.interval or 2.0,
                          all_active=args.all_active)
        monitor.watch(state.jobs)
        settings.profiles = []
        return CallwatchApp(monitor, account="demo", profile="demo", settings=settings,
                            initial=ids, persist=False)
    from callwatch.store.resolve import DEFAULT_INTERVAL  # keyring: not for the demo

    conn, client = _connect(args.profile, args.brand, args.base_url)
    # e.g. "secret read from a plaintext file": shown as a toast on every start.
    settings.warnings = (*settings.warnings, *conn.warnings)
    interval = args.interval or conn.interval or DEFAULT_INTERVAL
    monitor = Monitor(client, interval=interval, all_active=args.all_active)

    async def connector(profile: str) -> tuple[ApiClient, str]:
        from callwatch.api.client import ApiClient
        from callwatch.store.resolve import resolve_connection_async

        # The keyring is read in a worker thread; the client is made in the running loop.
        c = await resolve_connection_async(profile)
        return ApiClient(c.credentials, c.brand, c.base_url), _label(c)

    return CallwatchApp(monitor, account=_label(conn), profile=conn.profile,
                        settings=settings, initial=ids,
                        connector=connector)


def _label(conn: Connection) -> str:
    return f"{conn.profile or 'env'} · {conn.brand.value}"


def _connect(profile: str | None, brand: str | None, base_url: str | None
             ) -> tuple[Connection, ApiClient]:
    from callwatch.api.client import ApiClient
    from callwatch.store.resolve import resolve_connection

    conn = resolve_connection(profile, brand, base_url)
    client = ApiClient(conn.credentials, conn.brand, conn.base_url)
    return conn, client


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run("monitor", sys.argv[1:]))
