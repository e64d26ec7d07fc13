"""Readable without colour: every state says itself in words (NO_COLOR, 16 colours)."""

from __future__ import annotations

import re

import pytest

from callwatch.tui.format import STATE_LOOKS
from tests.helpers.tui import make_app, settle, settle_detail

WORDS = ["calling", "completed", "submit failed", "cancelled", "suspended", "waiting",
         "submitting"]


CHROME = {"#28c840", "#febc2e", "#ff5f57"}  # the SVG's window buttons, not the app


def _hues(svg: str) -> set[str]:
    """Fill colours that are not grey (ignoring the screenshot's window chrome)."""
    out = set()
    for colour in set(re.findall(r'fill="(#[0-9a-fA-F]{6})"', svg)) - CHROME:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        if max(r, g, b) - min(r, g, b) > 12:
            out.add(colour)
    return out


async def _screen(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[str, str]:
    for key in ("NO_COLOR", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = make_app()
    app.monitor.watch([424242])  # unknown to the server: "not found"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await settle_detail(pilot, app)
        app.main.flush()
        await pilot.pause()
        svg = app.export_screenshot()
    return svg, re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TEXTUAL_COLOR_SYSTEM": "standard"}, {}])
async def test_states_are_words_whatever_the_colours(monkeypatch: pytest.MonkeyPatch,
                                                     env: dict[str, str]) -> None:
    svg, text = await _screen(monkeypatch, env)
    for word in [*WORDS, "not found"]:
        assert word in text, word
    if "NO_COLOR" in env:
        assert _hues(svg) == set()  # greys only: the words carry the meaning
    else:
        assert _hues(svg)  # the control: with colour, the palette does show


def test_every_state_has_a_distinct_glyph_and_word() -> None:
    words = [look.word for look in STATE_LOOKS.values()]
    assert len(set(words)) == len(words)
    assert all(look.glyph.strip() for look in STATE_LOOKS.values())
