"""The exporter's HTTP app: ``/metrics`` for Prometheus, ``/`` and ``/tasks`` for people.

``/tasks`` is the monitor's table as a read-only page (a wall screen, ``ssh -L``): it
shows what the terminal shows and nothing else. No scripts, no forms, no credentials;
every foreign string is made safe twice (terminal-safe, then HTML-escaped).
"""

from __future__ import annotations

import html
import math

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from callwatch.api.states import LOADING, NOT_FOUND
from callwatch.exporter.metrics import TaskRenderer
from callwatch.monitor import Monitor, TaskView
from callwatch.textsafe import sanitize

# The page is built by hand: a browser must not run anything from it, nor load anything.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STYLE = ("body{font-family:monospace;background:#111;color:#ddd;margin:1em}"
          "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}"
          "td.name,th.name,td.state,th.state{text-align:left}tr:nth-child(even){background:#1b1b1b}"
          ".problem{color:#f66}a{color:#8cf}")


def _text(value: str, limit: int | None = None) -> str:
    return html.escape(sanitize(value, limit))


def _page(title: str, body: str, refresh: float | None = None) -> HTMLResponse:
    meta = f'<meta http-equiv="refresh" content="{refresh:.0f}">' if refresh else ""
    doc = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}'
           f"<title>{_text(title)}</title><style>{_STYLE}</style></head>"
           f"<body>{body}</body></html>")
    return HTMLResponse(doc, headers=_HEADERS)


def _number(value: float | int | None, fmt: str = "{:,.0f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


_CLASSES = {1: "name", 2: "state"}  # left-aligned text columns


def task_row(view: TaskView) -> str:
    job = view.job
    state = (NOT_FOUND if view.missing else LOADING if job is None else job.state.look).word
    if view.issue is not None:
        state += f" ({view.issue.word})"
    cells = [
        str(view.job_id),
        _text(job.task_name or "", 60) if job else "",
        _text(state, 40),
        _number(job.progress, "{:.1f}%") if job else "–",
        f"{_number(job.called if job else None)} / {_number(job.num_cnt if job else None)}",
        _number(job.success if job else None),
        _number(job.fail if job else None),
        _number(view.throughput),
        _duration(view.eta),
    ]
    tds = "".join(f'<td class="{_CLASSES[i]}">{c}</td>' if i in _CLASSES else f"<td>{c}</td>"
                  for i, c in enumerate(cells))
    return f"<tr>{tds}</tr>"


_COLUMNS = ("Task", "Name", "State", "Progress", "Called / total", "Success", "Fail",
            "Calls/min", "ETA")


def tasks_page(monitor: Monitor, profile: str) -> HTMLResponse:
    problems = "".join(f'<p class="problem">{_text(p.text, 300)}</p>'
                       for p in monitor.problems)
    head = "".join(f'<th class="{_CLASSES[i]}">{c}</th>' if i in _CLASSES else f"<th>{c}</th>"
                   for i, c in enumerate(_COLUMNS))
    rows = "".join(task_row(v) for v in monitor.tasks.values())
    body = (f"<h1>callwatch · {_text(profile, 64)}</h1>{problems}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"<p>{monitor.watched_count} tasks · refreshed every "
            f"{monitor.effective_interval:.0f} s · read-only · "
            '<a href="/">home</a></p>')
    return _page(f"callwatch · {profile}", body, refresh=max(2.0, monitor.effective_interval))


def build_app(registry: CollectorRegistry, monitor: Monitor, profile: str) -> Starlette:
    renderer = TaskRenderer(profile)

    async def index(_request: Request) -> Response:
        body = (f"<h1>callwatch exporter</h1><p>Profile {_text(profile, 64)}, "
                f"{monitor.watched_count} tasks watched.</p><ul>"
                '<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>'
                '<li><a href="/tasks">/tasks</a>: the task table (read-only)</li></ul>')
        return _page("callwatch exporter", body)

    async def metrics(_request: Request) -> Response:
        # Always the classic text format: the task series are written in it directly.
        body = generate_latest(registry) + renderer.render(monitor).encode()
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def tasks(_request: Request) -> Response:
        return tasks_page(monitor, profile)

    return Starlette(routes=[Route("/", index), Route("/metrics", metrics),
                             Route("/tasks", tasks)])
