"""A real headless Chromium driven over the Chrome DevTools Protocol (no tests here).

textual-serve draws the terminal with xterm.js into a canvas (WebGL, else 2D): the DOM
holds no text. So the page is watched from the browser's side: the websocket frames
it receives (what xterm.js is fed), page scripts' answers, and a screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers.common import require_tools

DEADLINE = 60.0  # s: generous, for a loaded 2-core machine


@dataclass
class PageRun:
    """What one visit saw."""
    html: str = ""  # the DOM after the terminal showed its first bytes
    frames: list[bytes] = field(default_factory=list)  # websocket frames received
    first_byte: bool = False  # textual.js's mark: the terminal got its first output
    screenshot: bytes = b""
    console: list[str] = field(default_factory=list)  # errors the page logged
    outside: list[str] = field(default_factory=list)  # requests not to the page's host

    @property
    def received(self) -> str:
        return b"".join(self.frames).decode("utf-8", "replace")


@contextlib.contextmanager
def chromium_devtools(profile: Path) -> Iterator[str]:
    """Headless Chromium on a free DevTools port; yields the page target's websocket."""
    require_tools("chromium")
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    # SwiftShader: xterm.js's WebGL renderer on a machine without a GPU.
    cmd = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox",
           "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars",
           "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
           "--window-size=1280,720", "--remote-debugging-port=0", "about:blank"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        port = None
        ends = time.monotonic() + DEADLINE
        while port is None and time.monotonic() < ends:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
                port = int(m.group(1))
        assert port is not None, "chromium did not start its DevTools endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.loads(r.read())
        page = next(t for t in targets if t.get("type") == "page")
        yield str(page["webSocketDebuggerUrl"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def visit(devtools: str, url: str, wait_for: str, deadline: float = DEADLINE) -> PageRun:
    """Open ``url``; wait until the frames received hold ``wait_for`` (and the terminal
    showed output), or the deadline; then the DOM and a screenshot."""
    return asyncio.run(_visit(devtools, url, wait_for, deadline))


class _Cdp:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, run: PageRun, host: str) -> None:
        self.ws, self.run, self.host, self.next_id = ws, run, host, 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            msg = json.loads((await self.ws.receive(timeout=DEADLINE)).data)
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                result: dict[str, Any] = msg.get("result", {})
                return result
            self._event(msg)

    def _event(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.webSocketFrameReceived":
            frame = params["response"]
            data = frame["payloadData"]
            self.run.frames.append(base64.b64decode(data) if frame["opcode"] == 2
                                   else data.encode())
        elif method == "Network.requestWillBeSent":
            req_url = params["request"]["url"]
            if not req_url.startswith(("data:", "about:")) and self.host not in req_url:
                self.run.outside.append(req_url)
        elif method == "Runtime.exceptionThrown":
            self.run.console.append(json.dumps(params["exceptionDetails"])[:500])

    async def evaluate(self, expression: str) -> Any:
        got = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return got.get("result", {}).get("value")


async def _visit(devtools: str, url: str, wait_for: str, deadline: float) -> PageRun:
    run = PageRun()
    host = url.split("/")[2]
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(devtools, max_msg_size=0) as ws:
        cdp = _Cdp(ws, run, host)
        for domain in ("Network", "Page", "Runtime"):
            await cdp.call(f"{domain}.enable")
        await cdp.call("Page.navigate", url=url)
        ends = time.monotonic() + deadline
        while time.monotonic() < ends:
            run.first_byte = bool(await cdp.evaluate(
                "document.body !== null && document.body.classList.contains('-first-byte')"))
            if run.first_byte and wait_for in run.received:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # the last frames painted (xterm.js draws per frame)
        run.html = str(await cdp.evaluate("document.documentElement.outerHTML"))
        shot = await cdp.call("Page.captureScreenshot", format="png")
        run.screenshot = base64.b64decode(shot["data"])
    return run
