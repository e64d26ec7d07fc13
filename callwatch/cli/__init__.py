"""Command-line entry: ``callwatch`` (the monitor) and its subcommands.

Subcommand modules are imported lazily so that one-shot commands never pay for
importing Textual.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("callwatch.cli.sim_cmd", "serve the API simulator on loopback"),
    "status": ("callwatch.cli.oneshot", "print the state of tasks once"),
    "list": ("callwatch.cli.oneshot", "list the account's tasks"),
    "wait": ("callwatch.cli.oneshot", "wait until tasks finish"),
    "cancel": ("callwatch.cli.actions_cmd", "cancel tasks (only when actions are enabled)"),
    "suspend": ("callwatch.cli.actions_cmd", "suspend tasks (only when actions are enabled)"),
    "login": ("callwatch.cli.auth_cmds", "store credentials for a profile"),
    "logout": ("callwatch.cli.auth_cmds", "remove a profile's secret"),
    "auth": ("callwatch.cli.auth_cmds", "show where credentials come from and if they work"),
    "exporter": ("callwatch.cli.exporter_cmd",
                 "serve Prometheus metrics: one poller for a team"),
    "serve": ("callwatch.cli.serve_cmd", "the monitor in a web browser, read-only"),
    "info": ("callwatch.cli.auth_cmds", "print version, file paths and keyring backend"),
    "balance": ("callwatch.cli.balance_cmd", "print the account balance once"),
    "alerts": ("callwatch.cli.alerts_cmd", "watch headless: events as JSON lines, rules"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    demo = "--demo" in args and not (args and args[0] in COMMANDS)
    from callwatch import codecache

    codecache.install()  # before any dataclass is made: see callwatch/codecache.py
    if demo:
        from callwatch.cli import demo_proc

        # At once: its simulator boots on the other core while the monitor loads (a
        # forked one inherits the caches just installed).
        demo_proc.start_early()
    try:
        return _main(args)
    finally:
        if demo:
            demo_proc.drop_early()  # started and never taken (a usage error, --help)
        codecache.save()


def _main(args: list[str]) -> int:
    if args and args[0] in COMMANDS:
        name = args.pop(0)
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.run(name, args))
    from callwatch.cli import monitor_cmd

    return monitor_cmd.run("monitor", args)
