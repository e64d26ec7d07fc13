"""Helpers for the exporter tests (no tests here): a frozen simulator, the real
``callwatch exporter`` process, and scrapes parsed with prometheus_client's parser."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import SimClock
from tests.helpers.common import KEY, SECRET
from tests.helpers.oneshot import sim_env

ROOT = Path(__file__).resolve().parent.parent.parent
OPS = ROOT / "docs" / "ops"
DEADLINE = 60.0  # s: generous, for a loaded 2-core machine

T = TypeVar("T")


def frozen_state(jobs: int = 12) -> SimState:
    """The demo tasks with the clock stopped: the ground truth stays put."""
    state = SimState(SimConfig(keys={KEY: SECRET}), clock=SimClock(time.time, 0.0))
    state.populate(jobs)
    return state


def poll(check: Callable[[], T | None], what: str, deadline: float = DEADLINE) -> T:
    """``check()`` until it returns something other than None (or fails the test)."""
    ends = time.monotonic() + deadline
    while True:
        got = check()
        if got is not None:
            return got
        if time.monotonic() > ends:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Exporter:
    proc: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT

    def get(self, path: str) -> tuple[int, str, str]:
        """Status, content type and body of a GET."""
        with urllib.request.urlopen(self.url + path, timeout=10) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read().decode()

    def scrape(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """``/metrics`` as {sample name: [(labels, value)]}."""
        return parse_samples(self.get("/metrics")[2])


def parse_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


@contextlib.contextmanager
def run_exporter(base_url: str, *args: str) -> Iterator[Exporter]:
    """The real ``callwatch exporter`` on a free loopback port; SIGTERM at the end,
    which must end it with exit 0."""
    cmd = [sys.executable, "-m", "callwatch", "exporter", "--listen", "127.0.0.1:0", *args]
    proc = subprocess.Popen(cmd, env=sim_env(base_url), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving http://" in line, line + (proc.stderr.read() if proc.stderr else "")
        url = line.split("serving ", 1)[1].split("/metrics", 1)[0]
        yield Exporter(proc, url)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def prometheus_query(base: str, query: str) -> dict[str, Any]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: dict[str, Any] = json.loads(resp.read())
    return body

