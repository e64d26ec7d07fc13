"""Issue 12, holes 3 and 6: exports carry no control characters and no formulas; the log
never follows a link; the directories callwatch creates are private."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from callwatch.api.models import Job
from callwatch.monitor import TaskView
from callwatch.store import logfile, paths
from callwatch.store.state import UiState, save_ui_state
from callwatch.textsafe import is_unsafe
from callwatch.tui.export import export_views
from tests.helpers.common import run_callwatch
from tests.hostile import EVIL, assert_inert


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a plain mkdir gives 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _view(jid: int, name: str) -> TaskView:
    return TaskView(jid, Job(job_id=jid, status_code=2, task_name=name, rate=0.5,
                             num_cnt=100, call_num=50, success=-3, fail=0))


FORMULAS = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=HYPERLINK(\"http://x\")",
            "\r=cmd", "  =2*3", "\u00a0=2"]


def test_export_has_no_control_characters_and_no_formulas(umask_022: None) -> None:
    names = [EVIL, *FORMULAS, "plain name", "negative -5 inside"]
    views = [_view(100 + i, n) for i, n in enumerate(names)]
    csv_path, json_path = export_views(views, "p", now=datetime(2026, 1, 2, 3, 4, 5))
    raw = csv_path.read_text(encoding="utf-8")
    assert_inert(raw)
    assert not any(is_unsafe(ch) for ch in raw.replace("\n", ""))
    rows = list(csv.DictReader(io.StringIO(raw)))
    by_id = {int(r["jobId"]): r for r in rows}
    for i, name in enumerate(names):
        cell = by_id[100 + i]["name"]
        if name in FORMULAS:
            assert cell.startswith("'"), (name, cell)
        else:
            assert not cell.startswith("'"), (name, cell)
        assert by_id[100 + i]["success"] == "-3"  # numbers stay numbers
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert_inert(json_path.read_text(encoding="utf-8"))
    assert doc["tasks"][0]["name"].startswith("X?]2;PWNTITLE?")
    assert doc["tasks"][0]["success"] == -3
    exports = paths.state_dir() / "exports"
    assert _mode(exports) == 0o700 and _mode(paths.state_dir()) == 0o700
    assert _mode(csv_path) == 0o600


def test_state_and_config_dirs_are_created_private(umask_022: None) -> None:
    path = save_ui_state("work", UiState(watched=(1, 2)))
    assert _mode(path.parent) == 0o700 and _mode(paths.state_dir()) == 0o700
    proc = run_callwatch("login", "--profile", "p", "--api-key", "k", "--no-verify",
                         "--insecure-storage", stdin="s3cret\n")
    assert proc.returncode == 0, proc
    assert _mode(paths.config_dir()) == 0o700
    assert _mode(paths.config_file()) == 0o600


def test_an_existing_directory_is_not_loosened(umask_022: None) -> None:
    paths.state_dir().mkdir(parents=True, mode=0o711)
    os.chmod(paths.state_dir(), 0o711)
    save_ui_state("work", UiState(watched=(1,)))
    assert _mode(paths.state_dir()) == 0o711  # the user's choice
    assert _mode(paths.state_dir() / "profiles") == 0o700  # ours


def test_the_log_never_follows_a_symlink(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    paths.log_dir().mkdir(parents=True)
    (paths.log_dir() / "callwatch.log").symlink_to(target)
    # No credentials with --debug: the traceback goes to stderr and to the log.
    proc = run_callwatch("auth", "status", "--debug")
    assert proc.returncode == 3, proc
    assert target.read_text() == "precious\n"
    assert "symbolic link" in proc.stderr and "callwatch.log" in proc.stderr
    assert (paths.log_dir() / "callwatch.log").is_symlink()


def test_the_log_is_private_and_sanitised(umask_022: None) -> None:
    assert logfile.append_log(f"Traceback: {EVIL}\n") is None
    log = paths.log_dir() / "callwatch.log"
    assert _mode(log) == 0o600 and _mode(paths.log_dir()) == 0o700
    assert_inert(log.read_text(encoding="utf-8"))
    assert "PWNTITLE" in log.read_text(encoding="utf-8")


def test_a_fifo_log_is_refused_without_blocking() -> None:
    paths.log_dir().mkdir(parents=True)
    os.mkfifo(paths.log_dir() / "callwatch.log")
    warning = logfile.append_log("x\n")
    assert warning is not None and "callwatch.log" in warning
