"""SVG snapshots of the real app on a frozen simulator (pytest --snapshot-update)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from callwatch.tui.app import CallwatchApp
from callwatch.tui.browse import BrowseScreen
from tests.helpers.tui import BANNERS, make_app, settle, settle_detail

pytestmark = pytest.mark.usefixtures("utc")

SIZES = [(80, 24), (120, 40)]
SnapCompare = Callable[..., bool]


def before(app: CallwatchApp, *keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await quiet(pilot, app)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.2)
        if isinstance(app.screen, BrowseScreen):
            screen = app.screen
            for _ in range(200):
                if screen.page is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run


async def quiet(pilot: Pilot[Any], app: CallwatchApp) -> None:
    """The first cycle, then the selected task's detail (one GET after the debounce)."""
    await settle(pilot, app)
    await settle_detail(pilot, app)
    app.main.flush()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", ["main", "detail", "help", "browse"])
def test_screens(snap_compare: SnapCompare, view: str, size: tuple[int, int]) -> None:
    app = make_app(persist=False)
    keys = {"main": (), "detail": ("enter",), "help": ("question_mark",),
            "browse": ("b",)}[view]
    assert snap_compare(app, terminal_size=size, run_before=before(app, *keys))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", sorted(BANNERS))
def test_banners(snap_compare: SnapCompare, kind: str, size: tuple[int, int]) -> None:
    app = make_app(persist=False, problems=[BANNERS[kind]])
    assert snap_compare(app, terminal_size=size, run_before=before(app))
