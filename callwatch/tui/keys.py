"""The keys as the user has them: bindings after the config's keymap ([keys] in config.toml).

The help screen and the command palette both read the bindings declared on the app,
the main screen and the job table (their ``BINDINGS``), and show each binding's key
after the user's keymap, so a remapped key is shown as remapped everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

# Longer words for the help screen where the footer's one word says too little.
HELP_WORDS = {
    "interval_up": "Refresh less often (+ interval)",
    "interval_down": "Refresh more often (- interval, min 1 s)",
    "palette": "Command palette",
}

# What the palette offers, in its order, by binding id: the palette says more than
# the footer's word. The key and the action come from the binding itself.
PALETTE_TITLES = {
    "pause": "Pause / resume refreshing",
    "refresh": "Refresh now",
    "interval_up": "Refresh less often (+ interval)",
    "interval_down": "Refresh more often (- interval)",
    "add": "Add job ids to watch",
    "remove": "Remove the selected task from the watch list",
    "browse": "Browse the account's tasks",
    "copy": "Copy the selected job id",
    "export": "Export visible rows (CSV + JSON)",
    "filter": "Filter rows",
    "sort": "Cycle the sort column",
    "sort_reverse": "Reverse the sort",
    "detail": "Open the selected task's detail",
    "profile": "Switch profile",
    "help": "Show all keys",
    "quit": "Quit",
}


def bindings_of(node: type[DOMNode]) -> list[Binding]:
    """The bindings a class declares itself (not its bases': Textual's defaults), one
    per declaration: ``j,down`` stays one binding with two keys."""
    declared: Iterable[BindingType] = node.__dict__.get("BINDINGS", ())
    return [b if isinstance(b, Binding) else Binding(*b) for b in declared]


def shown_keys(app: App[Any], binding: Binding, keymap: Mapping[str, str]) -> str:
    """``j, ↓``: the binding's keys after ``keymap`` (binding id -> keys), as Textual
    displays them."""
    keys = keymap.get(binding.id or "", binding.key)
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))


def main_bindings(app: App[Any]) -> list[Binding]:
    """The main screen's keys in the order Textual looks them up: the focused table's,
    the screen's, then the app's (those that are not a screen key's second key)."""
    from callwatch.tui.main import MainScreen
    from callwatch.tui.table import JobTable

    listed = [*bindings_of(JobTable), *bindings_of(MainScreen)]
    actions = {_bare(b.action) for b in listed}
    return listed + [b for b in bindings_of(type(app)) if _bare(b.action) not in actions]


def _bare(action: str) -> str:
    return action.removeprefix("app.").removeprefix("screen.")


def help_rows(app: App[Any], keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys as shown, what they do, binding id) for every key of the main screen."""
    return [(shown_keys(app, b, keymap), HELP_WORDS.get(b.id or "", b.description), b.id or "")
            for b in main_bindings(app)]


def palette_commands(app: App[Any], keymap: Mapping[str, str]
                     ) -> list[tuple[str, str, str]]:
    """(title, action, keys as shown) for every palette command, in PALETTE_TITLES order."""
    by_id = {b.id: b for b in main_bindings(app) if b.id in PALETTE_TITLES}
    return [(title, by_id[bid].action, shown_keys(app, by_id[bid], keymap))
            for bid, title in PALETTE_TITLES.items() if bid in by_id]
