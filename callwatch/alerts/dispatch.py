"""Deliver events to the rules, in the background: ``submit`` returns at once (it runs
inside the monitor's publish, on the UI's event loop), every action is its own task,
and a slow or hanging webhook holds up nothing but its own retries."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx

from callwatch.alerts.actions import (
    EXEC_TIMEOUT,
    WEBHOOK_BACKOFF,
    WEBHOOK_RETRIES,
    WEBHOOK_TIMEOUT,
    DeliveryError,
    notify_desktop,
    post_webhook,
    run_exec,
)
from callwatch.monitor.events import Event
from callwatch.store.alerts_config import AlertSettings
from callwatch.textsafe import sanitize

log = logging.getLogger(__name__)

MAX_PENDING = 500  # deliveries in flight; beyond this new ones are dropped (and logged)
MAX_CONCURRENT = 8
# Desktop notifications for what needs a person (not resumed/recovered chatter).
DESKTOP_EVENTS = frozenset({"finished", "failed", "stalled", "fail_rate", "balance_low",
                            "api_problem"})


class Dispatcher:
    def __init__(self, settings: AlertSettings, *, exec_timeout: float = EXEC_TIMEOUT,
                 webhook_timeout: float = WEBHOOK_TIMEOUT,
                 webhook_retries: int = WEBHOOK_RETRIES,
                 webhook_backoff: float = WEBHOOK_BACKOFF,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.exec_timeout = exec_timeout
        self.webhook_timeout = webhook_timeout
        self.webhook_retries = webhook_retries
        self.webhook_backoff = webhook_backoff
        self.on_error = on_error
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._sem: asyncio.Semaphore | None = None
        self._http: httpx.AsyncClient | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, event: Event) -> None:
        """Start delivering ``event`` (an event sink: never blocks, never raises)."""
        if self._closed:
            return
        payload = json.dumps(event.to_json()).encode()
        jobs: list[tuple[str, Any]] = []
        for rule in self.settings.rules:
            if event.event not in rule.on:
                continue
            if rule.exec:
                jobs.append(("exec", run_exec(rule.exec, payload, self.exec_timeout)))
            if rule.webhook:
                jobs.append(("webhook", self._webhook(rule.webhook, payload)))
        if self.settings.desktop and event.event in DESKTOP_EVENTS:
            jobs.append(("desktop", notify_desktop(f"callwatch: {event.event}", event.text)))
        for kind, coro in jobs:
            if len(self._tasks) >= MAX_PENDING:
                coro.close()
                self.dropped += 1
                self._report(f"alert {event.event}: {kind} dropped ({MAX_PENDING} "
                             "deliveries still pending)")
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(kind, event, coro))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _webhook(self, url: str, payload: bytes) -> None:
        if self._http is None:
            # No credentials of any kind: the API key and secret never reach a webhook.
            self._http = httpx.AsyncClient(headers={"User-Agent": "callwatch-alerts"},
                                           follow_redirects=False)
        await post_webhook(self._http, url, payload, retries=self.webhook_retries,
                           backoff=self.webhook_backoff, timeout=self.webhook_timeout)

    async def _deliver(self, kind: str, event: Event, coro: Any) -> None:
        if self._sem is None:
            self._sem = asyncio.Semaphore(MAX_CONCURRENT)
        try:
            async with self._sem:
                result = await coro
            if kind == "exec" and result != 0:
                raise DeliveryError(f"the command exited with {result}")
            self.delivered += 1
        except asyncio.CancelledError:
            raise
        except DeliveryError as exc:
            self.failed += 1
            self._report(f"alert {event.event}: {kind}: {exc}")
        except Exception as exc:  # a delivery must never take the monitor down
            self.failed += 1
            log.exception("alert delivery failed")
            self._report(f"alert {event.event}: {kind} failed ({type(exc).__name__})")

    def _report(self, message: str) -> None:
        message = sanitize(message, 300)
        log.warning("%s", message)
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("reporting an alert failure failed")

    async def aclose(self, grace: float = 5.0) -> None:
        """Let deliveries under way finish for up to ``grace`` seconds, then stop them."""
        self._closed = True
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
