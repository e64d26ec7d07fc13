"""A hostile API for security tests: a tiny Starlette app on 127.0.0.1 (uvicorn, real
sockets) that answers every request with the same envelope, or over TLS with a
self-signed certificate."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from callwatch.sim.server import free_port

# OSC 2 (window title), OSC 52 (clipboard: a command waiting to be pasted), CSI colour,
# bidi override, right-to-left mark, zero-width space.
EVIL = ("X\x1b]2;PWNTITLE\x07\x1b]52;c;cm0gLXJmIH4K\x07\x1b[31mRED\u202eLTR\u200fRLM"
        "\u200bZW\x9b1m")
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u200f", "\u200b")


def envelope_app(body: dict[str, Any]) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        return JSONResponse(body)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@contextlib.contextmanager
def serve(app: Starlette, *, certfile: Path | None = None, keyfile: Path | None = None
          ) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                            lifespan="off", access_log=False, timeout_graceful_shutdown=1,
                            ssl_certfile=str(certfile) if certfile else None,
                            ssl_keyfile=str(keyfile) if keyfile else None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("hostile server did not start")
    try:
        yield f"{'https' if certfile else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA vouches for (needs the openssl tool)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def assert_inert(text: str) -> None:
    """No raw control, bidi or zero-width character from :data:`EVIL` in ``text``."""
    for ch in RAW:
        assert ch not in text, (hex(ord(ch)), text)
