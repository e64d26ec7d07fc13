"""The callwatch Textual app: one long-lived poll worker, keys, toasts, persistence."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import rich
from rich.segment import Segments
from textual import on
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from callwatch.api.client import ApiClient
from callwatch.monitor import Monitor, Problem, Update
from callwatch.monitor.events import Event, EventDetector
from callwatch.store.config import Config
from callwatch.store.state import SortState, UiState, load_ui_state, save_ui_state
from callwatch.textsafe import sanitize_lines
from callwatch.tui.main import MainScreen
from callwatch.tui.messages import stop_question, watching_message
from callwatch.tui.toasts import EventToasts

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.driver import Driver

    from callwatch.tui.browse import BrowseResult

# Screens used only on a key press are imported then, not before the first frame.

SAVE_DELAY = 3.0  # s: discovered tasks are saved this long after the first arrives
FIRST_FRAME_WAIT = 0.2  # s: how long the first frame may wait for the first refresh

INTERVAL_STEPS = (1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# (profile) -> (client, account label); raises CallwatchError when it cannot connect.
# Async: resolving may wait on the keyring, which must never block the event loop.
Connector = Callable[[str], Awaitable[tuple[ApiClient, str]]]


def _monitor_commands() -> type[Provider]:
    from callwatch.tui.commands import MonitorCommands

    return MonitorCommands


def next_interval(current: float, direction: int) -> float:
    if direction > 0:
        return next((s for s in INTERVAL_STEPS if s > current), INTERVAL_STEPS[-1])
    return next((s for s in reversed(INTERVAL_STEPS) if s < current), INTERVAL_STEPS[0])


class CallwatchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "callwatch"
    COMMANDS = App.COMMANDS | {_monitor_commands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("ctrl+q", "quit_app", "Quit", show=False, id="app.quit"),
                Binding("ctrl+p", "command_palette", "palette", show=False, priority=True,
                        tooltip="Open the command palette", id="palette")]  # [keys] remaps it

    def __init__(self, monitor: Monitor, *, account: str, profile: str | None = None,
                 settings: Config | None = None, initial: Iterable[int] = (),
                 clock: Callable[[], float] = time.monotonic,
                 connector: Connector | None = None, persist: bool = True,
                 wall: Callable[[], datetime] | None = None,
                 allow_actions: bool = False) -> None:
        super().__init__()
        self.monitor = monitor
        self.account = account
        self.profile = profile
        self.settings = settings or Config()
        self.clock = clock
        self.connector = connector
        self.wall = wall  # the browse screen's "now" (tests freeze it)
        self.persist = persist
        self.allow_actions = allow_actions  # --allow-actions: for this run, any profile
        self.ui_state = load_ui_state(profile) if persist else UiState()
        self.monitor.watch(self.ui_state.watched)
        self.monitor.watch(initial)
        self.poll_worker: Worker[None] | None = None
        self._quitting = False
        self._save_timer: Timer | None = None
        self._first_cycle = asyncio.Event()
        self._gc_paused = False  # collections off until the first frame (on_mount)
        self.last_export: tuple[Path, Path] | None = None
        self.toasts = EventToasts(self)  # the monitor's events, a batch at a time
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        if monitor.events is None:  # the monitor's events are the toasts and the bell
            monitor.events = EventDetector(self.settings.alerts, profile)
        monitor.events.sinks.append(self._event)

    # --- lifecycle -----------------------------------------------------------------

    def get_driver_class(self) -> type[Driver]:  # Textual's, without idle wake-ups
        from callwatch.tui.driver import quiet_driver

        return quiet_driver(super().get_driver_class())

    def get_default_screen(self) -> MainScreen:
        # Not pushed from on_mount: then its first layout and paint ran inside the
        # app's start-up batch, and Textual threw that frame away (~25 ms).
        return MainScreen()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick, name="status-clock")
        if gc.isenabled():  # no collections before the first frame (see _first_frame)
            gc.disable()
            self._gc_paused = True
            self.call_after_refresh(self._first_frame)
        # SIGTERM and SIGHUP quit like q (without this the process died with the terminal
        # still raw), and always quit (callwatch/tui/signals.py).
        from callwatch.tui import signals

        signals.install(self._on_signal)
        for warning in (*self.settings.warnings, *self.ui_state.warnings):
            self.notify(sanitize_lines(warning), title="Settings", severity="warning", markup=False,
                        timeout=15)

    def _first_frame(self) -> None:
        """The first frame is painted: collections resume (~5 ms of them came before it).
        Not frozen here, unlike the imports (cli.monitor_cmd): an app that goes away, as
        in tests, must leave nothing behind."""
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def start_polling(self) -> None:
        """The one long-lived poll worker (started once the main screen is up)."""
        self.poll_worker = self.run_worker(self.monitor.run(self._monitor_update), name="poll",
                                           group="poll", exit_on_error=False)

    async def start_first_poll(self) -> None:
        """Start polling and wait for the first refresh, so that the first frame shows
        its data (not an empty table, then a full one: two layouts and paints). A slow
        or failing API delays the first frame by FIRST_FRAME_WAIT at most."""
        self.start_polling()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._first_cycle.wait(), FIRST_FRAME_WAIT)

    @property
    def actions_enabled(self) -> bool:
        """Cancel/suspend allowed: --allow-actions, or the current profile's setting."""
        prof = self.settings.profile(self.profile) if self.profile else None
        return self.allow_actions or bool(prof and prof.actions)

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("main screen not mounted")

    def _on_signal(self) -> None:
        self.call_next(self.action_quit_app)

    def _tick(self) -> None:
        # The timer may fire once more while the app tears its screens down.
        with suppress(NoMatches, LookupError):
            self.main.tick()

    def _monitor_update(self, update: Update) -> None:
        if self._quitting:
            return  # quitting: the screens may be going away
        self.main.take_update(update)
        if update.added and self._save_timer is None:
            # Discovery adds tasks page by page: one save a few seconds later, not one
            # per page (each writes the whole watch list; q and signals save at once).
            self._save_timer = self.set_timer(SAVE_DELAY, self._delayed_save)
        self._first_cycle.set()

    def _event(self, event: Event) -> None:
        """Every monitor event is a toast (in batches); finished and failed ring the bell."""
        if self._quitting:
            return
        self.toasts.add(event)
        view = self.monitor.view(event.job_id) if event.job_id is not None else None
        if view is not None and event.event in ("stalled", "resumed", "fail_rate"):
            with suppress(LookupError):
                self.main.table.apply([view])  # its marker changed: repaint the row

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.poll_worker or event.state is not WorkerState.ERROR:
            return
        err = event.worker.error
        problem = Problem("internal", "error",
                          f"The refresh loop stopped: {type(err).__name__}",
                          "press r to restart it; see the log if it repeats")
        if not self._quitting:
            with suppress(LookupError):
                self.main.banner.show((*self.monitor.problems, problem))

    async def stop_polling(self) -> None:
        """Stop the poll worker (and its requests) before any screen goes away: an
        answer landing during shutdown must find nothing to update."""
        self._quitting = True
        self.monitor.stop()
        worker = self.poll_worker
        if worker is not None and not worker.is_finished:
            worker.cancel()
            with suppress(Exception):
                await worker.wait()

    async def on_unmount(self) -> None:
        self._first_frame()  # never painted (an error at start): collections resume anyway
        await self.stop_polling()
        await self.monitor.client.aclose()

    # --- crash handling: never print locals (secrets) --------------------------------

    def _fatal_error(self) -> None:
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    # --- persistence ---------------------------------------------------------------

    def _delayed_save(self) -> None:
        self._save_timer = None
        self.save_state()

    def save_state(self) -> None:
        table = self.main.table
        self.ui_state = UiState(watched=tuple(self.monitor.watched),
                                sort=SortState(table.sort_key, table.sort_reverse),
                                filter=table.filter_text)
        if self.persist:
            try:
                save_ui_state(self.profile, self.ui_state)
            except OSError as exc:
                self.notify(f"could not save the watch list: {exc}", severity="warning",
                            markup=False)

    # --- actions -------------------------------------------------------------------

    async def action_quit_app(self) -> None:
        self.save_state()
        self._quitting = True
        self.monitor.stop()
        self.exit(0)

    def action_help(self) -> None:
        from callwatch.tui.modals import HelpScreen, help_rows

        self.push_screen(HelpScreen(help_rows(self, self.settings.keys)))

    def action_pause(self) -> None:
        self.monitor.set_paused(not self.monitor.paused)
        self.main.tick()

    def action_refresh_now(self) -> None:
        if self.poll_worker is None or self.poll_worker.is_finished:
            self.start_polling()
        self.monitor.refresh_now()
        self.notify("Refreshing…", timeout=1.5)

    def fetch_selected_detail(self) -> None:
        """The cursor stopped on a task without its detail: one GET, not a cycle."""
        selected = self.monitor.selected
        if selected is not None:
            self.monitor.fetch_detail(selected)

    def action_interval(self, direction: int) -> None:
        mon = self.monitor
        mon.interval = next_interval(mon.interval, direction)
        self.main.status.tick()
        self.notify(f"Refresh every {mon.interval:g} s", timeout=2)

    def action_add_jobs(self) -> None:
        from callwatch.tui.modals import AddJobsScreen

        self.push_screen(AddJobsScreen(), self._added)

    def _added(self, ids: list[int] | None) -> None:
        if not ids:
            return
        self.notify(watching_message(ids, self.watch_ids(ids)), markup=False)

    def watch_ids(self, ids: Iterable[int]) -> list[int]:
        added = self.monitor.watch(ids)
        views = [v for v in (self.monitor.view(j) for j in added) if v is not None]
        self.main.add_views(views)
        if views:
            self.main.table.select_id(views[0].job_id)
        self.save_state()
        self.monitor.refresh_now()
        return added

    def action_remove_selected(self) -> None:
        jid = self.main.table.selected_id
        if jid is None:
            self.notify("No task selected", severity="warning")
            return
        view = self.monitor.view(jid)
        name = view.job.task_name if view and view.job and view.job.task_name else ""
        question = stop_question(jid, name)

        def answer(yes: bool | None) -> None:
            if yes:
                self.unwatch_ids([jid])

        from callwatch.tui.modals import ConfirmScreen

        self.push_screen(ConfirmScreen(question), answer)

    def unwatch_ids(self, ids: list[int]) -> None:
        self.monitor.unwatch(ids)
        self.main.forget(ids)
        self.save_state()
        self.notify(f"Stopped watching {' '.join(map(str, ids))}", markup=False)

    def action_browse(self) -> None:
        from callwatch.tui.browse import BrowseScreen

        self.push_screen(BrowseScreen(self.monitor.client, set(self.monitor.watched),
                                      now=self.wall), self._browsed)

    def _browsed(self, result: BrowseResult | None) -> None:
        if result is None:
            return
        if result.ids:
            self._added(list(result.ids))
        if result.all_active:
            self.monitor.all_active = True
            self.monitor.refresh_now()
            self.main.update_info()
            self.notify("Watching every active task (new ones are added as they appear)")

    def action_copy_id(self) -> None:
        jid = self.main.table.selected_id
        if jid is None:
            self.notify("No task selected", severity="warning")
            return
        self.copy_to_clipboard(str(jid))
        self.notify(f"Copied job id {jid} to the clipboard (OSC 52)", timeout=3)

    def action_export(self) -> None:
        from callwatch.tui.export import export_table

        export_table(self)

    def action_switch_profile(self) -> None:
        profiles = self.settings.profile_names()
        if not profiles or self.connector is None:
            self.notify("No profiles configured. Add one with: callwatch login --profile NAME",
                        title="Profiles", markup=False, timeout=8)
            return
        from callwatch.tui.modals import ProfileScreen

        self.push_screen(ProfileScreen(profiles, self.profile), self._switch)

    def _switch(self, profile: str | None) -> None:
        if profile is None or profile == self.profile or self.connector is None:
            return
        self.notify(f"Switching to {profile}…", markup=False, timeout=3)
        self.run_worker(self._switch_to(profile), group="switch", exclusive=True,
                        exit_on_error=False)

    async def _switch_to(self, profile: str) -> None:
        assert self.connector is not None
        try:
            client, account = await self.connector(profile)
        except Exception as exc:  # noqa: BLE001 - any failure is a toast, never a crash
            message = getattr(exc, "message", type(exc).__name__)
            self.notify(f"Cannot switch to {profile}: {sanitize_lines(message)}",
                        severity="error",
                        markup=False)
            return
        self.save_state()
        old = self.monitor.watched
        old_client = self.monitor.client
        self.monitor.unwatch(old)
        self.main.forget(old)
        self.monitor.set_client(client)
        await old_client.aclose()
        self.profile, self.account = profile, account
        if self.monitor.events is not None:
            self.monitor.events.profile = profile
        self.main.status.account = account
        self.main.status.actions = self.actions_enabled
        self.main.status.tick()
        self.ui_state = load_ui_state(profile) if self.persist else UiState()
        self.watch_ids(self.ui_state.watched)
        self.notify(f"Switched to {profile}", markup=False)
