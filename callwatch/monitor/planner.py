"""The refresh planner: the cheapest set of requests that refreshes every watched task.

Pure code, no I/O. One task-list page (100 records, filtered to unfinished
states) refreshes up to 100 active tasks; a detail GET refreshes one task with
every field. Each cycle picks whichever needs fewer requests.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Plan:
    use_list: bool  # page through the unfinished-task list
    expected_pages: int  # what the planner counted on (0 when use_list is False)
    detail_ids: tuple[int, ...]  # detail GETs regardless of what the list returns

    @property
    def expected_requests(self) -> int:
        return self.expected_pages + len(self.detail_ids)


def plan_cycle(
    active: Collection[int],
    *,
    selected: int | None = None,
    selected_needs_detail: bool = True,
    detail_only: Collection[int] = (),
    account_active: int | None = None,
    discover: bool = False,
    page_size: int = PAGE_SIZE,
) -> Plan:
    """Choose the requests for one cycle.

    ``active``: watched tasks not known to be finished (or not known at all).
    ``detail_only``: active tasks the list cannot see (created outside its window).
    ``account_active``: unfinished tasks in the account at the last list query
    (``None`` before the first one); it sets how many pages a list refresh costs.
    ``discover``: the list must be read anyway (watching every active task).
    """
    detail_only_set = set(detail_only).intersection(active)
    # How many the list can serve (no per-id loop in the usual case: none outside it).
    listable = (len(active) if not detail_only_set
                else sum(1 for j in active if j not in detail_only_set))
    pages = max(1, math.ceil((account_active or 0) / page_size))
    use_list = discover or (listable > pages)
    details = sorted(detail_only_set) if use_list else sorted(set(active))
    if selected is not None and selected_needs_detail and selected not in details:
        details.append(selected)
    return Plan(use_list=use_list, expected_pages=pages if use_list else 0,
                detail_ids=tuple(details))
