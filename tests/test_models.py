from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from callwatch.api.convert import to_datetime
from callwatch.api.models import JobState, parse_detail, parse_job, parse_page, unwrap
from callwatch.errors import (
    ApiError,
    AuthError,
    BadResponseError,
    IpDeniedError,
    NotFoundError,
    ParameterError,
    RateLimitedError,
    ServerInternalError,
    TimestampError,
)
from tests.helpers.common import fixture_json

UTC8 = timezone(timedelta(hours=8))


def test_vendor_detail_sample_parses_every_field() -> None:
    job = parse_detail(fixture_json("detail-completed.json"))
    assert job.job_id == 5000597
    assert job.task_name == "123123"
    assert job.display_num is None
    assert job.text == "12312312"
    assert job.status_code == 2 and job.state is JobState.COMPLETED and job.state.finished
    assert job.rate == 100.0 and job.progress == 100.0
    assert job.num_cnt == 1
    assert job.charge_len == 0
    assert job.success == 0 and job.fail == 1 and job.called == 1
    assert job.toseat_num == 0
    assert job.success_rate == 0.0 and job.toseat_num_rate == 0.0
    assert job.send_time == datetime(2024, 6, 4, 14, 17, 53, tzinfo=UTC8)
    assert job.created_time == datetime(2024, 6, 3, 18, 34, 56, tzinfo=UTC8)
    assert job.mdf_time == datetime(2024, 6, 4, 14, 18, 5, tzinfo=UTC8)
    assert job.finish_time == datetime(2024, 6, 4, 14, 18, 5, tzinfo=UTC8)
    assert job.app_id == "iaAJ6COV"
    assert job.source == 3
    assert job.callout_rate == 0
    assert job.key_feedback_num == 0
    assert job.call_loss_num == 0
    assert job.call_duration == 0
    assert job.call_loss_num_rate == 0.0
    assert job.voice_file_id is None
    assert job.country_code is None  # data.code is the country code, not the status
    assert job.max_calls == 40 and job.loop_count == 1
    assert job.lan is None
    assert job.all_call_toseat_num == 0
    assert job.call_total == 1
    assert job.acd == 0.0
    assert job.sip_group_name == ""
    assert job.received_seat_num == 0 and job.online_seat_num == 0
    assert job.upload_name is None and job.base_file is None
    assert job.max_ringing_time == 60
    assert job.has_detail
    assert job.created_time is not None and job.created_time.utcoffset() == timedelta(hours=8)


def test_vendor_page_sample_parses_every_field() -> None:
    page = parse_page(fixture_json("query-page.json"))
    assert (page.total, page.size, page.current, page.pages) == (1, 10, 1, 1)
    (job,) = page.records
    assert job.job_id == 5000602
    assert job.task_name == "2024-06-04 14:49:17111"
    assert job.state is JobState.WAITING and not job.state.finished
    assert job.rate == 0.0 and job.progress == 0.0
    assert (job.num_cnt, job.call_num, job.success, job.fail) == (1, 0, 0, 0)
    assert job.created_time == datetime(2024, 6, 4, 14, 49, 17, tzinfo=UTC8)
    assert not job.has_detail


def test_drifting_types_are_tolerated() -> None:
    job = parse_job({"taskId": "77", "status": "1", "rate": "45.5", "numCnt": "200",
                     "callNum": 91.0, "success": "50", "fail": 41, "successRate": "54.95%",
                     "acd": "1m", "createdTime": "2024-06-04T14:49:17+08:00",
                     "unexpected": {"nested": [1, 2]}})
    assert job.job_id == 77 and job.state is JobState.CALLING
    assert job.rate == 45.5 and job.num_cnt == 200 and job.call_num == 91
    assert job.success_rate == 54.95 and job.acd == 60.0
    assert job.created_time == datetime(2024, 6, 4, 14, 49, 17, tzinfo=UTC8)


def test_progress_falls_back_to_counts() -> None:
    job = parse_job({"jobId": 1, "status": 1, "rate": "n/a", "numCnt": 200, "callNum": 50})
    assert job.progress == 25.0
    assert parse_job({"jobId": 1, "rate": None}).progress is None


@pytest.mark.parametrize("code", [7, -3, "x", None, 99])
def test_unknown_status_is_unknown_not_a_crash(code: object) -> None:
    job = parse_job({"jobId": 1, "status": code})
    assert job.state is JobState.UNKNOWN and job.state.label == "unknown"
    assert not job.state.finished


def test_every_state_has_label_and_finished_flag() -> None:
    finished = {s for s in JobState if s.finished}
    assert finished == {JobState.COMPLETED, JobState.SUBMISSION_FAILED, JobState.CANCELLED}
    assert [JobState.from_code(i).label for i in range(7)] == [
        "waiting", "calling", "completed", "submit failed", "cancelled", "suspended",
        "submitting"]


@pytest.mark.parametrize(("code", "cls"), [
    (-1, AuthError), ("-2", IpDeniedError), (-15, RateLimitedError), ("-16", TimestampError),
    (-18, ServerInternalError), (-22, ParameterError), (-24, NotFoundError), (-54, ApiError),
])
def test_status_codes_map_to_typed_errors(code: object, cls: type[ApiError]) -> None:
    with pytest.raises(cls) as info:
        unwrap({"code": code, "msg": "vendor text", "data": None})
    assert info.value.code == int(str(code))
    assert "vendor text" in info.value.message
    # the status/reason envelope too
    with pytest.raises(cls):
        unwrap({"status": str(code), "reason": "x"})


@pytest.mark.parametrize("body", [
    [], "text", 3, None, {"data": {}}, {"code": "zero"}, {"code": 0, "data": []},
    {"code": 0, "data": {"records": "nope"}}, {"code": 0, "data": {"records": [{"x": 1}]}},
    {"code": 0, "data": {"records": [5]}},
])
def test_not_an_envelope_is_a_readable_error(body: object) -> None:
    with pytest.raises(BadResponseError) as info:
        parse_page(body)
    assert info.value.message and "KeyError" not in info.value.message


def test_detail_without_data_is_an_error() -> None:
    with pytest.raises(BadResponseError):
        parse_detail({"code": 0, "msg": "success", "data": None})


def test_merge_keeps_detail_fields_when_a_list_record_arrives() -> None:
    detail = parse_detail(fixture_json("detail-completed.json"))
    newer = parse_job({"jobId": 5000597, "status": 2, "success": 0, "fail": 1, "callNum": 1})
    merged = detail.merged(newer)
    assert merged.text == "12312312" and merged.call_num == 1 and merged.has_detail
    assert merged.to_api_dict()["createdTime"] == "2024-06-03T18:34:56+08:00"


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-06-01 10:00:00", datetime(2024, 6, 1, 10, 0, 0, tzinfo=UTC8)),  # the API's form
    ("2024-6-1 9:05:00", datetime(2024, 6, 1, 9, 5, 0, tzinfo=UTC8)),  # unpadded
    ("2024-06-01T10:00:00+00:00", datetime(2024, 6, 1, 18, 0, 0, tzinfo=UTC8)),
    ("2024-06-01 10:00:00.500", datetime(2024, 6, 1, 10, 0, 0, 500000, tzinfo=UTC8)),
    (" 2024-06-01 10:00:00 ", datetime(2024, 6, 1, 10, 0, 0, tzinfo=UTC8)),
    ("2024-13-01 10:00:00", None), ("yesterday", None), ("", None), ("9" * 70, None),
])
def test_date_texts_in_every_form_the_api_was_seen_to_send(text: str,
                                                           expected: datetime | None) -> None:
    assert to_datetime(text) == expected
