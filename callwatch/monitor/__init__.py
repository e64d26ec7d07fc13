"""What to ask and when: the refresh planner, the poll loop, per-task history."""
