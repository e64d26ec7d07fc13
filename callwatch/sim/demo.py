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


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    import asyncio
    import signal

    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.002)
    if server.started:
        # uvicorn's graceful SIGTERM waits on open connections: nothing here to save.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        print("ready", flush=True)
    await serving


def main() -> int:
    threading.Thread(target=_exit_at_eof, name="stdin-eof", daemon=True).start()
    sock = listen()
    print(f"port {sock.getsockname()[1]}", flush=True)
    import asyncio

    from callwatch.sim.server import demo_state, make_server

    state = demo_state(DEMO_JOBS, DEMO_SEED)
    if list(state.jobs) != demo_job_ids() or state.config.brand.value != DEMO_BRAND \
            or state.config.keys != {DEMO_KEY: DEMO_SECRET}:
        print("callwatch.sim.demo: the demo world does not match its constants",
              file=sys.stderr)
        return 1
    server = make_server(state, HOST, sock.getsockname()[1], ws="none")
    asyncio.run(_serve(server, sock))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
