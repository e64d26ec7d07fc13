"""Idle: when nothing changes, nothing is sent to the terminal; events toast in batches."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from callwatch.monitor.events import Event
from callwatch.tui.app import CallwatchApp
from callwatch.tui.toasts import BATCH, LISTED, SINGLE
from tests.helpers.tui import frozen_state, make_app, settle

pytestmark = pytest.mark.usefixtures("utc")

Span = tuple[int, int, int]  # y, x from, x to (exclusive)


def record_paints(app: CallwatchApp, monkeypatch: pytest.MonkeyPatch) -> list[Span]:
    """Every span of the screen that a frame repaints, from now on."""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    spans: list[Span] = []
    display = app._display

    def recording(screen: object, renderable: object) -> None:
        if isinstance(renderable, ChopsUpdate):
            spans.extend(renderable.spans)
        elif isinstance(renderable, LayoutUpdate):
            r = renderable.region
            spans.extend((y, r.x, r.right) for y in range(r.y, r.bottom))
        display(screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "_display", recording)
    return spans


async def quiet(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_idle_cycles_repaint_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The simulator and the clocks are frozen: every answer is the one before.
    app = make_app(interval=5.0)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app, 2)
        spans = record_paints(app, monkeypatch)
        for _ in range(4):
            before = app.monitor.cycles
            app.monitor.refresh_now()
            await settle(pilot, app, before + 1)
            app._tick()  # the status clock's second, as its timer would
            await quiet(pilot)
        assert app.monitor.cycles >= 6
        assert spans == []


async def test_a_screen_layout_leaves_the_table_scrollbar_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(frozen_state(80))
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await settle(pilot, app)
        table = app.main.table
        assert table.show_vertical_scrollbar  # more rows than lines
        bar = table.vertical_scrollbar.region
        assert bar.width == 1
        spans = record_paints(app, monkeypatch)
        app.notify("a toast comes", timeout=30)  # and lays the screen out again
        await quiet(pilot)
        app.clear_notifications()  # and goes: again
        await quiet(pilot)
        assert spans  # the toast was painted, then what it covered
        assert not [s for s in spans if bar.y <= s[0] < bar.bottom and s[1] <= bar.x < s[2]]
        # A new row count still moves the scrollbar's thumb.
        spans.clear()
        table.forget([table.visible_ids()[-1]])
        await quiet(pilot)
        assert [s for s in spans if bar.y <= s[0] < bar.bottom and s[1] <= bar.x < s[2]]


def fail_rate(job_id: int) -> Event:
    return Event("fail_rate", "2026-01-01T00:00:00Z", "test",
                 f"#{job_id} high failure rate: 61.0% of 1,000 calls", job_id=job_id)


def finished(job_id: int) -> Event:
    return Event("finished", "2026-01-01T00:00:00Z", "test", f"#{job_id} completed",
                 job_id=job_id)


async def test_many_events_of_a_kind_are_one_toast(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        app._notifications.clear()
        for jid in range(100, 180):
            app._event(fail_rate(jid))
        for jid in range(200, 200 + SINGLE):
            app._event(finished(jid))
        app.toasts.flush()
        await pilot.pause()
        toasts = list(app._notifications)
        summary = [n for n in toasts if n.title == "High failure rate: 80 tasks"]
        assert len(summary) == 1
        lines = summary[0].message.splitlines()
        assert lines[:LISTED] == [fail_rate(jid).text for jid in range(100, 100 + LISTED)]
        assert lines[-1] == f"… and {80 - LISTED} more"
        # A few of a kind are shown one by one, as before; the bell rings once.
        done = [n.message for n in toasts if n.title == "Task finished"]
        assert done == [finished(jid).text for jid in range(200, 200 + SINGLE)]
        assert len(toasts) == 1 + SINGLE
        assert bells == [1]


async def test_events_toast_without_a_flush() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot, app)
        app._notifications.clear()
        app._event(finished(300))
        deadline = time.monotonic() + BATCH + 10
        while not any(n.message == "#300 completed" for n in app._notifications):
            assert time.monotonic() < deadline, "the batch was never shown"
            await pilot.pause(0.05)
        assert app.toasts.pending == []


async def test_collections_wait_for_the_first_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    app = make_app(persist=False)
    at_first_frame: list[tuple[bool, bool]] = []
    display = app._display

    def first(screen: object, renderable: object) -> None:
        if renderable is not None and not at_first_frame:
            filter_made = bool(app.screen.query("#filter"))
            at_first_frame.append((gc.isenabled(), filter_made))
        display(screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "_display", first)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot, app)
            # No collections while the first frame was made, nor the hidden filter input.
            assert at_first_frame == [(False, False)]
            assert gc.isenabled()  # both come once it is painted
            filt = app.main.query_one("#filter", Input)
            assert not filt.display and filt.parent is app.main
    finally:
        gc.enable()


async def test_the_filter_works_when_slash_comes_before_its_input() -> None:
    app = make_app(persist=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        app.main.query_one("#filter").remove()  # as if "/" came first
        await pilot.pause()
        await pilot.press("slash", "p", "r", "o", "m", "o")
        await pilot.pause()
        table = app.main.table
        assert table.filter_text == "promo"
        names = [app.monitor.view(j).job.task_name for j in table.visible_ids()]  # type: ignore[union-attr]
        assert names and all("promo" in (n or "") for n in names)
        await pilot.press("enter")
        await pilot.pause()
        assert table.has_focus and not app.main.query_one("#filter").display


async def test_the_status_line_redraws_when_what_it_says_changes_and_only_then() -> None:
    """Every second the line asks whether anything it shows changed (cheaply) and builds
    its texts only then: an idle monitor repaints nothing, a late one shows each second."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from callwatch.monitor import Monitor
    from callwatch.tui.widgets import StatusLine
    from tests.helpers.common import make_client

    now = [1000.0]
    mon = Monitor(make_client("http://127.0.0.1:9"), interval=5.0, clock=lambda: now[0])

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusLine(mon, "acct", lambda: now[0], id="status")

    async with Host().run_test(size=(120, 3)) as pilot:
        status = pilot.app.query_one(StatusLine)
        said: list[str] = []
        for widget in status.query(Static):
            original = widget.update

            def spy(content: object = "", *, layout: bool = True,
                    _o: Callable[..., None] = original) -> None:
                said.append(str(getattr(content, "plain", content)))
                _o(content, layout=layout)

            widget.update = spy  # type: ignore[method-assign]
        mon.last_success = now[0]
        status.tick()
        assert any("up to date" in s for s in said)
        said.clear()
        for _ in range(3):  # fresh and unchanged: nothing is drawn again
            now[0] += 1.0
            status.tick()
        assert said == []
        now[0] += 20.0
        status.tick()
        assert any("updated 23s ago" in s for s in said), said
        said.clear()
        now[0] += 1.0
        status.tick()
        assert said and all("up to date" not in s for s in said)
        assert any("24s" in s for s in said), said
        said.clear()
        mon.watch([1, 2, 3])  # a figure of the tail changed: drawn again
        status.tick()
        assert any("3 watched" in s for s in said), said
        await pilot.pause()
        await mon.client.aclose()
