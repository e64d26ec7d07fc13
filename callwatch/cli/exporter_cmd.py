"""``callwatch exporter``: one poller for the team, read by Prometheus (and a browser)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_connection_args,
    guarded,
    print_error,
    tune_gc,
)

if TYPE_CHECKING:
    from callwatch.store.resolve import Connection

DEFAULT_LISTEN = "127.0.0.1:9464"  # 9464: the port commonly used by exporters of this kind


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch exporter",
        description="Poll tasks like the monitor does and serve Prometheus metrics on "
                    "/metrics (and the task table, read-only, on /tasks).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to serve on (default {DEFAULT_LISTEN}; port 0: any free "
                        "port; a non-loopback host needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --listen (the metrics name your tasks; put "
                        "a firewall or an authenticating proxy in front)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between refreshes (min 1; default: the profile's, else 5)")
    p.add_argument("--all-active", action="store_true",
                   help="watch every unfinished task and keep adding new ones")
    p.add_argument("--keep-finished", type=float, default=None, metavar="S",
                   help="seconds a finished task stays exported (default 3600)")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="task ids to watch")
    return p


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too); ValueError with words for the operator."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not (port.isascii() and port.isdigit()) \
            or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen expects HOST:PORT, got {text[:60]!r}")
    return host, int(port)


def run(name: str, argv: Sequence[str]) -> int:
    from callwatch.api.types import parse_job_ids
    from callwatch.sim.server import is_loopback

    args = build_parser().parse_args(list(argv))
    try:
        host, port = parse_listen(args.listen)
        ids = parse_job_ids(" ".join(args.job_ids)) if args.job_ids else []
    except ValueError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    if not is_loopback(host) and not args.allow_remote:
        print_error(f"refusing to listen on non-loopback host {host!r}; pass --allow-remote "
                    "if you really mean it")
        return EXIT_USAGE
    if not ids and not args.all_active:
        print_error("nothing to watch: give task ids or --all-active")
        return EXIT_USAGE
    keep = args.keep_finished
    if keep is not None and not 0 <= keep <= 30 * 86400:
        print_error("--keep-finished must be from 0 to 2592000 seconds")
        return EXIT_USAGE
    return guarded(args.debug, lambda: _serve(args, host, port, ids))


def _serve(args: argparse.Namespace, host: str, port: int, ids: list[int]) -> int:
    from callwatch.cli.sim_cmd import _listen
    from callwatch.store.resolve import DEFAULT_INTERVAL, resolve_connection

    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    for warning in conn.warnings:
        print_error(warning)
    try:
        sock = _listen(host, port)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        print_error(f"cannot listen on {args.listen}: {reason} (choose another with --listen)")
        return EXIT_USAGE
    interval = args.interval or conn.interval or DEFAULT_INTERVAL
    profile = conn.profile or "env"
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    url = f"http://{shown}:{bound[1]}"

    def ready() -> None:
        print(f"callwatch exporter: serving {url}/metrics and {url}/tasks "
              f"({len(ids)} tasks{', all active' if args.all_active else ''})", flush=True)

    asyncio.run(_main(args, conn, sock, interval, profile, ids, ready))
    return 0


async def _main(args: argparse.Namespace, conn: Connection, sock: socket.socket,
                interval: float, profile: str, ids: list[int], ready: Callable[[], None]
                ) -> None:
    from prometheus_client import disable_created_metrics

    from callwatch.api.client import ApiClient
    from callwatch.exporter import KEEP_FINISHED, serve_exporter
    from callwatch.monitor import Monitor

    # *_created series: noise for dashboards and alerts.
    disable_created_metrics()  # type: ignore[no-untyped-call]

    # The client is made inside the running loop (its semaphore and pool belong to it).
    async with ApiClient(conn.credentials, conn.brand, conn.base_url) as client:
        monitor = Monitor(client, interval=interval, all_active=args.all_active)
        tune_gc()  # a long-running monitor: see tune_gc
        monitor.watch(ids)
        keep = KEEP_FINISHED if args.keep_finished is None else args.keep_finished
        await serve_exporter(monitor, sock, profile, keep_finished=keep, on_ready=ready)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run("exporter", sys.argv[1:]))
