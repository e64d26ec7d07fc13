"""Run the exporter: the monitor polls headless, uvicorn serves, both in one event loop.

One loop means a scrape reads the monitor between two answers, never in the middle of
one: no locks. Finished tasks are dropped after ``keep_finished`` seconds, so that the
series (and the watch list) do not grow for ever in ``--all-active`` mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Generator

import uvicorn
from prometheus_client import CollectorRegistry

from callwatch.exporter.metrics import ApiMetrics, MonitorCollector
from callwatch.exporter.web import build_app
from callwatch.monitor import Monitor, TaskView, Update

KEEP_FINISHED = 3600.0  # s: a finished task's series stay this long, then go


def _done(view: TaskView) -> bool:
    return view.missing or (view.job is not None and view.job.state.finished)


class Retention:
    """When each watched task was first seen finished (or missing); drops the old ones."""

    def __init__(self, monitor: Monitor, keep: float) -> None:
        self.monitor = monitor
        self.keep = keep
        self._since: dict[int, float] = {}

    def note(self, update: Update) -> None:
        """The monitor's ``on_update``: O(changed), for it is called per answer."""
        for view in update.changed:
            if _done(view):
                self._since.setdefault(view.job_id, update.at)

    def prune(self) -> list[int]:
        now = self.monitor.now()
        old = [jid for jid, since in self._since.items() if now - since >= self.keep]
        self.monitor.unwatch(old)
        for jid in old:
            del self._since[jid]
        return old

    async def run(self) -> None:
        every = min(60.0, max(0.1, self.keep / 4))
        while True:
            await asyncio.sleep(every)
            self.prune()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises SIGTERM after its shutdown (the process would die of it);
        # serve_exporter handles the signals itself and exits 0.
        yield


def make_registry(monitor: Monitor, profile: str) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    monitor.client.observer = ApiMetrics(registry).observe
    registry.register(MonitorCollector(monitor, profile))
    return registry


async def serve_exporter(monitor: Monitor, sock: socket.socket, profile: str, *,
                         keep_finished: float = KEEP_FINISHED, handle_signals: bool = True,
                         on_ready: Callable[[], None] | None = None) -> None:
    """Poll and serve until SIGTERM/SIGINT (or the server is told to exit)."""
    app = build_app(make_registry(monitor, profile), monitor, profile)
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                    lifespan="off", server_header=False,
                                    timeout_graceful_shutdown=1))
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
    for sig in signals:
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    retention = Retention(monitor, keep_finished)
    poll = loop.create_task(monitor.run(retention.note))
    pruner = loop.create_task(retention.run())
    ready = loop.create_task(_when_started(server, on_ready))
    try:
        await server.serve(sockets=[sock])
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        monitor.stop()
        for task in (pruner, ready):
            task.cancel()
        await asyncio.gather(poll, pruner, ready, return_exceptions=True)


async def _when_started(server: uvicorn.Server, on_ready: Callable[[], None] | None) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    if on_ready is not None:
        on_ready()
