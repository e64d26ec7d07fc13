"""Export the visible rows as CSV and JSON into the state dir."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from callwatch.monitor import TaskView
from callwatch.store.atomic import atomic_write_text
from callwatch.store.paths import state_dir
from callwatch.tui.format import look

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
        "callsPerMinute": view.throughput,
        "etaSeconds": view.eta,
    }


def export_views(views: Sequence[TaskView], profile: str | None,
                 now: datetime | None = None) -> tuple[Path, Path]:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", profile or "default")
    base = state_dir() / "exports" / f"callwatch-{name}-{stamp}"
    rows = [row(v) for v in views]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        # A cell starting with = + - @ is a formula in spreadsheets: quote it away.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v)
                         for k, v in r.items()})
    csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
    atomic_write_text(csv_path, buf.getvalue())
    details = [{**r, "detail": v.job.to_api_dict() if v.job else None}
               for r, v in zip(rows, views, strict=True)]
    atomic_write_text(json_path, json.dumps({"profile": profile, "exported": stamp,
                                        "tasks": details}, indent=2, ensure_ascii=False) + "\n")
    return csv_path, json_path
