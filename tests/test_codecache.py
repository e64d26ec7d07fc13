"""The dataclass code cache (callwatch/codecache.py): the same classes, compiled once.

In processes of their own (the cache is per process, installed by the entry points),
with a private bytecode folder (PYTHONPYCACHEPREFIX) so the checkout is never touched.
"""

from __future__ import annotations

import dataclasses
import json
import marshal
import os
import subprocess
import sys
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any

import pytest

from callwatch import codecache

ROOT = Path(__file__).resolve().parent.parent

# Imports what the monitor's start imports (the models, the monitor), then says what
# the cache did; with "save", writes it as the entry points do.
PROBE = """
import json, sys
from callwatch import codecache
codecache.install()
import callwatch.api.models, callwatch.monitor, callwatch.store.config
from callwatch.api.models import Job
said = {"missed": codecache._missed, "loaded": len(codecache._codes),
        "used": len(codecache._used), "file": codecache.cache_file(),
        "init_annotations": sorted(Job.__init__.__annotations__)[:3]}
if sys.argv[1] == "save":
    codecache.save()
print(json.dumps(said))
"""


def probe(prefix: Path, mode: str = "save", **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, text=True,
                          capture_output=True, timeout=120,
                          env={**base, "PYTHONPYCACHEPREFIX": str(prefix), **env})
    assert proc.returncode == 0, proc.stderr
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def test_a_second_start_compiles_nothing(tmp_path: Path) -> None:
    first = probe(tmp_path)
    assert first["missed"] is True and first["loaded"] == 0
    cache = Path(str(first["file"]))
    assert cache.is_relative_to(tmp_path)  # beside the bytecode, under the prefix
    assert cache.read_bytes().startswith(MAGIC_NUMBER)
    second = probe(tmp_path)
    assert second["missed"] is False
    assert second["loaded"] == first["used"]
    assert second["init_annotations"] == first["init_annotations"]


@pytest.mark.parametrize("content", [
    b"", b"garbage", MAGIC_NUMBER + b"\x00\x01 not marshal",
    MAGIC_NUMBER + marshal.dumps([1, 2, 3]),  # not a dict
    MAGIC_NUMBER + marshal.dumps({"def f(): pass": "not code"}),
    b"\x00\x00\r\n" + marshal.dumps({}),  # another interpreter's bytecode
], ids=["empty", "garbage", "bad-marshal", "a-list", "not-code", "other-magic"])
def test_a_bad_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    cache = Path(str(probe(tmp_path, "nosave")["file"]))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(content)
    out = probe(tmp_path)
    assert out["missed"] is True and out["loaded"] == 0
    assert probe(tmp_path)["missed"] is False  # replaced by a good one


def test_nothing_is_written_without_bytecode(tmp_path: Path) -> None:
    out = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert out["missed"] is True
    assert not Path(str(out["file"])).exists()


def test_entries_another_process_wrote_are_kept(tmp_path: Path) -> None:
    """The demo's simulator and the monitor write the same file."""
    cache = Path(str(probe(tmp_path, "nosave")["file"]))
    cache.parent.mkdir(parents=True, exist_ok=True)
    other = "def _other_process():\n    return 1\n"
    cache.write_bytes(MAGIC_NUMBER + marshal.dumps(
        {other: compile(other, "<string>", "exec", dont_inherit=True)}))
    probe(tmp_path)
    kept = marshal.loads(cache.read_bytes()[len(MAGIC_NUMBER):])
    assert other in kept and len(kept) > 1


def test_not_installed_it_never_writes(tmp_path: Path) -> None:
    """A library user's process (or a test) that never installed it writes nothing,
    even when something went through cached_exec (Job's fast __init__)."""
    script = ("import sys; from callwatch import codecache\n"
              "import callwatch.api.models\n"
              "codecache.save(); print(codecache.cache_file())")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, text=True,
                          capture_output=True, timeout=120,
                          env={**base, "PYTHONPYCACHEPREFIX": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert not Path(proc.stdout.strip()).exists()


def test_classes_made_through_it_behave_the_same() -> None:
    """The same generated source, executed from the cached code: equality, hashing,
    repr, frozenness, defaults and the methods' annotations all as dataclasses make them."""
    def make() -> Any:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Point:
            x: int
            y: int = 2
            tags: tuple[str, ...] = ()
        return Point

    plain = make()
    saved = dataclasses.__dict__.get("exec")
    dataclasses.exec = codecache.cached_exec  # type: ignore[attr-defined]
    try:
        cached, again = make(), make()  # the second from the first's compiled code
    finally:
        if saved is None:
            del dataclasses.exec  # type: ignore[attr-defined]
        else:
            dataclasses.exec = saved  # type: ignore[attr-defined]
    for cls in (cached, again):
        p = cls(1)
        assert (p.x, p.y, p.tags) == (1, 2, ())
        assert p == cls(1, 2) and p != cls(1, 3) and hash(p) == hash(cls(1, 2))
        assert repr(p) == repr(plain(1)).replace(plain.__qualname__, cls.__qualname__)
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.x = 5
        init = cls.__dict__["__init__"]
        assert init.__annotations__ == plain.__dict__["__init__"].__annotations__
        assert init.__qualname__.endswith("Point.__init__")


def _env(prefix: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("CALLWATCH_")}
    return {**base, "PYTHONPYCACHEPREFIX": str(prefix), "CALLWATCH_CONFIG_DIR": str(prefix)}


def test_the_command_line_keeps_it_and_then_only_reads_it(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "callwatch", "info"]
    env = _env(tmp_path)
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=120, check=True)
    cache = next(tmp_path.rglob("dataclass-code.*.marshal"))
    before = cache.stat().st_mtime_ns, cache.read_bytes()
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=120, check=True)
    assert (cache.stat().st_mtime_ns, cache.read_bytes()) == before  # nothing new to write


def test_the_demo_simulator_writes_it_once_it_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "from callwatch.sim.demo import main; main()"],
                            cwd=ROOT, env=_env(tmp_path), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines[0].startswith(b"port ") and lines[1] == b"ready", lines
        cache = next(tmp_path.rglob("dataclass-code.*.marshal"))
        codes = marshal.loads(cache.read_bytes()[len(MAGIC_NUMBER):])
        assert isinstance(codes, dict) and codes  # only the simulator ran: it wrote them
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # it ends at its stdin's end
        assert proc.wait(30) == 0
