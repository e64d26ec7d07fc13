"""``callwatch sim``: serve the simulator on loopback with uvicorn."""

from __future__ import annotations

import argparse
import secrets
import socket
import string
import sys
from collections.abc import Sequence

from callwatch.api.brands import Brand
from callwatch.cli.common import EXIT_USAGE
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.faults import PROFILES
from callwatch.sim.model import SimClock


def _token(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callwatch sim",
                                description="Serve the voice group-call API simulator.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; another needs "
                        "--allow-remote)")
    p.add_argument("--port", type=int, default=8765,
                   help="port to listen on (default 8765; 0: any free port)")
    p.add_argument("--jobs", type=int, default=12, help="tasks to create (default 12)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per real second (default 1.0)")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed of the tasks' numbers (default 1)")
    p.add_argument("--faults", choices=PROFILES, default="none",
                   help="injected API failures (default none)")
    p.add_argument("--brand", choices=[b.value for b in Brand], default="itnio",
                   help="API flavour to serve (default itnio)")
    p.add_argument("--api-key", help="the key clients must sign with (default: a random "
                                     "one, printed at start)")
    p.add_argument("--api-secret", help="its secret (default: a random one, printed at "
                                        "start)")
    p.add_argument("--rate-limit", type=float, default=None,
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
    if args.jobs < 0 or args.speed <= 0:
        print("callwatch sim: --jobs must be >= 0 and --speed > 0", file=sys.stderr)
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
                               control=not args.allow_remote),
                     clock=SimClock(time.time, args.speed))
    state.populate(args.jobs)
    base = f"http://{args.host}:{sock.getsockname()[1]}"  # --port 0: the one given
    print(f"callwatch simulator ({args.brand}, {args.jobs} tasks, faults={args.faults}, "
          f"speed={args.speed}) on {base}", flush=True)
    print("Use it with:", flush=True)
    # Printing the secret is the point here: it is the simulator's own, made up just now.
    print(f"  export CALLWATCH_BASE_URL={base} CALLWATCH_BRAND={args.brand}", flush=True)
    print(f"  export CALLWATCH_API_KEY={key} CALLWATCH_API_SECRET={secret}", flush=True)
    print("Ctrl+C stops it.", flush=True)
    server = make_server(state, args.host, args.port)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0
