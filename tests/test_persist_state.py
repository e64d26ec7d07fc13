"""UI state: atomic replace survives SIGKILL; unreadable files are kept and named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callwatch.store import paths
from callwatch.store.atomic import atomic_write_bytes
from callwatch.store.state import (
    SortState,
    UiState,
    load_ui_state,
    save_ui_state,
    ui_state_file,
)


def test_roundtrip_and_default_profile() -> None:
    state = UiState(watched=(5, 3, 9), sort=SortState("progress", True), filter="promo")
    path = save_ui_state(None, state)
    assert path == paths.state_dir() / "profiles" / "default.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {
        "schema": 1, "watched": [5, 3, 9], "sort": {"column": "progress", "reverse": True},
        "filter": "promo"}
    assert load_ui_state(None) == state == load_ui_state("default")
    assert load_ui_state("other") == UiState()


@pytest.mark.parametrize("content", [
    b"{\"schema\": 1, \"watched\": [1, 2", b"\xff\xfe", b"[]", b"{\"schema\": 99}",
    b"{\"schema\": 1, \"watched\": [\"x\"]}", b"{\"schema\": 1, \"sort\": []}",
    b"{\"schema\": 1, \"filter\": 3}", b"",
])
def test_corrupt_state_is_backed_up(content: bytes) -> None:
    path = ui_state_file("work")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    state = load_ui_state("work")
    assert state == UiState()
    assert len(state.warnings) == 1 and str(path) in state.warnings[0]
    backups = list(path.parent.glob("work.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert str(backups[0]) in state.warnings[0]
    save_ui_state("work", UiState(watched=(1,)))
    assert load_ui_state("work") == UiState(watched=(1,))


def test_bad_profile_name_does_not_crash() -> None:
    state = load_ui_state("../../etc/passwd")
    assert state == UiState() and state.warnings


def test_atomic_write_mode_and_no_litter(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"one", mode=0o640)
    atomic_write_bytes(target, b"two", mode=0o640)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o640 & ~_umask()
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_sigkill_during_saves_never_leaves_a_partial_file() -> None:
    """Writers killed at every stage of a save, and at measured random moments.

    Runs in a fresh interpreter: forked from pytest, whose other threads (servers,
    keyring timeouts) may hold a lock at the fork, a child could hang.
    """
    root = Path(__file__).resolve().parent.parent
    rounds = 10
    proc = subprocess.run(
        [sys.executable, "-c", "import json; from tests.helpers.kill_saves import kill_loop;"
         f" print('RESULT=' + json.dumps(kill_loop(staged_rounds={rounds})))"],
        capture_output=True, text=True, cwd=root, timeout=600,
        env={**os.environ, "PYTHONPATH": str(root)})
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT=")), None)
    assert line is not None, proc.stderr[-2000:]
    result = json.loads(line.removeprefix("RESULT="))
    assert result["bad"] == [] and result["corrupt"] == []
    # Every kill before the rename left the temp file behind: the kills did land mid-write.
    mid_write = result["mid_write"]
    assert {stage: mid_write.get(stage, 0) for stage in ("write", "fsync", "replace")} == {
        "write": rounds, "fsync": rounds, "replace": rounds}
    assert mid_write.get("renamed", 0) == 0
