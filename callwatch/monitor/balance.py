"""The account balance, polled at most once a minute (not every cycle): the header shows
it and the event detector watches it for ``balance_low``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from callwatch.api.models import Balance
from callwatch.errors import CallwatchError

if TYPE_CHECKING:
    from callwatch.monitor.core import Monitor

log = logging.getLogger(__name__)

BALANCE_EVERY = 60.0  # s between balance requests


class BalancePoller:
    def __init__(self, every: float = BALANCE_EVERY) -> None:
        self.every = every
        self.last: Balance | None = None  # the latest good answer
        self.error: CallwatchError | None = None  # the latest answer failed
        self._next = float("-inf")  # monotonic time of the next request
        self._client: object = None  # the account the values belong to
        self._busy = False

    def due(self, monitor: Monitor, now: float) -> bool:
        if monitor.client is not self._client:  # switched account: old values are wrong
            self._client, self.last, self.error = monitor.client, None, None
            self._next = float("-inf")
        return not self._busy and now >= self._next

    async def poll(self, monitor: Monitor) -> None:
        """One balance request; never raises (the task requests report the account's
        problems; a failing balance only leaves the header's value out)."""
        client = monitor.client
        self._busy = True
        self._next = monitor.now() + self.every
        try:
            balance = await client.balance(deadline=monitor.request_deadline)
        except CallwatchError as exc:
            if client is monitor.client:
                self.error = exc
            log.info("balance request failed: %s", exc.message)
            return
        finally:
            self._busy = False
        if client is not monitor.client:
            return
        self.last, self.error = balance, None
        if monitor.events is not None:
            monitor.events.balance_seen(balance.balance)
        monitor.publish(())  # the header shows it now
