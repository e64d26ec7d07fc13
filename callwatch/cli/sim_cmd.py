"""``callwatch sim``: serve the simulator on loopback with uvicorn."""

from __future__ import annotations

import argparse
import math
import secrets
import socket
import string
import sys
from collections.abc import Callable, Sequence

from callwatch.api.brands import Brand
from callwatch.cli.common import EXIT_USAGE
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.control import MAX_INT, MAX_PAGES, MAX_SPEED, set_task_fault
from callwatch.sim.faults import LIST_FILLS, PROFILES, TASK_FAULTS, ListLie, TaskFault
from callwatch.sim.model import SimClock

MAX_JOBS = 1_000_000


def _token(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _number(lo: float, hi: float, *, integer: bool = False) -> Callable[[str], float | int]:
    """An argparse type: a finite number within [lo, hi]."""
    def parse(text: str) -> float | int:
        try:
            value: float | int = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
        # The range test first: math.isfinite() overflows on a huge int.
        if not lo <= value <= hi or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be from {lo:g} to {hi:g}")
        return value
    return parse


def _task_fault(text: str) -> tuple[int, TaskFault]:
    job_id, _, kind = text.partition(":")
    if not (job_id.isascii() and job_id.isdigit()) or not 1 <= int(job_id) <= MAX_INT \
            or kind not in TASK_FAULTS:
        raise argparse.ArgumentTypeError(
            f"expected ID:KIND, ID a task id and KIND one of {', '.join(TASK_FAULTS)}")
    return int(job_id), TaskFault(kind)


def _list_lie(text: str) -> ListLie:
    parts = text.split(":")
    try:
        pages, per_page = int(parts[0]), int(parts[1]) if len(parts) > 1 else 3
    except ValueError:
        pages = per_page = -1
    fill = parts[2] if len(parts) > 2 else "repeat"
    if len(parts) > 3 or not 1 <= pages <= MAX_PAGES or not 0 <= per_page <= 100 \
            or fill not in LIST_FILLS:
        raise argparse.ArgumentTypeError(
            f"expected PAGES[:RECORDS[:FILL]], PAGES 1..{MAX_PAGES}, RECORDS 0..100, "
            f"FILL one of {', '.join(LIST_FILLS)}")
    return ListLie(pages, per_page, fill)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch sim",
                                description="Serve the voice group-call API simulator.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; another needs "
                        "--allow-remote)")
    p.add_argument("--port", type=_number(0, 65535, integer=True), default=8765,
                   help="port to listen on (default 8765; 0: any free port)")
    p.add_argument("--jobs", type=_number(0, MAX_JOBS, integer=True), default=12,
                   help="tasks to create (default 12)")
    p.add_argument("--speed", type=_number(0, MAX_SPEED), default=1.0,
                   help="simulated seconds per real second (default 1.0); 0 freezes the clock")
    p.add_argument("--seed", type=_number(-MAX_INT, MAX_INT, integer=True), default=1,
                   help="random seed of the tasks' numbers (default 1)")
    p.add_argument("--faults", choices=PROFILES, default="none",
                   help="injected API failures (default none)")
    p.add_argument("--task-fault", type=_task_fault, action="append", default=[],
                   metavar="ID:KIND",
                   help=f"script a fault for one task's detail requests (repeatable; "
                        f"default: none); KIND: {', '.join(TASK_FAULTS)}")
    p.add_argument("--list-lie", type=_list_lie, nargs="?", const=ListLie(),
                   metavar="PAGES[:RECORDS[:FILL]]",
                   help="the list endpoint claims PAGES pages of RECORDS (default: it "
                        "tells the truth; alone: 1000000000:3:repeat); FILL: repeat (first "
                        "records on every page) or real (then empty pages)")
    p.add_argument("--balance", type=_number(0, 1e12), default=None, metavar="AMOUNT",
                   help="the account's money, charged per billed minute; at zero calling "
                        "tasks stand still (default: plenty; top up via /_sim/balance)")
    p.add_argument("--brand", choices=[b.value for b in Brand], default="itnio",
                   help="API flavour to serve (default itnio)")
    p.add_argument("--api-key", help="the key clients must sign with (default: a random "
                                     "one, printed at start)")
    p.add_argument("--api-secret", help="its secret (default: a random one, printed at "
                                        "start)")
    p.add_argument("--rate-limit", type=_number(1e-3, 1e6), default=None,
                   help="requests per second per key before -15 (default: unlimited)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (disables the /_sim/ control endpoints)")
    return p


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything is printed (OSError when it is taken); the server
    then serves on this very socket, so nothing can take the port in between."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(addr)
    except OSError:
        sock.close()
        raise
    return sock


def run(name: str, argv: Sequence[str]) -> int:
    from callwatch.sim.server import is_loopback, make_server

    args = build_parser().parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"callwatch sim: refusing to listen on non-loopback host {args.host!r}; "
              "pass --allow-remote if you really mean it", file=sys.stderr)
        return EXIT_USAGE
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"callwatch sim: cannot listen on {args.host}:{args.port}: {reason.lower()} "
              "(choose another with --port)", file=sys.stderr)
        return EXIT_USAGE
    key = args.api_key or _token(8)
    secret = args.api_secret or _token(16)
    import time

    state = SimState(SimConfig(brand=Brand(args.brand), keys={key: secret}, faults=args.faults,
                               seed=args.seed, rate_limit=args.rate_limit,
                               control=not args.allow_remote, balance=args.balance),
                     clock=SimClock(time.time, args.speed))
    state.populate(args.jobs)
    for job_id, fault in args.task_fault:
        set_task_fault(state, job_id, fault)
    state.list_lie = args.list_lie
    base = f"http://{args.host}:{sock.getsockname()[1]}"  # --port 0: the one given
    print(f"callwatch simulator ({args.brand}, {args.jobs} tasks, faults={args.faults}, "
          f"speed={args.speed}) on {base}", flush=True)
    print("Use it with:", flush=True)
    # Printing the secret is the point here: it is the simulator's own, made up just now.
    print(f"  export CALLWATCH_BASE_URL={base} CALLWATCH_BRAND={args.brand}", flush=True)
    print(f"  export CALLWATCH_API_KEY={key} CALLWATCH_API_SECRET={secret}", flush=True)
    if args.task_fault:
        faults = ", ".join(f"{i}={f.value}" for i, f in sorted(state.task_faults.items()))
        print(f"Task faults: {faults}", flush=True)
    if args.list_lie is not None:
        lie = args.list_lie
        print(f"List lie: {lie.pages} pages of {lie.records_per_page} ({lie.fill})", flush=True)
    print("Ctrl+C stops it.", flush=True)
    server = make_server(state, args.host, args.port)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0
