"""``callwatch --demo``'s simulator, run as a child process of the monitor.

The demo world (``demo_state``: a dozen tasks in every state) served by uvicorn on a
loopback port the child binds itself (port 0: no race). On stdout, one line each:
``port N`` as soon as the socket listens (connections wait in its backlog from then on),
before the slow imports, then ``ready`` once the server answers. It ends when its stdin
reaches end of file (the monitor closed it, or died, even by SIGKILL) and at once on
SIGTERM: the demo has nothing to save. Diagnostics go to stderr, which the monitor
reads for its message and never shows on the terminal.

This module is imported by the monitor for the constants below: no Starlette, no
uvicorn, no simulator at import time.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from callwatch.sim.app import SimState

HOST = "127.0.0.1"
DEMO_BRAND = "itnio"
DEMO_KEY, DEMO_SECRET = "demo-key", "demo-secret"  # the simulator's default account
DEMO_JOBS, DEMO_SEED = 12, 7
FIRST_JOB_ID = 5000600  # demo_jobs() numbers the tasks from here


def demo_job_ids() -> list[int]:
    """The ids of the demo's tasks, known without building the world."""
    return list(range(FIRST_JOB_ID, FIRST_JOB_ID + DEMO_JOBS))


def _exit_at_eof() -> None:
    """Read stdin until its end, then end the process at once."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


def listen() -> socket.socket:
    # IPPROTO_TCP said: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every answer on a kept-alive connection waited 40 ms (Nagle and
    # the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def _first_requests(port: int) -> list[bytes]:
    """What the monitor's first cycle asks (signed, reads only): the list, a detail, the
    balance."""
    import json
    import time
    from datetime import UTC, datetime, timedelta

    from callwatch.api.brands import Brand
    from callwatch.api.convert import format_local_dt
    from callwatch.api.signing import Secret, signed_headers

    brand, now = Brand(DEMO_BRAND), datetime.now(UTC)
    body = json.dumps({"current": 1, "size": 100, "params": {
        "strTime": format_local_dt(now - timedelta(days=30)),
        "endTime": format_local_dt(now + timedelta(days=1)), "statusList": []}}).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(
        DEMO_KEY, Secret(DEMO_SECRET), int(time.time())).items()) + f"Host: {HOST}:{port}\r\n"
    return [f"POST {brand.voice_prefix}/group/call/query HTTP/1.1\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body,
            f"GET {brand.voice_prefix}/group/call/detail/{FIRST_JOB_ID} HTTP/1.1\r\n"
            f"{head}\r\n".encode(),
            f"GET {brand.balance_path} HTTP/1.1\r\n{head}\r\n".encode()]


async def _warm_up(port: int) -> None:
    """Answer the first cycle's requests once before saying ready: a fresh process's
    first answers are slower (first calls through uvicorn, the app, the models), and the
    monitor's first frame waits for the first one. Best effort."""
    import asyncio

    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for request in _first_requests(port):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
    finally:
        writer.close()


async def _serve(server: uvicorn.Server, state: SimState, sock: socket.socket) -> None:
    import asyncio
    import signal

    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.002)
    if server.started:
        # uvicorn's graceful SIGTERM waits on open connections: nothing here to save.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            await asyncio.wait_for(_warm_up(sock.getsockname()[1]), 5.0)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass
        state.stats.clear()  # GET /_sim/stats counts the monitor's requests only
        from callwatch import codecache

        codecache.save()  # it ends by os._exit: no later moment (writes only after a miss)
        print("ready", flush=True)
    await serving


def main() -> int:
    threading.Thread(target=_exit_at_eof, name="stdin-eof", daemon=True).start()
    sock = listen()
    print(f"port {sock.getsockname()[1]}", flush=True)
    import asyncio

    from callwatch import codecache

    codecache.install()  # its start shares the machine with the monitor's

    from callwatch.sim.server import demo_state, make_server

    state = demo_state(DEMO_JOBS, DEMO_SEED)
    if list(state.jobs) != demo_job_ids() or state.config.brand.value != DEMO_BRAND \
            or state.config.keys != {DEMO_KEY: DEMO_SECRET}:
        print("callwatch.sim.demo: the demo world does not match its constants",
              file=sys.stderr)
        return 1
    server = make_server(state, HOST, sock.getsockname()[1], ws="none")
    asyncio.run(_serve(server, state, sock))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
