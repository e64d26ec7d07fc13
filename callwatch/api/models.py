"""Typed, normalised models of the vendor's task JSON.

Parse leniently, fail loudly: drifting field types are tolerated, but a body
that is not the documented envelope raises :class:`BadResponseError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from callwatch.api.convert import to_datetime, to_float, to_int, to_seconds, to_text
from callwatch.api.fastinit import install_fast_init
from callwatch.api.states import ACTIVE_STATES as ACTIVE_STATES
from callwatch.api.states import FINISHED_CODES as FINISHED_CODES
from callwatch.api.states import FINISHED_STATES as FINISHED_STATES
from callwatch.api.states import JobState as JobState
from callwatch.errors import BadResponseError, api_error_for
from callwatch.textsafe import sanitize


def _api(name: str, kind: str = "int") -> Any:
    """Declare a Job field with its API key and conversion kind."""
    return field(default=None, metadata={"api": name, "kind": kind})


@dataclass(frozen=True, slots=True)
class Job:
    """One task, from a list record or a detail response. Unknown fields are None."""

    job_id: int
    status_code: int | None = _api("status")
    task_name: str | None = _api("taskName", "text")
    rate: float | None = _api("rate", "float")
    num_cnt: int | None = _api("numCnt")
    call_num: int | None = _api("callNum")
    success: int | None = _api("success")
    fail: int | None = _api("fail")
    created_time: datetime | None = _api("createdTime", "time")
    # detail-only fields
    display_num: str | None = _api("displayNum", "text")
    text: str | None = _api("text", "text")
    charge_len: int | None = _api("chargeLen")
    toseat_num: int | None = _api("toseatNum")
    success_rate: float | None = _api("successRate", "float")
    toseat_num_rate: float | None = _api("toseatNumRate", "float")
    send_time: datetime | None = _api("sendTime", "time")
    mdf_time: datetime | None = _api("mdfTime", "time")
    app_id: str | None = _api("appId", "text")
    source: int | None = _api("source")
    voice_file_id: str | None = _api("voiceFileId", "text")
    callout_rate: int | None = _api("calloutRate")
    finish_time: datetime | None = _api("finishTime", "time")
    key_feedback_num: int | None = _api("keyFeedbackNum")
    upload_name: str | None = _api("uploadName", "text")
    base_file: str | None = _api("baseFile", "text")
    call_loss_num: int | None = _api("callLossNum")
    call_duration: int | None = _api("callDuration")
    call_loss_num_rate: float | None = _api("callLossNumRate", "float")
    country_code: str | None = _api("code", "text")
    max_calls: int | None = _api("maxCalls")
    loop_count: int | None = _api("loopCount")
    lan: str | None = _api("lan", "text")
    all_call_toseat_num: int | None = _api("allCallToseatNum")
    call_total: int | None = _api("callTotal")
    acd: float | None = _api("acd", "seconds")
    sip_group_name: str | None = _api("sipGroupName", "text")
    received_seat_num: int | None = _api("receivedSeatNum")
    online_seat_num: int | None = _api("onineSeatNum")  # sic: the vendor's spelling
    max_ringing_time: int | None = _api("maxRingingTime")
    script_id: int | None = _api("scriptId")
    task_type: int | None = _api("taskType")
    has_detail: bool = False

    @property
    def state(self) -> JobState:
        return JobState.from_code(self.status_code)

    @property
    def called(self) -> int | None:
        """Numbers dialled: ``callNum`` from the list, else success + fail (detail)."""
        if self.call_num is not None:
            return self.call_num
        if self.success is not None and self.fail is not None:
            return self.success + self.fail
        return None

    @property
    def progress(self) -> float | None:
        """Percent 0..100: ``rate`` when usable, else called / numCnt."""
        if self.rate is not None and 0.0 <= self.rate <= 100.0:
            return self.rate
        called, total = self.called, self.num_cnt
        if called is not None and total:
            return max(0.0, min(100.0, 100.0 * called / total))
        if self.state is JobState.COMPLETED:
            return 100.0
        return None

    @property
    def answer_rate(self) -> float | None:
        """successRate when given, else success / called."""
        if self.success_rate is not None:
            return self.success_rate
        called = self.called
        if self.success is not None and called:
            return 100.0 * self.success / called
        return None

    def merged(self, newer: Job) -> Job:
        """Overlay ``newer`` on this job; fields ``newer`` lacks keep their value.

        A list record lacks the detail fields, so a fresh list record must not
        erase the detail fetched earlier.
        """
        if newer.has_detail or not self.has_detail:
            return newer  # list over list: the newer record is the whole truth (hot path)
        values = {name: new if (new := getattr(newer, name)) is not None
                  else getattr(self, name) for name in _NAMES}
        values["has_detail"] = True
        return Job(**values)

    def to_api_dict(self) -> dict[str, Any]:
        """The normalised fields under their API names (times as ISO 8601)."""
        out: dict[str, Any] = {"jobId": self.job_id}
        for f in fields(Job):
            api = f.metadata.get("api")
            if not api:
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            out[api] = value
        return out


install_fast_init(Job)  # built ~10,000 times a cycle at 10,000 tasks

_CONVERT = {
    "int": to_int,
    "float": to_float,
    "text": to_text,
    "time": to_datetime,
    "seconds": to_seconds,
}
_NAMES = [f.name for f in fields(Job) if f.name != "has_detail"]
# API key -> (field name, converter, kind: plain ints and plain decimal strings are
# read inline, the converters' fast cases).
_BY_API = {f.metadata["api"]: (f.name, _CONVERT[f.metadata["kind"]], f.metadata["kind"])
           for f in fields(Job) if "api" in f.metadata}
_NOTHING: Mapping[str, Any] = {}


# job id -> (the raw list record, the Job parsed from it): an unchanged record
# is not parsed again, and yields the very same Job object.
RecordMemo = dict[int, tuple[Mapping[str, Any], "Job"]]
MEMO_LIMIT = 200_000


def parse_job(record: object, *, detail: bool = False, memo: RecordMemo | None = None) -> Job:
    """Build a :class:`Job` from one list record or detail ``data`` object."""
    if type(record) is not dict and not isinstance(record, Mapping):  # dict: the fast test
        raise BadResponseError(f"task record is {_type_name(record)}, expected an object")
    raw_id = record["jobId"] if "jobId" in record else record.get("taskId")
    job_id = raw_id if type(raw_id) is int else to_int(raw_id)
    if job_id is None:
        raise BadResponseError("task record has no usable jobId/taskId")
    hit = memo.get(job_id) if memo is not None else None
    if hit is not None and (hit[0] is record or hit[0] == record):
        return hit[1]
    # Only the keys the record has (a list record has ~10 of the ~45 fields): the
    # others keep their default, None. A plain int needs no conversion; another raw
    # value the task's last record had too is not converted again (dates are dear).
    values: dict[str, Any] = {}
    field_for = _BY_API.get
    before, last = (hit[0], hit[1]) if hit is not None else (_NOTHING, None)
    for api, raw in record.items():
        spec = field_for(api)
        if spec is None or raw is None:
            continue
        name, convert, kind = spec
        if kind == "int" and type(raw) is int:
            values[name] = raw
            continue
        if kind == "float" and type(raw) is str and len(raw) <= 40:  # "rate": "37.5"
            try:
                number = float(raw)
            except ValueError:
                pass  # "37.5%" and the like: the converter's
            else:
                if number - number == 0.0:  # finite
                    values[name] = number
                    continue
        old = before.get(api)
        if last is not None and old == raw and type(old) is type(raw):
            values[name] = getattr(last, name)
        else:
            values[name] = convert(raw)
    if detail and values.get("call_num") is None:
        # A detail has no callNum: numbers dialled are success + fail, as the list's
        # callNum says (else list and detail records of one task differ in every cycle).
        success, fail = values.get("success"), values.get("fail")
        if success is not None and fail is not None:
            values["call_num"] = success + fail
    # ``acd`` and ``status`` arrive as strings and numbers alike; the converters coped.
    job = Job(job_id=job_id, has_detail=detail, **values)
    if memo is not None:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[job_id] = (record, job)
    return job


@dataclass(frozen=True, slots=True)
class Page:
    records: tuple[Job, ...]
    total: int
    size: int
    current: int
    pages: int


def unwrap(body: object) -> object:
    """Check a response envelope (``code``/``msg`` or ``status``/``reason``) and return ``data``.

    The balance call's envelope is flat (``status``, ``reason``, ``balance``... side by
    side, no ``data``): then the body itself is the data. Raises the typed
    :class:`ApiError` for a non-zero code and :class:`BadResponseError` when the body is
    not an envelope at all.
    """
    if not isinstance(body, Mapping):
        raise BadResponseError(f"response body is {_type_name(body)}, expected a JSON object")
    if "code" in body:
        raw_code, message = body.get("code"), body.get("msg", body.get("reason"))
    elif "status" in body:
        raw_code, message = body.get("status"), body.get("reason", body.get("msg"))
    else:
        raise BadResponseError("response has neither 'code' nor 'status': not an API envelope")
    code = to_int(raw_code)
    if code is None:
        raise BadResponseError(f"response status code {_short(raw_code)} is not a number")
    if code != 0:
        raise api_error_for(code, to_text(message))
    if "data" not in body and "balance" in body:
        return body  # the flat envelope
    return body.get("data")


@dataclass(frozen=True, slots=True)
class Balance:
    """The account's money: amounts arrive as strings with varying decimals."""

    balance: float
    gift: float = 0.0
    credit: float = 0.0
    currency: str | None = None  # not documented; kept when an API sends one

    def to_json(self) -> dict[str, object]:
        return {"balance": self.balance, "gift": self.gift, "credit": self.credit,
                "currency": self.currency}


def parse_balance(data: object) -> Balance:
    """The flat balance envelope (already checked by :func:`unwrap`)."""
    if not isinstance(data, Mapping):
        raise BadResponseError(f"balance response is {_type_name(data)}, expected an object")
    amount = to_float(data.get("balance"))  # finite or None
    if amount is None:
        raise BadResponseError("balance response has no usable 'balance'")
    currency = to_text(data.get("currency"))
    return Balance(amount, to_float(data.get("gift")) or 0.0,
                   to_float(data.get("credit")) or 0.0,
                   sanitize(currency, 12) or None if currency is not None else None)


def parse_detail(body: object) -> Job:
    return parse_detail_data(unwrap(body))


def parse_detail_data(data: object) -> Job:
    """A detail response's ``data`` (the envelope already unwrapped)."""
    if data is None:
        raise BadResponseError("detail response has no data")
    return parse_job(data, detail=True)


def parse_page(body: object, memo: RecordMemo | None = None) -> Page:
    return parse_page_data(unwrap(body), memo)


def parse_page_data(data: object, memo: RecordMemo | None = None) -> Page:
    """A list response's ``data`` (the envelope already unwrapped)."""
    if not isinstance(data, Mapping):
        raise BadResponseError(f"task list data is {_type_name(data)}, expected a page object")
    raw_records = data.get("records")
    if raw_records is None:
        raw_records = []
    if not isinstance(raw_records, list):
        raise BadResponseError("task list 'records' is not a list")
    records = tuple(parse_job(r, memo=memo) for r in raw_records)
    size = to_int(data.get("size")) or len(records) or 1
    total = to_int(data.get("total"))
    if total is None:
        total = len(records)
    pages = to_int(data.get("pages"))
    if pages is None:
        pages = -(-total // size) if size > 0 else 0
    current = to_int(data.get("current")) or 1
    return Page(records=records, total=total, size=size, current=current, pages=pages)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
