"""The regular-expression program cache (callwatch/recache.py): the same patterns,
compiled once and then only read.

In processes of their own (installing it changes ``re`` for the whole process), with a
private bytecode folder (PYTHONPYCACHEPREFIX) so the checkout is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from callwatch import recache

ROOT = Path(__file__).resolve().parent.parent

# Patterns of every kind the engine has: groups named and not, flags inline and given,
# bytes, look-arounds, repeats up to the engine's maximum, Unicode classes.
CORPUS: list[tuple[str, Any, int]] = [
    ("str", r"(?P<word>\w+)-(\d+)", 0),
    ("str", r"(?i)straße|ΣΊΣΥΦΟΣ", 0),
    ("str", r"^\s*(?:#.*)?$", 8),  # re.MULTILINE
    ("str", r"""(?x) (?P<key> [a-z_]+ ) \s* = \s* (?P<value> .*? ) \s* $""", 0),
    ("str", r"(?<=\$)\d+(?:\.\d\d)?(?!\d)", 0),
    ("str", r"a{2,}b{0,65535}?c*?", 0),
    ("str", r"[^\W\d_]+|[\u4e00-\u9fff]+", 0),
    ("str", r"(a)(b)?(?(2)c|d)", 0),
    ("str", r"\bcallwatch\b", 2 | 256),  # IGNORECASE | ASCII
    ("bytes", r"(?P<h>[\x00-\x1f\x7f])|\r\n", 0),
]
SAMPLES = ["word-12 Straße σίσυφος", "  # comment\nkey = value  \n", "$12.50 $7 $1234",
           "aab aaabbbbc abd ac", "héllo 中文 x_1", "acd abc ad", "CallWatch callwatch!",
           "\x1b[2J\r\n"]

PROBE = r"""
import json, re, sys
from callwatch import codecache, recache
codecache.install()
corpus = json.loads(sys.argv[2])
samples = json.loads(sys.argv[3])
def compiled(kind, pattern, flags):
    return re.compile(pattern.encode("latin-1") if kind == "bytes" else pattern, flags)
said = {"installed": re._compiler.compile is recache._compile,
        "loaded": len(recache._programs), "missed": recache._missed, "results": []}
for kind, pattern, flags in corpus:
    p = compiled(kind, pattern, flags)
    texts = [s.encode("utf-8", "replace") if kind == "bytes" else s for s in samples]
    found = [[m.span() for m in p.finditer(t)] for t in texts]
    said["results"].append([p.flags, p.groups, dict(p.groupindex), found])
said["missed_after"] = recache._missed
said["used"] = len(recache._used)
said["file"] = recache.cache_file()
if sys.argv[1] == "save":
    codecache.save()
print(json.dumps(said))
"""


def run(code: str, prefix: Path, *args: str, **env: str) -> Any:
    """``code`` in a fresh Python, its bytecode under ``prefix``; its stdout, as JSON."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120,
                          env={**base, "PYTHONPYCACHEPREFIX": str(prefix), **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def probe(prefix: Path, mode: str = "save", **env: str) -> dict[str, Any]:
    out: dict[str, Any] = run(PROBE, prefix, mode, json.dumps(CORPUS), json.dumps(SAMPLES),
                              **env)
    return out


def plain() -> list[Any]:
    """The corpus through ``re`` as Python ships it, in this (uninstalled) process."""
    import re

    out = []
    for kind, pattern, flags in CORPUS:
        p = re.compile(pattern.encode("latin-1") if kind == "bytes" else pattern, flags)
        texts = [s.encode("utf-8", "replace") if kind == "bytes" else s for s in SAMPLES]
        out.append([p.flags, p.groups, dict(p.groupindex),
                    [[list(m.span()) for m in p.finditer(t)] for t in texts]])
    said: list[Any] = json.loads(json.dumps(out))  # as the probe's JSON says it
    return said


def test_patterns_compiled_then_read_behave_as_pythons_own(tmp_path: Path) -> None:
    first = probe(tmp_path)
    assert first["installed"] is True and first["missed_after"] is True
    second = probe(tmp_path)
    assert second["loaded"] >= len(CORPUS) and second["missed_after"] is False
    assert first["results"] == plain()
    assert second["results"] == plain()  # read from the file: the same matches


def test_a_foreign_or_bad_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = Path(probe(tmp_path, "nosave")["file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    for content in (b"", b"not marshal at all", b"callwatch-re 1 2.7.18 0 4\n\x00\x01"):
        path.write_bytes(content)
        out = probe(tmp_path)
        assert out["loaded"] == 0 and out["results"] == plain()
        assert path.read_bytes() != content  # replaced by a good one
        assert probe(tmp_path, "nosave")["missed_after"] is False


def test_a_program_the_engine_rejects_is_compiled_afresh(tmp_path: Path) -> None:
    from callwatch import codecache

    path = Path(probe(tmp_path)["file"])
    header = recache._header()
    programs = codecache.read_marshal(str(path), header)
    assert isinstance(programs, dict) and programs
    for key, (flags, code, groups, index, names) in list(programs.items()):
        programs[key] = (flags, code[: len(code) // 2] + [999999], groups, index, names)
    assert codecache.write_marshal(str(path), header, programs)
    out = probe(tmp_path, "nosave")
    assert out["loaded"] == len(programs)
    assert out["results"] == plain()  # every one compiled afresh, and right
    assert out["missed_after"] is True


def test_bad_patterns_still_fail_and_are_not_kept(tmp_path: Path) -> None:
    code = ("import json, re; from callwatch import codecache, recache; "
            "codecache.install()\n"
            "try:\n    re.compile('(unclosed')\nexcept re.error as e:\n    err = str(e)\n"
            "print(json.dumps({'err': err, 'kept': [k[0] for k in recache._used]}))")
    out = run(code, tmp_path)
    assert out["err"].startswith("missing ), unterminated subpattern")
    assert "(unclosed" not in out["kept"]


def test_nothing_is_written_without_bytecode(tmp_path: Path) -> None:
    out = probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert out["results"] == plain()
    assert not Path(out["file"]).exists()


def test_where_pythons_internals_differ_it_stays_out_of_the_way(tmp_path: Path) -> None:
    """``re._compiler`` is private: a Python whose internals differ gets plain ``re``."""
    code = ("import json, re; from callwatch import codecache, recache\n"
            "recache._fresh = lambda p, f: (0, [], 0, {}, ())  # internals that moved\n"
            "codecache.install()\n"
            "print(json.dumps({'installed': re._compiler.compile is recache._compile,\n"
            "                  'works': re.compile(r'(a)(b)').match('ab').groups()}))")
    assert run(code, tmp_path) == {"installed": False, "works": ["a", "b"]}


def test_the_monitors_start_reads_textual_and_richs_patterns(tmp_path: Path) -> None:
    """What it is for: the patterns compiled on the way to the first frame."""
    code = ("import json; from callwatch import codecache, recache; codecache.install()\n"
            "import callwatch.tui.app\n"
            "print(json.dumps({'used': len(recache._used), 'missed': recache._missed}))\n"
            "codecache.save()")
    first, second = run(code, tmp_path), run(code, tmp_path)
    assert first["used"] >= 20 and first["missed"] is True  # Textual's CSS tokenizer, Rich
    assert second["missed"] is False


def test_patterns_made_at_run_time_are_kept_up_to_a_bound(tmp_path: Path) -> None:
    """A process that compiles a pattern per input (a filter typed by a user) keeps no
    more than the file's bound, in memory or on disk."""
    code = ("import json, re; from callwatch import codecache, recache\n"
            "recache.MAX_ENTRIES = 50; codecache.install()\n"
            "for i in range(500):\n    assert re.compile(f'task-{i}$').match(f'task-{i}')\n"
            "print(json.dumps({'used': len(recache._used)})); codecache.save()")
    assert run(code, tmp_path) == {"used": 50}
