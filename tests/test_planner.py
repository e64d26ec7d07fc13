"""The planner's choice for a table of cases."""

from __future__ import annotations

import pytest

from callwatch.monitor.planner import Plan, plan_cycle

R = range(1, 10_001)


@pytest.mark.parametrize(("kwargs", "expected"), [
    # nothing watched, nothing selected: no request at all
    ({"active": []}, Plan(False, 0, ())),
    # one task: a detail is as cheap as a list page and carries every field
    ({"active": [7]}, Plan(False, 0, (7,))),
    # a few tasks, small account: one list page refreshes them all
    ({"active": [1, 2, 3], "account_active": 40}, Plan(True, 1, ())),
    # a few tasks in a huge account: 3 details beat 50 pages
    ({"active": [1, 2, 3], "account_active": 5000}, Plan(False, 0, (1, 2, 3))),
    # 1,000 active watched tasks + the selected one: 10 pages + 1 detail
    ({"active": list(R[:1000]), "account_active": 1000, "selected": 5},
     Plan(True, 10, (5,))),
    # 10,000: 100 pages instead of 10,000 details
    ({"active": list(R), "account_active": 10_000}, Plan(True, 100, ())),
    # the selected task, finished with its final detail already read, costs nothing
    ({"active": [1, 2], "selected": 9, "selected_needs_detail": False, "account_active": 2},
     Plan(True, 1, ())),
    # a task the list cannot see (outside its window) keeps its own detail
    ({"active": [1, 2, 3, 4], "detail_only": [4], "account_active": 3},
     Plan(True, 1, (4,))),
    # watching every active task: the list is read even with nothing watched yet
    ({"active": [], "discover": True}, Plan(True, 1, ())),
    # mixed: finished tasks are not in `active`, so they cost nothing
    ({"active": [1], "selected": 1, "account_active": 300}, Plan(False, 0, (1,))),
])
def test_plan_table(kwargs: dict[str, object], expected: Plan) -> None:
    assert plan_cycle(**kwargs) == expected  # type: ignore[arg-type]


def test_requests_promise_for_1000_tasks() -> None:
    plan = plan_cycle(list(range(1000)), selected=3, account_active=1000)
    assert plan.expected_requests == 11
