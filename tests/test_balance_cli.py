"""``callwatch balance [--json]`` against the simulator: the flat envelope, each brand's
path, and every documented error code as the exit code the other commands use."""

from __future__ import annotations

import pytest

from callwatch.api.brands import Brand
from callwatch.api.models import parse_balance, unwrap
from callwatch.errors import AuthError, BadResponseError
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.remote import control, set_balance
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import KEY, SECRET
from tests.helpers.oneshot import run_cli, run_here, sim_env


def test_balance_json_has_numbers_not_strings(live_sim: RunningSim) -> None:
    control(live_sim.base_url, "speed", {"speed": 0})  # the running tasks charge nothing
    set_balance(live_sim.base_url, set=99.99, gift=50.0)
    ran = run_cli(["balance", "--json"], sim_env(live_sim.base_url))
    assert ran.code == 0, ran.err
    assert ran.json() == {"balance": 99.99, "gift": 50.0, "credit": 0.0, "currency": None}


def test_balance_text_shows_gift_and_credit_only_when_set(
        live_sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    control(live_sim.base_url, "speed", {"speed": 0})
    set_balance(live_sim.base_url, set=12.5)
    ran = run_here(monkeypatch, capsys, live_sim.base_url, ["balance"])
    assert (ran.code, ran.out) == (0, "balance 12.50\n")
    set_balance(live_sim.base_url, credit=3)
    ran = run_here(monkeypatch, capsys, live_sim.base_url, ["balance"])
    assert ran.out == "balance 12.50 · credit 3.00\n"


@pytest.mark.parametrize("brand", [Brand.ONBUKA, Brand.LAAFFIC])
def test_balance_follows_the_brand_path(brand: Brand, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    state = SimState(SimConfig(brand=brand, keys={KEY: SECRET}, balance=7.0))
    with serve_in_thread(state) as sim:
        monkeypatch.setenv("CALLWATCH_BRAND", brand.value)
        ran = run_here(monkeypatch, capsys, sim.base_url, ["balance", "--json"])
        assert ran.code == 0, ran.err
        assert ran.json()["balance"] == 7.0
        assert state.stats["balance"] == 1 and brand.balance_path == "/v3/getBalance"


@pytest.mark.parametrize(("code", "exit_code", "words"), [
    (-1, 3, "authentication failed"),
    (-2, 3, "allow-list"),
    (-13, 3, "locked"),
    (-16, 3, "timestamp"),
    (-18, 5, "internal error"),
])
def test_every_balance_error_code_has_its_exit_code(
        live_sim: RunningSim, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], code: int, exit_code: int, words: str) -> None:
    set_balance(live_sim.base_url, code=code)
    monkeypatch.setenv("CALLWATCH_TIMEOUT", "3")  # -18 is retried: within 3 s
    ran = run_here(monkeypatch, capsys, live_sim.base_url, ["balance", "--json"])
    assert ran.code == exit_code, ran.err
    assert ran.out == "" and words in ran.err.lower() and f"code {code}" in ran.err
    assert SECRET not in ran.err


def test_a_wrong_secret_is_exit_3_in_a_real_process(live_sim: RunningSim) -> None:
    ran = run_cli(["balance"], sim_env(live_sim.base_url, secret="not-the-secret"))
    assert ran.code == 3 and "authentication failed" in ran.err and ran.out == ""


def test_the_flat_envelope_unwraps_and_the_others_are_unchanged() -> None:
    flat = {"status": "0", "reason": "success", "balance": "99.990000", "gift": "50.00000",
            "credit": "0"}
    assert parse_balance(unwrap(flat)).to_json() == {
        "balance": 99.99, "gift": 50.0, "credit": 0.0, "currency": None}
    assert unwrap({"status": "0", "reason": "success"}) is None  # no data, as before
    assert unwrap({"code": 0, "msg": "success", "data": {"x": 1}}) == {"x": 1}
    with pytest.raises(AuthError):
        unwrap({"status": "-13", "reason": "User locked"})
    with pytest.raises(BadResponseError):
        parse_balance(unwrap({"status": "0", "reason": "success", "balance": "lots"}))
