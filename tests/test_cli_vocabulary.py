"""One vocabulary: the error table, the job-id parser, the command list in --help."""

from __future__ import annotations

import inspect

import pytest

from callwatch import errors
from callwatch.api.types import parse_job_ids
from callwatch.cli import COMMANDS
from callwatch.cli.monitor_cmd import build_parser
from callwatch.monitor.problems import problem_for
from tests.helpers.common import run_callwatch


def _error_classes() -> list[type[errors.CallwatchError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, errors.CallwatchError)]


def test_every_error_kind_has_words_a_fix_and_an_exit_code() -> None:
    for cls in _error_classes():
        assert cls.kind in errors.ERRORS, cls.__name__
        entry = errors.ERRORS[cls.kind]
        message, fix, code = entry.message, entry.fix, entry.exit_code
        assert message and isinstance(fix, str) and isinstance(entry.live_fix(), str)
        assert code in (errors.EXIT_USAGE, errors.EXIT_AUTH, errors.EXIT_NETWORK,
                        errors.EXIT_API, errors.EXIT_ACTIONS_DISABLED)


@pytest.mark.parametrize(("error", "detailed"), [
    (errors.AuthError("x", -1), False), (errors.IpDeniedError("x", -2), False),
    (errors.TimestampError("x", -16), False), (errors.RateLimitedError("x", -15), False),
    (errors.ServerInternalError("boom", -18), True), (errors.NetworkError("refused"), True),
    (errors.ApiTimeoutError("no answer"), True), (errors.BadResponseError("not JSON"), True),
])
def test_the_banner_speaks_the_table(error: errors.CallwatchError, detailed: bool) -> None:
    """The banner's words are the table's (capitalised), with the error's own detail
    where it names a host or a status; its fix is the table's, as a live screen says it."""
    problem = problem_for(error)
    entry = errors.ERRORS[error.kind]
    words = entry.message[0].upper() + entry.message[1:]
    assert problem.message == (f"{words}: {error.message}" if detailed else words)
    assert problem.fix == entry.live_fix() and problem.fix
    assert problem.kind == error.kind


def test_the_banner_names_where_the_rejected_secret_came_from() -> None:
    advice = "check CALLWATCH_API_KEY / CALLWATCH_API_SECRET"
    problem = problem_for(errors.AuthError("x", -1), advice)
    assert problem.fix == f"{advice}, then press r"
    assert problem_for(errors.AuthError("x", -1)).fix == f"{errors.AUTH_ADVICE}, then press r"
    # HTTP 5xx reads as the API's internal error; any other rejection as the generic one.
    assert problem_for(errors.HttpStatusError("HTTP 502", 502)).kind == "server"
    other = problem_for(errors.NotFoundError("no such task (code -24)", -24))
    assert (other.kind, other.message) == ("api", "The API rejected a request: no such task "
                                                  "(code -24)")


@pytest.mark.parametrize(("error", "code"), [
    (errors.CredentialsError("x"), 3), (errors.AuthError("x", -1), 3),
    (errors.IpDeniedError("x", -2), 3), (errors.TimestampError("x", -16), 3),
    (errors.NetworkError("x"), 4), (errors.ApiTimeoutError("x"), 4),
    (errors.HttpStatusError("x", 502), 4), (errors.BadResponseError("x"), 4),
    (errors.RateLimitedError("x", -15), 5), (errors.NotFoundError("x", -24), 5),
    (errors.ApiError("x", -99), 5), (errors.ConfigError("x"), 2), (RuntimeError("x"), 5),
])
def test_exit_codes_come_from_the_table(error: BaseException, code: int) -> None:
    assert errors.exit_code_for(error) == code


def test_one_job_id_parser() -> None:
    assert parse_job_ids("1, 2 3;;4 2") == [1, 2, 3, 4]
    assert parse_job_ids(" 7 ") == [7]
    with pytest.raises(ValueError, match="at most 2"):
        parse_job_ids("1 2 3", limit=2)
    for bad in ("", " , ", "x", "-1", "0", "1.5", "+3"):
        with pytest.raises(ValueError):
            parse_job_ids(bad)


def test_positional_ids_and_demo_still_parse() -> None:
    args = build_parser().parse_args(["123", "456", "--interval", "3"])
    assert args.job_ids == ["123", "456"] and args.interval == 3.0
    assert build_parser().parse_args(["--demo"]).demo


def test_help_lists_every_subcommand_with_its_line() -> None:
    ran = run_callwatch("--help")
    assert ran.returncode == 0, ran.stderr
    for name, (_module, summary) in COMMANDS.items():
        assert any(line.split() == [name, *summary.split()] for line in ran.stdout.splitlines()
                   ), name


def test_bad_ids_give_one_line_and_exit_2() -> None:
    ran = run_callwatch("12", "abc")
    assert ran.returncode == 2
    assert ran.stderr == "callwatch: not a job id: 'abc' (ids are positive whole numbers)\n"
    ran = run_callwatch("status", "abc")
    assert ran.returncode == 2 and "not a job id: 'abc'" in ran.stderr
