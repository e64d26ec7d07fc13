"""The three ways an event leaves callwatch: a command (no shell, the event JSON on
stdin), a webhook (POST JSON, retried) and a desktop notification (notify-send)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx

EXEC_TIMEOUT = 10.0  # s a rule's command may run
WEBHOOK_TIMEOUT = 10.0  # s per webhook attempt
WEBHOOK_RETRIES = 3  # after the first attempt
WEBHOOK_BACKOFF = 1.0  # s before the first retry, doubling
NOTIFY_TIMEOUT = 5.0


class DeliveryError(Exception):
    """A rule's action failed (said in words without the webhook's path or query, which
    often hold a token)."""


def where(url: str) -> str:
    """A webhook named without its path and query (Slack and Mattermost put the token
    in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


async def run_exec(argv: Sequence[str], payload: bytes, timeout: float = EXEC_TIMEOUT) -> int:
    """Run ``argv`` (no shell) with ``payload`` on stdin; its exit code. The command
    gets no terminal and no output channel: it cannot draw over the TUI."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise DeliveryError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    try:
        async with asyncio.timeout(timeout):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await proc.communicate(payload)
            return await proc.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise DeliveryError(f"{argv[0]!r} did not finish within {timeout:g} s; "
                            "killed") from None


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


async def post_webhook(client: httpx.AsyncClient, url: str, payload: bytes, *,
                       retries: int = WEBHOOK_RETRIES, backoff: float = WEBHOOK_BACKOFF,
                       timeout: float = WEBHOOK_TIMEOUT,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> int:
    """POST ``payload`` (JSON); retried with doubling backoff on a transport failure, a
    timeout or a 5xx/408/429 answer. Returns the final HTTP status."""
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            await sleep(backoff * 2 ** (attempt - 1))
        try:
            async with asyncio.timeout(timeout):
                resp = await client.post(url, content=payload,
                                         headers={"Content-Type": "application/json"})
        except (TimeoutError, httpx.TimeoutException):
            last = f"no answer within {timeout:g} s"
            continue
        except httpx.HTTPError as exc:
            last = type(exc).__name__
            continue
        if resp.status_code < 300:
            return resp.status_code
        last = f"HTTP {resp.status_code}"
        if not _retryable(resp.status_code):
            break
    raise DeliveryError(f"webhook {where(url)} failed: {last}")


def can_notify() -> bool:
    """notify-send is installed and there is a session to show it in."""
    return shutil.which("notify-send") is not None and any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"))


async def notify_desktop(title: str, text: str) -> None:
    """A desktop notification; nothing at all when it cannot be shown."""
    if not can_notify():
        return
    with contextlib.suppress(DeliveryError):
        await run_exec(["notify-send", "--app-name=callwatch", "--", title, text], b"",
                       NOTIFY_TIMEOUT)
