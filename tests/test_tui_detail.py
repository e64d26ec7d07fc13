"""The detail pane's content / config group: plain lines whose long values fold under
their column, as the Rich table grid they replaced did (between words; inside a word
only when it is longer than a line; by terminal cells, so wide characters count two)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from callwatch.api.models import Job
from callwatch.monitor import TaskView
from callwatch.tui.detail import VALUE_WIDTH, _fold, detail_parts


def test_values_fold_between_words_and_long_words_are_cut() -> None:
    text = "Hello, this is a reminder of your appointment tomorrow."
    assert [p.plain for p in _fold(Text(text), 44)] == [
        "Hello, this is a reminder of your", "appointment tomorrow."]
    assert [p.plain for p in _fold(Text("x" * 10 + " " + "y" * 50), 20)] == [
        "x" * 10, "y" * 20, "y" * 20, "y" * 10]
    assert [p.plain for p in _fold(Text("short"), 44)] == ["short"]


def test_wide_characters_count_two_cells() -> None:
    pieces = _fold(Text("漢字" * 30), 15)
    assert all(cell_len(p.plain) <= 15 for p in pieces)
    assert "".join(p.plain for p in pieces) == "漢字" * 30


def test_the_config_group_keeps_labels_and_folds_under_the_value_column() -> None:
    tts = "word " * 30
    job = Job(job_id=7, status_code=2, task_name="t", text=tts.strip(), has_detail=True)
    _, config = detail_parts(TaskView(7, job), width=120)
    assert config is not None
    lines = config.plain.split("\n")
    assert lines[0] == "Content / config"
    first = next(i for i, line in enumerate(lines) if line.startswith("TTS text"))
    column = lines[first].index("word")
    follow = [line for line in lines[first + 1:] if line.startswith(" " * column + "word")]
    assert follow, "the rest of the text continues under its column"
    assert all(cell_len(line) - column <= VALUE_WIDTH for line in lines[first:])
    assert " ".join(line.strip() for line in [lines[first][column:], *follow]) == tts.strip()
    # Labels are dim, the title bold, and the values keep no style of their own.
    assert any(span.style == "bold" for span in config.spans)
    assert any(span.style == "dim" for span in config.spans)


def test_a_narrow_pane_folds_sooner() -> None:
    job = Job(job_id=7, status_code=2, text="a " * 40, has_detail=True)
    _, config = detail_parts(TaskView(7, job), width=40)
    assert config is not None
    assert max(cell_len(line) for line in config.plain.split("\n")) <= 40
