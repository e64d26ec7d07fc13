"""The main screen's footer: every shown key on one line, drawn by one widget.

Textual's Footer is a container with a widget per key: at start-up, a dozen widgets
to style, lay out and (on each bindings signal) compose again. One line of text
shows the same thing for a fraction of the work, and a click on a key still works.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

NORMAL, DIM = Style(), Style(dim=True)  # a disabled key is dimmed

# (key, how the key is shown, description, enabled)
FooterItem = tuple[str, str, str, bool]


class KeysFooter(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keys-footer--key", "keys-footer--description"}
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .keys-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keys-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.items: tuple[FooterItem, ...] = ()
        self._hits: list[tuple[int, int, str, bool]] = []  # x range of each key, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        items = self.shown()
        if items != self.items:  # focus moves often; the keys shown change rarely
            self.items = items
            self.refresh()

    def shown(self) -> tuple[FooterItem, ...]:
        """The bindings to show, in the screen's order: one per action (as Textual's)."""
        actions: set[str] = set()
        out: list[FooterItem] = []
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                out.append((binding.key, self.app.get_key_display(binding),
                            binding.description, enabled))
        return tuple(out)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keys-footer--key")
        description_style = self.get_component_rich_style("keys-footer--description")
        text = Text(no_wrap=True, overflow="crop", end="")
        self._hits = []
        for key, display, description, enabled in self.items:
            start = text.cell_len
            dim = NORMAL if enabled else DIM
            text.append(display, style=key_style + dim)
            text.append(f" {description}", style=description_style + dim)
            self._hits.append((start, text.cell_len, key, enabled))
            text.append(" ")
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._hits:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
