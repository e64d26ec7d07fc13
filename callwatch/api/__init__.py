"""Signed HTTP access to the voice group-call API. Never imports Textual."""

import sys

# httpx imports its command-line client (click, pygments, rich.syntax) whenever click is
# installed (uvicorn brings it in). callwatch never uses it: this skips ~20 ms of start-up
# (``httpx.main`` then is httpx's stub that says the CLI is not installed).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
