"""``--demo``: an API client wired to an in-process simulator (no sockets, no account)."""

from __future__ import annotations

from typing import Any

from callwatch.api.client import ApiClient
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
from callwatch.sim.app import SimState
from callwatch.sim.transport import in_process_transport


def demo_client(state: SimState, **kwargs: Any) -> ApiClient:
    """An API client that talks to ``state``'s simulator in-process."""
    key, secret = next(iter(state.config.keys.items()))
    return ApiClient(Credentials(key, Secret(secret)), state.config.brand,
                     "http://callwatch-demo.invalid", transport=in_process_transport(state),
                     **kwargs)
