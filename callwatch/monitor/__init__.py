"""What to ask and when: the refresh planner, the poll loop, per-task history."""

from callwatch.monitor.core import Monitor
from callwatch.monitor.problems import Problem
from callwatch.monitor.views import CycleResult, TaskView

__all__ = ["CycleResult", "Monitor", "Problem", "TaskView"]
