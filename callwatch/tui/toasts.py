"""Monitor events as toasts, a batch at a time.

A cycle can trip the same alert for many tasks at once (80 tasks over the failure-rate
threshold on the first cycles of a busy account): one toast each stacked up over the
screen, and each one's expiry re-laid the screen out. Events that arrive together are
shown together: up to SINGLE toasts of a kind, beyond that one toast that sums them up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from callwatch.monitor.events import Event
from callwatch.textsafe import sanitize

if TYPE_CHECKING:
    from textual.timer import Timer

    from callwatch.tui.app import CallwatchApp

EVENT_TITLES = {"finished": "Task finished", "failed": "Task failed",
                "stalled": "Task stalled", "resumed": "Task resumed",
                "fail_rate": "High failure rate", "balance_low": "Balance low",
                "api_problem": "API problem", "recovered": "Recovered"}
CALM_EVENTS = frozenset({"finished", "resumed", "recovered"})
RINGING = frozenset({"finished", "failed"})

BATCH = 0.5  # s: events this close together are one batch (a cycle's answers)
SINGLE = 3  # toasts of one kind per batch; more are summed up in one
LISTED = 3  # lines of a summary that name a task
TIMEOUT = 8.0  # s a toast stays


class EventToasts:
    """Collects the monitor's events; ``flush`` shows them (the screen flushes with
    each table update, a timer otherwise)."""

    def __init__(self, app: CallwatchApp) -> None:
        self.app = app
        self.pending: list[Event] = []
        self._timer: Timer | None = None

    def add(self, event: Event) -> None:
        self.pending.append(event)
        if self._timer is None:
            self._timer = self.app.set_timer(BATCH, self.flush, name="toasts")

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        events, self.pending = self.pending, []
        if not events:
            return
        ui = self.app.settings.ui
        if ui.toast:
            kinds: dict[str, list[Event]] = {}
            for event in events:
                kinds.setdefault(event.event, []).append(event)
            for kind, same in kinds.items():
                self._show(kind, same)
        if ui.bell and any(e.event in RINGING for e in events):
            self.app.bell()  # once a batch: a row of bells says no more than one

    def _show(self, kind: str, events: list[Event]) -> None:
        title = EVENT_TITLES.get(kind, "Alert")
        severity: Literal["information", "warning"] = (
            "information" if kind in CALM_EVENTS else "warning")
        if len(events) <= SINGLE:
            for event in events:
                self.app.notify(sanitize(event.text, 200), title=title, markup=False,
                                timeout=TIMEOUT, severity=severity)
            return
        lines = [sanitize(e.text, 200) for e in events[:LISTED]]
        lines.append(f"… and {len(events) - LISTED:,} more")
        what = "tasks" if events[0].job_id is not None else "alerts"
        self.app.notify("\n".join(lines), title=f"{title}: {len(events):,} {what}",
                        markup=False, timeout=TIMEOUT, severity=severity)
