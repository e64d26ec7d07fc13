"""Run the simulator on loopback with uvicorn (``callwatch sim``, ``--demo``'s child
process, tests); without sockets, in-process: ``callwatch.sim.transport``."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callwatch.sim.app import SimConfig, SimState, build_app

if TYPE_CHECKING:  # uvicorn is imported when serving, never by the monitor
    import uvicorn


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def make_server(state: SimState, host: str, port: int, log_level: str = "warning",
                ws: str = "auto") -> uvicorn.Server:
    """``ws="none"``: no websocket support (the API has none; skips looking for it)."""
    import uvicorn

    config = uvicorn.Config(
        build_app(state), host=host, port=port, log_level=log_level, ws=ws,
        # The app sets Date itself, from its own (possibly skewed) clock.
        date_header=False, server_header=False, access_log=False, lifespan="off",
        timeout_graceful_shutdown=1,
    )

    class SimServer(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Hung requests (HANG task faults) end now instead of after uvicorn's
            # graceful timeout, and without its "cancel running tasks" error.
            state.release_hangs()
            await super().shutdown(sockets)

    return SimServer(config)


@dataclass
class RunningSim:
    state: SimState
    base_url: str
    server: uvicorn.Server


@contextlib.contextmanager
def serve_in_thread(state: SimState, host: str = "127.0.0.1") -> Iterator[RunningSim]:
    """Serve on a free loopback port in a background thread (tests, benchmarks)."""
    port = free_port(host)
    server = make_server(state, host, port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("simulator did not start")
    try:
        yield RunningSim(state, f"http://{host}:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def demo_state(jobs: int = 12, seed: int = 7, faults: str = "none") -> SimState:
    state = SimState(SimConfig(faults=faults, seed=seed))
    state.populate(jobs)
    return state
