"""UI state: atomic replace survives SIGKILL; unreadable files are kept and named."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
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


def _versions() -> list[UiState]:
    # Large enough that a write takes a while, so kills land mid-write.
    return [UiState(watched=tuple(range(v * 100_000, v * 100_000 + 30_000)),
                    sort=SortState(f"col{v}", bool(v % 2)), filter=f"v{v}")
            for v in range(3)]


def kill_loop() -> dict[str, object]:
    """SIGKILL a child that saves in a loop, at random moments; check the file after each.

    Runs in a fresh interpreter (see the test): forked from pytest, whose other threads
    (servers, keyring timeouts) may hold a lock at the fork, the child could hang before
    its first save, and the test would prove nothing.
    """
    versions = _versions()
    save_ui_state("kill", versions[0])
    path = ui_state_file("kill")
    rng = random.Random(1234)
    kills = mid_write = 0
    bad: list[str] = []
    deadline = time.monotonic() + 40
    while kills < 300 and time.monotonic() < deadline:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: save the versions in a loop until killed
            try:
                os.close(ready_r)
                os.write(ready_w, b"x")  # saving starts now (a loaded machine forks slowly)
                i = 0
                while True:
                    i += 1
                    save_ui_state("kill", versions[i % len(versions)])
            finally:
                os._exit(1)
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        time.sleep(rng.uniform(0.0, 0.012))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        loaded = load_ui_state("kill")
        if loaded.warnings or loaded not in versions:
            bad.append(f"kill {kills}: {loaded.warnings or 'not a saved version'}")
        litter = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        if litter:
            mid_write += 1
            for p in litter:
                p.unlink()
    corrupt = [p.name for p in path.parent.glob("*.corrupt-*")]
    return {"kills": kills, "mid_write": mid_write, "bad": bad, "corrupt": corrupt}


def test_sigkill_during_saves_never_leaves_a_partial_file() -> None:
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", "import json; from tests.test_persist_state import kill_loop;"
         " print('RESULT=' + json.dumps(kill_loop()))"],
        capture_output=True, text=True, cwd=root, timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)})
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT=")), None)
    assert line is not None, proc.stderr[-2000:]
    result = json.loads(line.removeprefix("RESULT="))
    assert result["bad"] == [] and result["corrupt"] == []
    assert result["kills"] >= 200
    assert result["mid_write"] > 0, "no kill landed during a write: the test proves nothing"
