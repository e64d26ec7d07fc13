"""Alert delivery: the rules of ``config.toml`` (exec, webhook) and desktop notifications.

Above the monitor (which detects the events), beside the TUI; never imports Textual.
"""

from callwatch.alerts.dispatch import Dispatcher

__all__ = ["Dispatcher"]
