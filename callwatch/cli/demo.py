"""``--demo``: the monitor on the simulator, no account needed.

``callwatch --demo`` talks HTTP to the simulator run as a child process
(``callwatch.cli.demo_proc``); its first cycle waits until the child serves.
:func:`demo_client` wires a client to a simulator in this process instead, without
sockets (the tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callwatch.api.brands import Brand
from callwatch.api.client import ApiClient
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
from callwatch.cli.demo_proc import DemoSim, DemoSimError
from callwatch.monitor import Monitor, Problem, Update
from callwatch.monitor.core import OnUpdate
from callwatch.sim.demo import DEMO_BRAND, DEMO_KEY, DEMO_SECRET, demo_job_ids

if TYPE_CHECKING:
    from callwatch.sim.app import SimState

DEMO_FIX = "quit (q) and start it again; `callwatch sim` shows the simulator's own errors"


def demo_client(state: SimState, **kwargs: Any) -> ApiClient:
    """An API client that talks to ``state``'s simulator in-process."""
    from callwatch.sim.transport import in_process_transport

    key, secret = next(iter(state.config.keys.items()))
    return ApiClient(Credentials(key, Secret(secret)), state.config.brand,
                     "http://callwatch-demo.invalid", transport=in_process_transport(state),
                     **kwargs)


class DemoMonitor(Monitor):
    """The monitor of ``--demo``: its first cycle waits until the simulator serves (no
    "cannot connect" while it boots), and a simulator that fails says so on the banner."""

    def __init__(self, sim: DemoSim, **kwargs: Any) -> None:
        creds = Credentials(DEMO_KEY, Secret(DEMO_SECRET))
        super().__init__(ApiClient(creds, Brand(DEMO_BRAND), sim.base_url), **kwargs)
        self.sim = sim
        self.watch(demo_job_ids())

    async def run(self, on_update: OnUpdate) -> None:
        try:
            await self.sim.wait_ready()
        except DemoSimError as exc:
            self.raise_problem(Problem("demo", "error", exc.message, DEMO_FIX))
            on_update(Update(self.now(), (), (), (), self.problems, 0, ok=False))
            return
        await super().run(on_update)
