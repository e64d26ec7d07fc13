"""The baseline for start-up: a bare Textual hello-world with a footer."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static


class Hello(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("Hello, World!")
        yield Footer()


if __name__ == "__main__":
    Hello().run()
