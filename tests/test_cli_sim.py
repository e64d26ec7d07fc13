"""`callwatch sim` as a real process: hand-signed requests list and read moving tasks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from callwatch.sim.server import free_port


def _signed(base: str, path: str, key: str, secret: str, body: object = None) -> Any:
    ts = str(int(time.time()))
    req = urllib.request.Request(
        base + path, method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Api-Key": key, "Timestamp": ts,
                 "Sign": hashlib.md5(f"{key}{secret}{ts}".encode()).hexdigest(),
                 "Content-Type": "application/json;charset=UTF-8"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def test_sim_refuses_non_loopback_host() -> None:
    proc = subprocess.run([sys.executable, "-m", "callwatch", "sim", "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--allow-remote" in proc.stderr


def test_sim_serves_50_moving_tasks() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callwatch", "sim", "--jobs", "50", "--port", str(port),
         "--speed", "20", "--api-key", "k3y", "--api-secret", "s3cr3t"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert f"http://127.0.0.1:{port}" in lines[0]
        assert any("CALLWATCH_API_KEY=k3y" in line for line in lines)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/_sim/stats", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        query: dict[str, Any] = {"current": 1, "size": 100,
                 "params": {"strTime": "2020-01-01 00:00:00", "endTime": "2099-01-01 00:00:00",
                            "statusList": [1]}}
        first = _signed(base, "/voice/group/call/query", "k3y", "s3cr3t", query)
        assert first["code"] == 0 and first["data"]["total"] > 0
        job_id = first["data"]["records"][0]["jobId"]
        d1 = _signed(base, f"/voice/group/call/detail/{job_id}", "k3y", "s3cr3t")
        time.sleep(1.5)
        d2 = _signed(base, f"/voice/group/call/detail/{job_id}", "k3y", "s3cr3t")
        called = [d["data"]["success"] + d["data"]["fail"] for d in (d1, d2)]
        assert called[1] > called[0]
        query["params"] = {"strTime": "2020-01-01 00:00:00", "endTime": "2099-01-01 00:00:00"}
        all_jobs = _signed(base, "/voice/group/call/query", "k3y", "s3cr3t", query)
        assert all_jobs["data"]["total"] == 50
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _start_sim(*extra: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callwatch", "sim", "--jobs", "5", "--port", str(port),
         "--api-key", "k3y", "--api-secret", "s3cr3t", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or "Ctrl+C" not in lines[-1]:
        line = proc.stdout.readline()
        assert line, "callwatch sim ended before serving"
        lines.append(line)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/_sim/stats", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, base, lines


def test_sim_task_fault_and_list_lie_flags() -> None:
    proc, base, lines = _start_sim("--task-fault", "5000600:http_502",
                                   "--task-fault", "5000601:not_found", "--list-lie", "1000:2")
    try:
        assert any("5000600=http_502" in line and "5000601=not_found" in line
                   for line in lines)
        with pytest.raises(urllib.error.HTTPError) as info:
            _signed(base, "/voice/group/call/detail/5000600", "k3y", "s3cr3t")
        assert info.value.code == 502 and b"Bad Gateway" in info.value.read()
        assert _signed(base, "/voice/group/call/detail/5000601", "k3y", "s3cr3t")["code"] == -24
        healthy = _signed(base, "/voice/group/call/detail/5000602", "k3y", "s3cr3t")
        assert healthy["code"] == 0 and healthy["data"]["jobId"] == 5000602
        query = {"current": 7, "size": 100,
                 "params": {"strTime": "2020-01-01 00:00:00", "endTime": "2099-01-01 00:00:00"}}
        page = _signed(base, "/voice/group/call/query", "k3y", "s3cr3t", query)["data"]
        assert page["pages"] == 1000 and page["total"] == 2000 and len(page["records"]) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("args", [
    ["--speed", "nan"], ["--speed", "inf"], ["--jobs", "9" * 4000], ["--port", "-1"],
    ["--task-fault", "5000600:explode"], ["--task-fault", "-5:hang"],
    ["--list-lie", "0"], ["--list-lie", "10:3:sideways"], ["--rate-limit", "nan"],
])
def test_sim_refuses_absurd_options(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "callwatch", "sim", *args],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "error: argument" in proc.stderr
    assert "Traceback" not in proc.stderr
