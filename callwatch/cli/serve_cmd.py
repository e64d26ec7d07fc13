"""``callwatch serve``: the monitor in a browser (textual-serve), read-only.

Each browser session gets its own ``python -m callwatch … --read-only`` process; the
server only relays the screen. The child finds its credentials itself (environment,
profile, keyring), so no secret is ever on a command line or in the page.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    add_connection_args,
    guarded,
    print_error,
)

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Our copy of textual-serve's page: no Google Fonts link, relative URLs.
PAGE_DIR = Path(__file__).resolve().parent / "serve_page"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callwatch serve",
        description="Serve the monitor to a web browser (a wall screen, or `ssh -L`). "
                    "Each browser tab runs its own read-only monitor: cancel and suspend "
                    "are off whatever the profile says.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to serve on (default {DEFAULT_HOST}; a non-loopback "
                        "host needs --allow-remote)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (anyone who reaches the port sees "
                        "your tasks; put a firewall or an authenticating proxy in front)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between refreshes (min 1; default: the profile's, else 5)")
    p.add_argument("--all-active", action="store_true",
                   help="watch every unfinished task and keep adding new ones")
    # Accepted only to be refused with words (argparse would just say "unrecognized").
    p.add_argument("--allow-actions", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="task ids to watch")
    return p


def child_argv(args: argparse.Namespace) -> list[str]:
    """The monitor each browser session runs: only names and options, never a
    credential (the child reads those from the environment, profile or keyring)."""
    argv = [sys.executable, "-m", "callwatch"]
    for flag, value in (("--profile", args.profile), ("--brand", args.brand),
                        ("--base-url", args.base_url), ("--interval", args.interval)):
        if value is not None:
            argv += [flag, str(value)]
    for flag, on in (("--allow-insecure-http", args.allow_insecure_http),
                     ("--all-active", args.all_active), ("--debug", args.debug)):
        if on:
            argv.append(flag)
    return [*argv, "--read-only", *(str(i) for i in args.ids)]


def run(name: str, argv: Sequence[str]) -> int:
    from callwatch.api.types import parse_job_ids
    from callwatch.sim.server import is_loopback

    args = build_parser().parse_args(list(argv))
    if args.allow_actions:
        print_error("serve is read-only: --allow-actions cannot be used with it")
        return EXIT_USAGE
    if not is_loopback(args.host) and not args.allow_remote:
        print_error(f"refusing to serve on non-loopback host {args.host[:60]!r}; pass "
                    "--allow-remote if you really mean it")
        return EXIT_USAGE
    if not 0 <= args.port <= 65535:
        print_error(f"--port must be from 0 to 65535, got {args.port}")
        return EXIT_USAGE
    try:
        args.ids = parse_job_ids(" ".join(args.job_ids)) if args.job_ids else []
    except ValueError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    return guarded(args.debug, lambda: _serve(args))


def _serve(args: argparse.Namespace) -> int:
    from callwatch.cli.sim_cmd import _listen

    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        print_error(f"cannot listen on {args.host[:60]}:{args.port}: {reason} "
                    "(choose another with --port)")
        return EXIT_USAGE
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    url = f"http://{shown}:{bound[1]}"

    def ready() -> None:
        print(f"callwatch serve: open {url}/ in a browser (read-only; Ctrl+C stops)",
              flush=True)

    asyncio.run(_main(shlex.join(child_argv(args)), sock, url, ready))
    return 0


async def _main(command: str, sock: socket.socket, url: str,
                ready: Callable[[], None]) -> None:
    from aiohttp import web
    from textual_serve.server import Server

    class _Server(Server):
        async def on_startup(self, app: web.Application) -> None:
            pass  # textual-serve prints a logo and the command here: we print one line

    # title: the page shows it (the default is the command line).
    server = _Server(command, title="callwatch", public_url=url, templates_path=PAGE_DIR)
    # shutdown_timeout: open sessions are cut after 3 s on Ctrl+C/SIGTERM, not 60.
    runner = web.AppRunner(await server._make_app(), handle_signals=False,
                           shutdown_timeout=3.0)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.SockSite(runner, sock).start()
        ready()
        await stop.wait()
    finally:
        # Closes the websockets: each session's child is told to quit.
        await runner.cleanup()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run("serve", sys.argv[1:]))
