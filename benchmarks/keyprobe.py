"""Key presses at random moments, timed from the press to the first frame showing them.

The keys come from another thread through the driver, as a terminal's input thread
delivers them: a press is timed from the moment it is made, even while the app's event
loop is busy with a refresh (a probe from inside the loop could only press between two
blocks of work, and would never see a freeze). A frame is timed when Textual hands the
composed update to its driver (headless: the app's work, not the terminal's).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.screen import Screen

from callwatch.tui.app import CallwatchApp

TIMEOUT = 30.0  # a press not shown by then counts as this long


class KeyProber:
    """Moves the cursor with ``j`` / ``k`` and times each move until a frame shows it."""

    def __init__(self, app: CallwatchApp, seed: int = 7) -> None:
        self.app = app
        self.rng = random.Random(seed)
        # What the last frame showed (written by the loop thread, read by the prober).
        self.shown_id: int | None = None
        self.shown_row = 0
        self.frames = 0
        self._armed: tuple[int | None] | None = None  # the selected id before the press
        self._t1 = 0.0
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.latencies: list[float] = []
        self.when: list[tuple[Callable[[], bool], list[float]]] = []
        self._last_key = "k"

    # --- the frame hook (loop thread) ---------------------------------------------------

    def install(self) -> None:
        app = self.app
        original = app._display

        def display(screen: Screen[Any], renderable: RenderableType | None) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return  # nothing reached the driver
            self._frame()

        app._display = display  # type: ignore[method-assign]

    def _frame(self) -> None:
        now = time.perf_counter()
        self.frames += 1
        try:
            table = self.app.main.table
        except LookupError:
            return
        self.shown_id, self.shown_row = table.selected_id, table.cursor_row
        armed = self._armed
        if armed is not None and self.shown_id != armed[0]:
            self._armed = None
            self._t1 = now
            self._done.set()
        for predicate, slot in self.when:
            if not slot and predicate():
                slot.append(now)

    def first_frame_when(self, predicate: Callable[[], bool]) -> list[float]:
        """A list that receives the time of the first frame after which ``predicate``
        holds (checked on every frame, in the loop thread)."""
        slot: list[float] = []
        self.when.append((predicate, slot))
        return slot

    # --- pressing (prober thread) -------------------------------------------------------

    def press(self, key: str | None = None, timeout: float = TIMEOUT) -> float | None:
        """One move (``j``, ``k``, or by default back and forth between two rows); seconds
        until a frame shows it (``None`` if there is no row yet)."""
        if self.shown_id is None:
            return None
        if key is None:
            key = "j" if self._last_key == "k" or self.shown_row == 0 else "k"
        self._last_key = key
        self._done.clear()
        self._armed = (self.shown_id,)
        t0 = time.perf_counter()
        driver = self.app._driver
        assert driver is not None
        driver.send_message(events.Key(key, key))  # thread-safe: the driver's own path
        if not self._done.wait(timeout):
            self._armed = None
            return timeout
        return self._t1 - t0

    def start(self, gap: tuple[float, float] = (0.05, 0.5)) -> None:
        """Press at random moments (a random pause after each answer) until stop()."""
        self.latencies = []
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(self.rng.uniform(*gap)):
                took = self.press()
                if took is not None:
                    self.latencies.append(took)

        self._thread = threading.Thread(target=loop, name="key-prober", daemon=True)
        self._thread.start()

    async def stop(self) -> list[float]:
        """Stop pressing; the last press in flight is still timed (the loop runs on: a
        blocking join here would hold back the very frame that press waits for)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, TIMEOUT + 5)
            self._thread = None
        return list(self.latencies)
