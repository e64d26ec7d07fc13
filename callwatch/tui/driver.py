"""The terminal driver: Textual's Linux driver, without its input thread's ten wake-ups a
second.

Textual's input thread waits for keys with a 0.1 s timeout, always, so that a lone ESC
can be told from the start of an escape sequence (the parser's timeout). An idle monitor
left open on an ops box for days paid for those wake-ups: about a third of its idle CPU.
Here the thread waits without a timeout unless the parser is waiting for the rest of a
sequence, and a pipe wakes it when input is disabled (quit, suspend), so it still ends
at once. Everything else is Textual's (pinned in ``pyproject.toml``; a test runs it in a
real terminal).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from contextlib import suppress
from threading import Event, Lock
from typing import Any

from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

POLL = 0.1  # s: Textual's own poll, kept while an escape sequence may be incomplete


class _WakingEvent(Event):
    """The input thread's exit flag: setting it also wakes the thread's wait, through
    the pipe of the thread running now (a suspend ends a thread, a resume starts one)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = Lock()  # the pipe is never written after its thread closed it
        self._wake_fd = -1

    def attach(self, fd: int) -> None:
        with self._lock:
            self._wake_fd = fd

    def detach(self) -> None:
        with self._lock:
            self._wake_fd = -1

    @property
    def attached(self) -> bool:
        return self._wake_fd >= 0

    def set(self) -> None:
        super().set()  # before the write: a thread not yet waiting sees the flag
        with self._lock:
            if self._wake_fd >= 0:
                try:
                    os.write(self._wake_fd, b"x")
                except OSError:  # full of wake-ups already: the thread wakes anyway
                    pass


class QuietLinuxDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event: _WakingEvent = _WakingEvent()

    def run_input_thread(self) -> None:
        """Textual's loop (textual/drivers/linux_driver.py), with the timeout only while
        the parser waits for the rest of a sequence, and a wake pipe watched too."""
        wake, wake_w = os.pipe()
        os.set_blocking(wake, False)
        os.set_blocking(wake_w, False)
        self.exit_event.attach(wake_w)
        selector = selectors.SelectSelector()
        fileno = self.fileno
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]],
                    final: bool = False) -> None:
            for key, _mask in events:
                if key.fd == wake:
                    with suppress(OSError):
                        os.read(wake, 512)  # drained: the loop checks the exit flag
                    continue
                data = decode(os.read(fileno, 1024 * 4), final=final)
                if not data:
                    break  # stdin piped and at its end
                for event in feed(data):
                    self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            selector.register(fileno, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self.exit_event.is_set():
                # A private attribute of Textual's parser: when it is gone (a newer
                # Textual), poll as Textual does.
                waiting = getattr(parser, "_timeout_time", POLL) is not None
                process(selector.select(POLL if waiting else None))
            selector.unregister(fileno)
            process(selector.select(0), final=True)
        finally:
            selector.close()
            self.exit_event.detach()
            os.close(wake)
            os.close(wake_w)
            try:
                for _event in feed(""):
                    pass
            except Exception:  # EOFError or ParseError, as Textual ignores them
                pass


def quiet_driver(chosen: type[Driver]) -> type[Driver]:
    """The driver to use: this one where Textual chose its Linux driver (not the web
    driver of ``callwatch serve``, not another platform's, not one set by the user)."""
    return QuietLinuxDriver if chosen is LinuxDriver else chosen
