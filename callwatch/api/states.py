"""A task's state: the API's status code, and the one map of how each state reads.

Every place that names a state (the TUI's cells and sort, the one-shot commands'
words and colours, the exporter's series, the monitor's messages) reads
:data:`STATE_LOOKS`, so a word or a colour is changed here once. It lives in the
api layer because every layer above it names states; the styles are plain strings
(Rich styles, ANSI SGR codes): nothing here imports a renderer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class JobState(enum.Enum):
    WAITING = 0
    CALLING = 1
    COMPLETED = 2
    SUBMISSION_FAILED = 3
    CANCELLED = 4
    SUSPENDED = 5
    SUBMITTING = 6
    UNKNOWN = -1

    @classmethod
    def from_code(cls, code: int | None) -> JobState:
        return _BY_CODE.get(code, cls.UNKNOWN)  # type: ignore[arg-type]

    @property
    def look(self) -> StateLook:
        return STATE_LOOKS[self]

    @property
    def label(self) -> str:
        return STATE_LOOKS[self].word

    @property
    def slug(self) -> str:
        return STATE_LOOKS[self].slug

    @property
    def finished(self) -> bool:
        return self.value in FINISHED_CODES

    @property
    def ok(self) -> bool:
        return self is JobState.COMPLETED


@dataclass(frozen=True, slots=True)
class StateLook:
    """How a state reads: a glyph and a word besides the colour (NO_COLOR, colour-blind
    operators), its machine name, and where it sorts (the live ones first)."""

    glyph: str
    word: str  # for people: the TUI, the one-shot tables, the messages
    style: str  # a Rich style (the TUI)
    slug: str = ""  # for machines: JSON, the exporter's label values, --state
    sgr: str = ""  # an ANSI SGR colour (the one-shot tables)
    rank: int = 9  # the state column's sort order


STATE_LOOKS: dict[JobState, StateLook] = {
    JobState.WAITING: StateLook("◷", "waiting", "yellow", "waiting", "34", 2),
    JobState.CALLING: StateLook("▶", "calling", "bold green", "calling", "36", 0),
    JobState.COMPLETED: StateLook("✓", "completed", "blue", "completed", "32", 7),
    JobState.SUBMISSION_FAILED: StateLook("✗", "submit failed", "bold red",
                                          "submission_failed", "1;31", 5),
    JobState.CANCELLED: StateLook("⊘", "cancelled", "magenta", "cancelled", "31", 6),
    JobState.SUSPENDED: StateLook("‖", "suspended", "yellow", "suspended", "33", 3),
    JobState.SUBMITTING: StateLook("↑", "submitting", "cyan", "submitting", "34", 1),
    JobState.UNKNOWN: StateLook("?", "unknown", "dim", "unknown", "35", 4),
}
# What a row shows before the API has said anything about a task, or after it said
# there is no such task: not API states, but they take a state's place.
NOT_FOUND = StateLook("✗", "not found", "bold red", "not_found", rank=8)
LOADING = StateLook("·", "loading", "dim", "loading", rank=9)

_BY_CODE: dict[int, JobState] = {s.value: s for s in JobState if s.value >= 0}

FINISHED_CODES = frozenset({2, 3, 4})  # completed, submission failed, cancelled
ACTIVE_STATES = tuple(s for s in JobState if not s.finished and s is not JobState.UNKNOWN)
FINISHED_STATES = tuple(s for s in JobState if s.finished)
