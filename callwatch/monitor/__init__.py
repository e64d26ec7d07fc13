"""What to ask and when: the refresh planner, the poll loop, per-task history."""

from callwatch.monitor.core import CycleResult, Monitor, TaskView
from callwatch.monitor.problems import Problem

__all__ = ["CycleResult", "Monitor", "Problem", "TaskView"]
