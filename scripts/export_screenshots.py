"""Regenerate screenshots/*.svg from the real app on the frozen demo simulator.

    python scripts/export_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.tui import BANNERS, make_app, settle  # noqa: E402

OUT = ROOT / "screenshots"

SHOTS: list[tuple[str, tuple[int, int], Sequence[str], str | None]] = [
    ("main-120x40", (120, 40), (), None),
    ("main-80x24", (80, 24), (), None),
    ("detail", (100, 40), ("j", "enter"), None),
    ("help", (120, 40), ("question_mark",), None),
    ("banner", (120, 40), (), "network"),
    ("browse", (120, 40), ("b",), None),
]


async def shoot(name: str, size: tuple[int, int], keys: Sequence[str],
                banner: str | None) -> Path:
    # The interval of a real setting (the tests use an hour so that no cycle surprises them).
    app = make_app(persist=False, problems=[BANNERS[banner]] if banner else [], interval=5.0)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, 2)
        await pilot.pause(0.5)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(1.0)
        await pilot.pause()
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name, size, keys, banner in SHOTS:
        print(await shoot(name, size, keys, banner))


if __name__ == "__main__":
    asyncio.run(main())
