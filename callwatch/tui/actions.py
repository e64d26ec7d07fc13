"""Cancel (x) and suspend (z) from the monitor: off unless enabled, confirmed by typing
the task id (or the count), a toast per task, and the row read again at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from callwatch.errors import ConfigError
from callwatch.monitor import TaskView
from callwatch.monitor.actions import (
    DISABLED_HINT,
    NO_RESUME,
    AccountLabel,
    Action,
    TaskOutcome,
    perform,
)
from callwatch.store.audit import AuditLog
from callwatch.textsafe import sanitize

if TYPE_CHECKING:
    from callwatch.tui.app import CallwatchApp

SHOWN_TASKS = 12  # named one per line in the dialog; more are counted


def task_line(job_id: int, view: TaskView | None) -> str:
    """``5000601  payment-reminder-02  calling  31.0%`` (what the monitor knows now)."""
    job = view.job if view is not None else None
    if job is None:
        return f"{job_id}  (not read yet)"
    progress = "-" if job.progress is None else f"{job.progress:.1f}%"
    return f"{job_id}  {sanitize(job.task_name or '', 40)}  {job.state.label}  {progress}"


class ActionScreen(ModalScreen[bool]):
    """Names the tasks; enter acts only once the id (or the count) is typed; esc aborts."""

    BINDINGS = [Binding("escape", "abort", "Abort", id="action.abort")]

    def __init__(self, action: Action, lines: list[str], expected: str, account: str) -> None:
        super().__init__()
        self.action_kind = action
        self.lines = lines
        self.expected = expected
        self.account = account

    def compose(self) -> ComposeResult:
        verb, count = self.action_kind.value, len(self.lines)
        text = Text()
        text.append(f"{verb.capitalize()} {count} task{'s' if count > 1 else ''}",
                    style="bold")
        text.append(f" on {sanitize(self.account)}:\n")
        for line in self.lines[:SHOWN_TASKS]:
            text.append(f"  {line}\n")
        if count > SHOWN_TASKS:
            text.append(f"  … and {count - SHOWN_TASKS} more\n")
        if self.action_kind is Action.SUSPEND:
            text.append(NO_RESUME + "\n", style="bold")
        what = "the task id" if count == 1 else f"the number of tasks ({count})"
        text.append(f"Type {what} and press enter to {verb}.")
        with Vertical(classes="dialog", id="action-dialog"):
            yield Static(text, id="action-tasks")
            yield Input(placeholder=f"type {self.expected} to {verb}", id="action-input")
            yield Static("", id="action-error", markup=False)
            yield Label(f"enter: {verb} · esc: abort (nothing is sent)", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#action-input", Input).focus()

    @on(Input.Submitted, "#action-input")
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)
            return
        what = "task id" if len(self.lines) == 1 else "number of tasks"
        self.query_one("#action-error", Static).update(
            Text(f"✗ that is not the {what} ({self.expected}): nothing was sent",
                 style="bold red"))

    def action_abort(self) -> None:
        self.dismiss(False)


def start_action(app: CallwatchApp, kind: str) -> None:
    """x / z: check, name the tasks, ask; act when confirmed."""
    action = Action(kind)
    if not app.actions_enabled:
        app.notify(DISABLED_HINT, title=f"{action.value.capitalize()}: read-only",
                   severity="warning", markup=False, timeout=10)
        return
    table = app.main.table
    ids = sorted(table.marked) if table.marked else (
        [table.selected_id] if table.selected_id is not None else [])
    if not ids:
        app.notify("No task selected", severity="warning")
        return
    lines = [task_line(j, app.monitor.view(j)) for j in ids]
    expected = str(ids[0]) if len(ids) == 1 else str(len(ids))

    def answer(confirmed: bool | None) -> None:
        if confirmed:
            app.run_worker(act(app, action, ids), group="actions", exit_on_error=False)

    app.push_screen(ActionScreen(action, lines, expected, app.account), answer)


async def act(app: CallwatchApp, action: Action, ids: list[int]) -> list[TaskOutcome]:
    """Send, toast each outcome, read each task again (the row updates at once)."""
    mon = app.monitor
    client = mon.client
    label = AccountLabel(app.profile, client.brand.value, client.base_url)
    try:
        audit = AuditLog.open()
    except ConfigError as exc:
        app.notify(exc.message, title=f"{action.value.capitalize()}: nothing sent",
                   severity="error", markup=False, timeout=15)
        return []
    with audit:
        outcomes, warning = await perform(client, action, ids, label, audit)
    app.main.table.clear_marks()
    app.main.update_info()
    for outcome in outcomes:
        app.notify(outcome.words(), title=action.value.capitalize(), markup=False,
                   severity="information" if outcome.ok else "error", timeout=10)
        mon.fetch_detail(outcome.job_id)
    if warning:
        app.notify(warning, severity="warning", markup=False, timeout=15)
    return outcomes
