"""SIGTERM (a service manager, kill) and SIGHUP (the SSH session dropped) quit like q,
and always quit.

The graceful path saves the watch list and restores the terminal (alternate screen
left, cursor shown). When the terminal is gone (SIGHUP after a hang-up) Textual's own
shutdown can wait for ever on the dead tty: a watchdog ends the process after a grace
period, and a second signal ends it at once. A plain ``signal.signal`` handler, not the
event loop's: it still runs when the loop is stuck.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from types import FrameType

SIGNAL_GRACE = 3.0  # s: the graceful quit's time before the process ends regardless
_RESTORE = b"\x1b[?1049l\x1b[?25h"  # leave the alternate screen, show the cursor


def install(quit_soon: Callable[[], None]) -> None:
    """Call ``quit_soon`` in the event loop on SIGTERM or SIGHUP (main thread only)."""
    loop = asyncio.get_running_loop()
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            _exit_now()
        fired = True
        threading.Thread(target=_exit_later, name="signal-grace", daemon=True).start()
        loop.call_soon_threadsafe(quit_soon)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with suppress(ValueError, OSError):  # not the main thread (tests): no handler
            signal.signal(sig, handler)


def _exit_later() -> None:
    time.sleep(SIGNAL_GRACE)
    _exit_now()


def _exit_now() -> None:
    with suppress(OSError, ValueError, AttributeError):
        os.write(sys.__stdout__.fileno(), _RESTORE)  # type: ignore[union-attr]
    os._exit(0)
