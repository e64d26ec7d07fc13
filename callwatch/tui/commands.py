"""Command palette (ctrl+p): the monitor's actions, only where they make sense."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS: list[tuple[str, str, str]] = [
    ("Pause / resume refreshing", "app.pause", "p"),
    ("Refresh now", "app.refresh_now", "r"),
    ("Refresh less often (+ interval)", "app.interval(1)", "+"),
    ("Refresh more often (- interval)", "app.interval(-1)", "-"),
    ("Add job ids to watch", "app.add_jobs", "a"),
    ("Remove the selected task from the watch list", "app.remove_selected", "d"),
    ("Browse the account's tasks", "app.browse", "b"),
    ("Copy the selected job id", "app.copy_id", "c"),
    ("Export visible rows (CSV + JSON)", "app.export", "e"),
    ("Filter rows", "screen.filter", "/"),
    ("Cycle the sort column", "screen.sort", "s"),
    ("Reverse the sort", "screen.reverse_sort", "S"),
    ("Open the selected task's detail", "screen.open_detail", "enter"),
    ("Switch profile", "app.switch_profile", "P"),
    ("Show all keys", "app.help", "?"),
    ("Quit", "app.quit_app", "q"),
]


class MonitorCommands(Provider):
    def _available(self) -> list[tuple[str, str, str]]:
        from callwatch.tui.main import MainScreen

        on_main = isinstance(self.screen, MainScreen)
        return [a for a in ACTIONS if on_main or a[1].startswith("app.")]

    async def _run(self, action: str) -> None:
        await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for title, action, key in self._available():
            yield DiscoveryHit(f"{title}  ({key})", partial(self._run, action), help=action)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, key in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(f"{title}  ({key})"),
                          partial(self._run, action), help=action)
