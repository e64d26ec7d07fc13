"""State labels come from one map (callwatch/api/states.py): every reader agrees with it."""

from __future__ import annotations

from callwatch.api.states import LOADING, NOT_FOUND, STATE_LOOKS, JobState
from callwatch.cli.oneshot import STATE_NAMES, parse_states
from callwatch.cli.oneshot_render import state_word
from callwatch.exporter.metrics import STATES
from callwatch.sim import model as sim
from callwatch.tui import format as tui_format


def test_every_state_has_one_distinct_look() -> None:
    looks = [*STATE_LOOKS.values(), NOT_FOUND, LOADING]
    assert set(STATE_LOOKS) == set(JobState)
    for field in ("word", "slug", "rank"):
        values = [getattr(look, field) for look in looks]
        assert len(set(values)) == len(values), field
    assert all(look.glyph and look.style for look in looks)
    assert all(look.sgr for look in STATE_LOOKS.values())


def test_the_readers_use_the_map() -> None:
    for state, look in STATE_LOOKS.items():
        assert (state.label, state.slug) == (look.word, look.slug)
        assert state_word(state, colour=True) == f"\x1b[{look.sgr}m{look.word:<13}\x1b[0m"
        assert state_word(state, colour=False) == f"{look.word:<13}"
    assert tui_format.STATE_LOOKS is STATE_LOOKS and tui_format.NOT_FOUND is NOT_FOUND
    assert STATES == (*(look.slug for look in STATE_LOOKS.values()), NOT_FOUND.slug)
    assert STATE_NAMES.split(", ") == [STATE_LOOKS[s].word.replace(" ", "_")
                                       for s in JobState if s is not JobState.UNKNOWN]
    assert parse_states("submit_failed") == [JobState.SUBMISSION_FAILED]


def test_the_simulator_speaks_the_same_codes() -> None:
    assert [sim.WAITING, sim.CALLING, sim.COMPLETED, sim.SUBMIT_FAILED, sim.CANCELLED,
            sim.SUSPENDED, sim.SUBMITTING] == [s.value for s in JobState if s.value >= 0]
    assert {JobState.from_code(c) for c in sim.FINISHED} == {s for s in JobState if s.finished}
