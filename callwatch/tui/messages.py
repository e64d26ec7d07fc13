"""Words the app says in toasts and questions (plain text; no Textual here)."""

from __future__ import annotations

from collections.abc import Sequence

from callwatch.textsafe import sanitize

SHOWN_IDS = 8  # ids named in one toast; more are counted


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 task``, ``2 tasks``."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def _ids(ids: Sequence[int]) -> str:
    shown = " ".join(map(str, ids[:SHOWN_IDS]))
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


def watching_message(requested: Sequence[int], added: Sequence[int]) -> str:
    """After an add: only the tasks that are new count; the others are named apart."""
    new = set(added)
    already = [i for i in dict.fromkeys(requested) if i not in new]
    parts = []
    if added:
        parts.append(f"Watching {plural(len(added), 'more task')}: {_ids(added)}")
    if already:
        verb = "was" if len(already) == 1 else "were"
        parts.append(f"{_ids(already)} {verb} already watched")
    return "; ".join(parts) if parts else "Nothing to add"


def stop_question(job_id: int, name: str | None) -> str:
    """The remove confirmation: ``Stop watching #123 june-promo?`` (no name: no gap)."""
    label = f"#{job_id} {sanitize(name, 40)}" if name else f"#{job_id}"
    return f"Stop watching {label}?\n(The task itself is not touched.)"
