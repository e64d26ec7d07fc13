"""Modal screens: add job ids, confirm, help, profile picker."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static

from callwatch.api.types import parse_job_ids
from callwatch.tui.keys import help_rows as help_rows  # the help screen's rows

MAX_IDS = 500  # at once, in the add dialog


class AddJobsScreen(ModalScreen[list[int] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="add.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Watch job ids (several: separate with spaces or commas)")
            yield Input(placeholder="e.g. 5000600 5000601", id="add-input")
            yield Static("", id="add-error", markup=False)
            yield Label("enter: add · esc: cancel", classes="hint")

    @on(Input.Submitted, "#add-input")
    def submitted(self, event: Input.Submitted) -> None:
        try:
            ids = parse_job_ids(event.value, limit=MAX_IDS)
        except ValueError as exc:
            self.query_one("#add-error", Static).update(Text(f"✗ {exc}", style="bold red"))
            return
        self.dismiss(ids)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), id="confirm-question")
            yield Label("y: yes · n / esc: no", classes="hint")
            with Vertical(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpScreen(ModalScreen[None]):
    """Every binding with its current key (after the user's keymap)."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
        Binding("j,down", "scroll('down')", "Scroll", show=False, id="help.down"),
        Binding("k,up", "scroll('up')", "Scroll", show=False, id="help.up"),
        Binding("g,home", "scroll('top')", "Top", show=False, id="help.top"),
        Binding("G,end", "scroll('bottom')", "Bottom", show=False, id="help.bottom"),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False, id="help.page_down"),
        Binding("pageup", "scroll('page_up')", "Page up", show=False, id="help.page_up"),
    ]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        table = Table(title="callwatch keys", title_style="bold", expand=False,
                      show_edge=False, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column(Text("id (for [keys] in config.toml)"), style="dim", no_wrap=True)
        for key, desc, bid in self.rows:
            table.add_row(key, desc, bid)
        with VerticalScroll(classes="dialog", id="help-box"):
            yield Static(table, id="help-table")
            yield Label("esc / q / ?: close · remap keys in config.toml [keys]", classes="hint",
                        markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        box = self.query_one("#help-box", VerticalScroll)
        moves = {"down": box.scroll_down, "up": box.scroll_up, "top": box.scroll_home,
                 "bottom": box.scroll_end, "page_down": box.scroll_page_down,
                 "page_up": box.scroll_page_up}
        moves[direction](animate=False)


class ProfileList(OptionList):
    """The movement keys of the watch list: j/k, g/G (home/end, pgup/pgdn: OptionList's)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Move down", show=False, id="profile.down"),
        Binding("k", "cursor_up", "Move up", show=False, id="profile.up"),
        Binding("g", "first", "First", show=False, id="profile.top"),
        Binding("G", "last", "Last", show=False, id="profile.bottom"),
    ]


class ProfileScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="profile.cancel")]

    def __init__(self, profiles: Sequence[str], current: str | None) -> None:
        super().__init__()
        self.profiles = list(profiles)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Switch profile (enter: switch · esc: cancel)")
            yield ProfileList(*[Text(p + ("  (current)" if p == self.current else ""))
                               for p in self.profiles], id="profile-list")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.profiles[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
