"""Every option of every command says what it does and, when it takes a value, its
default (issue 17: ``sim --help`` had bare ``--host HOST`` lines)."""

from __future__ import annotations

import argparse

import pytest

from callwatch.cli import auth_cmds, monitor_cmd, oneshot, serve_cmd, sim_cmd
from tests.helpers.common import run_callwatch

PARSERS = {
    "callwatch": monitor_cmd.build_parser,
    "sim": sim_cmd.build_parser,
    "status": lambda: oneshot.build_parser("status"),
    "list": lambda: oneshot.build_parser("list"),
    "wait": lambda: oneshot.build_parser("wait"),
    "login": auth_cmds._login_parser,
    "logout": auth_cmds._logout_parser,
    "info": auth_cmds.info_parser,
    "serve": serve_cmd.build_parser,
}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.extend(_options(sub))
        elif action.option_strings and not isinstance(action, argparse._HelpAction):
            out.append(action)
    return out


@pytest.mark.parametrize("name", [*PARSERS, "auth"])
def test_every_option_has_a_line_and_its_default(name: str) -> None:
    parser = auth_cmds.auth_parser() if name == "auth" else PARSERS[name]()
    options = _options(parser)
    assert options
    for action in options:
        flag = action.option_strings[-1]
        assert action.help and action.help.strip(), f"{name} {flag}: no help line"
        if action.nargs != 0:  # takes a value: say what happens without it
            assert "default" in action.help, f"{name} {flag}: no default"


def test_sim_help_shows_the_defaults() -> None:
    ran = run_callwatch("sim", "--help", timeout=30)
    assert ran.returncode == 0
    text = " ".join(ran.stdout.split())
    for words in ("(default 127.0.0.1", "(default 8765", "(default 1.0)", "(default 1)",
                  "(default none)", "(default itnio)", "(default: a random one"):
        assert words in text, words
