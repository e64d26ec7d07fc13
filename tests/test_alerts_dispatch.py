"""Alert rules: a real command gets the event JSON on stdin, a real local HTTP server gets
the webhook, a failing or hanging webhook is retried and never holds up the monitor;
the [alerts] settings of config.toml, read only."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from callwatch.alerts import Dispatcher
from callwatch.monitor import Monitor
from callwatch.monitor.events import Event, EventDetector
from callwatch.sim.remote import control
from callwatch.sim.server import RunningSim
from callwatch.store.alerts_config import AlertRule, AlertSettings
from callwatch.store.config import load_config
from tests.helpers.common import KEY, SECRET, make_client

EVENT = Event("stalled", "2026-01-01T00:00:00+00:00", "ops", "#7 promo stalled: no new "
              "calls for 5 min", 7, "promo", "calling", {"called": 12, "minutes": 5.0})


class Hook:
    """A local webhook receiver: ``answers`` says what each request gets (an HTTP status,
    or "hang": no answer for a long time)."""

    def __init__(self, answers: list[int | str]) -> None:
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()

    @contextmanager
    def serve(self) -> Iterator[str]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                hook.headers.append(dict(self.headers))
                i = len(hook.bodies) - 1
                answer = hook.answers[min(i, len(hook.answers) - 1)]
                if answer == "hang":
                    hook.release.wait(30)
                    return
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0K3N"
        finally:
            self.release.set()
            server.shutdown()
            server.server_close()


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def rules(*rule: AlertRule) -> AlertSettings:
    return AlertSettings(desktop=False, rules=rule)


async def test_an_exec_rule_gets_the_event_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = tmp_path / "hook.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n")
    dispatcher = Dispatcher(rules(AlertRule(frozenset({"stalled"}),
                                            (sys.executable, str(script), str(out)))))
    dispatcher.submit(EVENT)
    dispatcher.submit(Event("resumed", EVENT.at, "ops", "resumed", 7))  # not in on=: no run
    await until(lambda: dispatcher.delivered == 1 and dispatcher.pending == 0)
    got = json.loads(out.read_text())
    assert got == EVENT.to_json()
    assert list(got)[:7] == ["event", "at", "profile", "jobId", "taskName", "state", "detail"]
    await dispatcher.aclose()


async def test_a_command_that_hangs_is_killed_and_reported(tmp_path: Path) -> None:
    errors: list[str] = []
    dispatcher = Dispatcher(rules(AlertRule(frozenset({"stalled"}),
                                            (sys.executable, "-c", "import time; time.sleep(60)"))),
                            exec_timeout=0.5, on_error=errors.append)
    dispatcher.submit(EVENT)
    await until(lambda: dispatcher.failed == 1)
    assert "killed" in errors[0]
    await dispatcher.aclose()


async def test_a_webhook_rule_reaches_a_real_server_without_credentials(
        live_sim: RunningSim) -> None:
    """The whole path: the simulator's task finishes, the monitor's event goes out."""
    hook = Hook([200])
    with hook.serve() as url:
        jid = control(live_sim.base_url, "jobs", {"numCnt": 20, "dialRate": 10,
                                                  "startIn": 2})["jobId"]
        client = make_client(live_sim.base_url)
        monitor = Monitor(client, interval=1.0)
        monitor.watch([jid])
        monitor.events = EventDetector(rules(AlertRule(frozenset({"finished"}), webhook=url)),
                                       "ops")
        dispatcher = Dispatcher(monitor.events.settings)
        monitor.events.sinks.append(dispatcher.submit)
        task = asyncio.create_task(monitor.run(lambda update: None))
        await until(lambda: monitor.cycles >= 1)
        control(live_sim.base_url, "advance", {"seconds": 30})
        await until(lambda: bool(hook.bodies))
        monitor.stop()
        await task
        await dispatcher.aclose()
        await client.aclose()
    [body] = hook.bodies
    assert body["event"] == "finished" and body["jobId"] == jid and body["profile"] == "ops"
    assert f"#{jid}" in body["text"] and "\n" not in body["text"]
    sent = json.dumps(body) + json.dumps(hook.headers[0])
    assert KEY not in sent and SECRET not in sent
    assert not {"api-key", "sign", "authorization"} & {h.lower() for h in hook.headers[0]}


async def test_a_webhook_answering_500_is_retried_with_backoff() -> None:
    hook = Hook([500, 502, 200])
    with hook.serve() as url:
        dispatcher = Dispatcher(rules(AlertRule(frozenset({"stalled"}), webhook=url)),
                                webhook_backoff=0.05)
        dispatcher.submit(EVENT)
        await until(lambda: dispatcher.delivered == 1)
        await dispatcher.aclose()
    assert len(hook.bodies) == 3 and hook.bodies[0] == hook.bodies[2]


async def test_a_webhook_that_always_fails_gives_up_after_three_retries() -> None:
    hook = Hook([500])
    errors: list[str] = []
    with hook.serve() as url:
        dispatcher = Dispatcher(rules(AlertRule(frozenset({"stalled"}), webhook=url)),
                                webhook_backoff=0.01, on_error=errors.append)
        dispatcher.submit(EVENT)
        await until(lambda: dispatcher.failed == 1)
        await dispatcher.aclose()
    assert len(hook.bodies) == 4  # the first try and three retries
    assert "HTTP 500" in errors[0] and "T0K3N" not in errors[0]  # the path holds the token


async def test_a_hanging_webhook_never_blocks_the_monitor(live_sim: RunningSim) -> None:
    hook = Hook(["hang"])
    with hook.serve() as url:
        jid = control(live_sim.base_url, "jobs", {"numCnt": 10, "dialRate": 10})["jobId"]
        client = make_client(live_sim.base_url)
        monitor = Monitor(client, interval=1.0)
        monitor.watch([jid])
        settings = rules(AlertRule(frozenset({"finished"}), webhook=url))
        monitor.events = EventDetector(settings, "ops")
        dispatcher = Dispatcher(settings, webhook_timeout=1.5, webhook_backoff=0.05)
        monitor.events.sinks.append(dispatcher.submit)
        task = asyncio.create_task(monitor.run(lambda update: None))
        await until(lambda: bool(hook.bodies))
        cycles = monitor.cycles
        # The webhook hangs (and is retried, 4 x 1.5 s); the monitor cycles on meanwhile.
        await until(lambda: monitor.cycles >= cycles + 1)
        assert dispatcher.pending == 1 and dispatcher.delivered == 0
        await until(lambda: dispatcher.failed == 1)
        assert len(hook.bodies) == 4
        monitor.stop()
        await task
        await dispatcher.aclose()
        await client.aclose()


def test_alert_settings_are_read_and_bad_values_warned(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('''
[alerts]
stall_minutes = 0.5
fail_rate = 60
min_calls = 200
balance_below = 10.0
problem_minutes = "soon"

[[alerts.rules]]
on = ["finished", "failed", "stalled", "balance_low"]
exec = "notify-send 'call watch'"

[[alerts.rules]]
on = ["failed", "nonsense"]
webhook = "https://hooks.example.com/services/T0K3N"

[[alerts.rules]]
on = ["failed"]
webhook = "ftp://nope"
''')
    cfg = load_config(path)
    a = cfg.alerts
    assert (a.stall_minutes, a.fail_rate, a.min_calls, a.balance_below) == (0.5, 60.0, 200, 10.0)
    assert a.problem_minutes == 3.0  # the bad value ignored
    assert [r.exec for r in a.rules] == [("notify-send", "call watch"), ()]
    assert a.rules[0].on == {"finished", "failed", "stalled", "balance_low"}
    assert a.rules[1].on == {"failed"} and a.rules[1].webhook is not None
    text = "\n".join(cfg.warnings)
    assert "problem_minutes" in text and "nonsense" in text and "http(s)" in text


def test_saving_the_config_leaves_the_alerts_as_written(tmp_path: Path) -> None:
    from callwatch.store.config import Profile, save_config

    path = tmp_path / "config.toml"
    alerts = ('[alerts]\nstall_minutes = 2.5  # quick\n\n[[alerts.rules]]\non = ["failed"]\n'
              'webhook = "https://hooks.example.com/x"\n')
    path.write_text(alerts)
    save_config(load_config(path).with_profile(Profile("work", api_key="k1")), path)
    text = path.read_text()
    assert alerts in text and "[profiles.work]" in text
    assert load_config(path).alerts.stall_minutes == 2.5
