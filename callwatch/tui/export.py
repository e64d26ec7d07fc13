"""Export the visible rows as CSV and JSON into the state dir."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callwatch.monitor import TaskView
from callwatch.store.atomic import atomic_write_text
from callwatch.store.paths import state_dir
from callwatch.textsafe import sanitize
from callwatch.tui.format import look

if TYPE_CHECKING:
    from callwatch.tui.app import CallwatchApp

FIELDS = ["jobId", "name", "state", "progress", "called", "total", "success", "fail",
          "answerRate", "callsPerMinute", "etaSeconds"]


def row(view: TaskView) -> dict[str, Any]:
    job = view.job
    return {
        "jobId": view.job_id,
        "name": job.task_name if job else None,
        "state": look(view).word,
        "progress": job.progress if job else None,
        "called": job.called if job else None,
        "total": job.num_cnt if job else None,
        "success": job.success if job else None,
        "fail": job.fail if job else None,
        "answerRate": job.answer_rate if job else None,
        # Estimates: a tenth of a call and a whole second are all they are good for.
        "callsPerMinute": None if view.throughput is None else round(view.throughput, 1),
        "etaSeconds": None if view.eta is None else round(view.eta),
    }


# Spreadsheets run a cell starting with these as a formula (a leading TAB or CR is
# skipped by some before they look): such a cell gets a leading ' as they expect.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell: text made terminal-safe (``cat`` of the file is safe) and never a
    formula; numbers stay numbers."""
    if not isinstance(value, str):
        return value
    clean = sanitize(value)
    if value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START):
        return "'" + clean
    return clean


def clean_json(value: Any) -> Any:
    """Every string in an export document made terminal-safe, numbers untouched."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def export_views(views: Sequence[TaskView], profile: str | None,
                 now: datetime | None = None) -> tuple[Path, Path]:
    # ISO 8601 basic form with the offset: sortable, no ':' (Windows file names).
    stamp = (now or datetime.now()).astimezone().strftime("%Y%m%dT%H%M%S%z")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", profile or "default")
    base = state_dir() / "exports" / f"callwatch-{name}-{stamp}"
    rows = [row(v) for v in views]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: csv_cell(v) for k, v in r.items()})
    csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
    atomic_write_text(csv_path, buf.getvalue())
    details = [{**r, "detail": v.job.to_api_dict() if v.job else None}
               for r, v in zip(rows, views, strict=True)]
    doc = clean_json({"profile": profile, "exported": stamp, "tasks": details})
    atomic_write_text(json_path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return csv_path, json_path


def export_table(app: CallwatchApp) -> None:
    """The table's visible rows to CSV and JSON; a toast says where (or why not)."""
    views = [v for v in (app.monitor.view(j) for j in app.main.table.visible_ids()) if v]
    try:
        csv_path, json_path = export_views(views, app.profile)
    except OSError as exc:
        app.notify(f"Export failed: {exc}", severity="error", markup=False)
        return
    app.last_export = (csv_path, json_path)
    app.notify(f"Exported {len(views)} rows:\n{csv_path}\n{json_path}",
               title="Export", markup=False, timeout=10)
