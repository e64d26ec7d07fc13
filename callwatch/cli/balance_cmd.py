"""``callwatch balance [--json]``: the account balance, once."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from callwatch.api.models import Balance
from callwatch.cli.common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    add_connection_args,
    guarded,
    print_error,
    with_advice,
)
from callwatch.cli.oneshot_fetch import TIMEOUT_ENV, make_client, request_timeout
from callwatch.cli.output import sanitize
from callwatch.errors import CallwatchError
from callwatch.store.resolve import Connection, resolve_connection


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch balance",
                                description="Print the account balance (and gift and "
                                            "credit) once.",
                                epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(p)
    p.add_argument("--request-timeout", type=float, metavar="SECONDS",
                   help=f"give up after this long, retries included (default 25; env "
                        f"{TIMEOUT_ENV})")
    p.add_argument("--json", action="store_true",
                   help='one JSON object: {"balance": 99.99, "gift": 50.0, "credit": 0.0, '
                        '"currency": null} (numbers, not strings)')
    return p


def run(name: str, argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    return guarded(args.debug, lambda: _balance(args))


def _balance(args: argparse.Namespace) -> int:
    deadline = request_timeout(args.request_timeout)
    conn = resolve_connection(args.profile, args.brand, args.base_url,
                              allow_insecure_http=args.allow_insecure_http)
    for warning in conn.warnings:
        print_error(warning)
    try:
        balance = asyncio.run(_fetch(conn, deadline))
    except CallwatchError as exc:
        raise with_advice(exc, conn) from None
    if args.json:
        sys.stdout.write(json.dumps(balance.to_json()) + "\n")
    else:
        sys.stdout.write(balance_line(balance) + "\n")
    return EXIT_OK


def balance_line(balance: Balance) -> str:
    currency = f" {sanitize(balance.currency)}" if balance.currency else ""
    parts = [f"balance {balance.balance:,.2f}{currency}"]
    if balance.gift:
        parts.append(f"gift {balance.gift:,.2f}")
    if balance.credit:
        parts.append(f"credit {balance.credit:,.2f}")
    return " · ".join(parts)


async def _fetch(conn: Connection, deadline: float) -> Balance:
    async with make_client(conn, deadline) as client:
        return await client.balance()
