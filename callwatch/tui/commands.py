"""Command palette (ctrl+p): the monitor's actions, only where they make sense.

Each command is a main-screen binding (callwatch/tui/keys.py): its action, and its
key after the user's keymap.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from callwatch.tui.keys import palette_commands


class MonitorCommands(Provider):
    def _available(self) -> list[tuple[str, str, str]]:
        from callwatch.tui.app import CallwatchApp
        from callwatch.tui.main import MainScreen

        keymap = self.app.settings.keys if isinstance(self.app, CallwatchApp) else {}
        on_main = isinstance(self.screen, MainScreen)
        # Elsewhere only the app's actions: a main-screen action has no screen to act on.
        return [c for c in palette_commands(self.app, keymap)
                if on_main or c[1].startswith("app.")]

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
