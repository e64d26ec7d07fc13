"""What to ask and when: the refresh planner, the poll loop, per-task history."""

from callwatch.monitor.core import Monitor
from callwatch.monitor.problems import Problem
from callwatch.monitor.views import TaskIssue, TaskView, Update

__all__ = ["Monitor", "Problem", "TaskIssue", "TaskView", "Update"]
