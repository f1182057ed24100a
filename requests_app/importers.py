"""Case-history import (docs/reporting.md, 'The history import'): JSONL histories, and 台账
ledgers.

Every line is replayed through the same state machine and clock as a live case:

- :func:`plan_step` maps each history event onto the service calls that make it happen
  (``replied`` is the closing event for every outcome: submit for approval, approve and serve
  the reply; or withdraw / abandon for those outcomes).
- :class:`ServicesReplayer` calls ``requests_app.services`` with ``actor=None`` and
  ``effective_at`` = each event's ``at``, one line per savepoint. It is the reference.
- :class:`FastReplayer` applies the same services' plans (``services.cases.plan_<step>``:
  their checks, messages, transitions and history data) to an unsaved ``Case`` in memory with
  ``plan_apply``, computes its clock, and bulk-inserts the cases, events, fee notices,
  重复申请 checks, reviews, lawsuits and complaints of many lines at once. The command uses
  this one; ``tests/test_import_equivalence.py`` proves both give the same database.

Both do what the services' single path sets off, once per imported case: the 重复申请 check of
each case (``services.repeats``), and the published reports the cases count in flagged stale
with one note per report and run (``services.importing``: each step of an imported history
sends no ``case_changed``).

An impossible history (a transition the state machine refuses, a date before the
submission, a reply before receipt, an unknown outcome …) rejects its line with the line
number and the reason; the other lines still load. A line whose ``external_id`` exists is
skipped and says so. Imported histories never notify applicants (the applicant's e-mail is
set only once the history is written), and each imported case ends with an ``imported``
event naming its source.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import io
import json
import queue
import secrets
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from psycopg.adapt import Transformer
from psycopg.pq import Format as PqFormat
from psycopg.types.json import Jsonb

from requests_app import clock as clock_rules
from requests_app.choices import (
    CONFIRMED_CHANNELS,
    AgencyKind,
    ApplicantType,
    CaseState,
    Channel,
    ConsulteeKind,
    IdType,
    Outcome,
)
from requests_app.clock import DUE_FIELDS, ClockEvent, compute_clock
from requests_app.deadlines import ONE_DAY, WorkCalendar
from requests_app.models import (
    Agency,
    Case,
    CaseEvent,
    Complaint,
    EventKind,
    FeeNotice,
    Lawsuit,
    RepeatCheck,
    Result,
    Review,
)
from requests_app.services import cases as case_services
from requests_app.services import clock as clock_services
from requests_app.services import importing
from requests_app.services.clock import clock_today, dates_fixed, local_date
from requests_app.services.errors import ServiceError
from requests_app.services.intake import (
    CODE_ALPHABET,
    TRACKING_CODE_LENGTH,
    new_tracking_number,
    submitted_event_values,
    tracking_number,
)
from requests_app.services.repeats import RepeatChecks, RepeatResult
from requests_app.validation import SUSPECT_JSON_ESCAPE, unstorable_text

try:  # the formatter behind psycopg's Copy.write_row (not a public name)
    from psycopg._copy_base import BinaryFormatter as _BinaryFormatter
except ImportError:  # pragma: no cover - then the writer thread formats the rows itself
    _BinaryFormatter = None

GC_THRESHOLDS = (200_000, 100, 1_000)  # during a run (see FastReplayer.run)
SWITCH_INTERVAL = 0.0005  # seconds: the GIL's hand-over interval during a threaded run
EVENT_TYPES = (
    "submitted",
    "received",
    "supplement_requested",
    "supplement_received",
    "consultation_sent",
    "consultation_closed",
    "extended",
    "fee_notice",
    "fee_paid",
    "replied",
)
APPLICANT_FIELDS = {
    "name": "applicant_name",
    "id_type": "id_type",
    "id_number": "id_number",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "postal_code": "postal_code",
    "legal_representative": "legal_representative",
    "contact_person": "contact_person",
}
DEFAULT_SUPPLEMENT_ITEMS = "（历史导入，原记录未载明补正事项）"
DEFAULT_EXTENSION_REASON = "（历史导入）延期答复"
IMPORT_ACTOR_LABEL = "历史导入"


class LineRejected(Exception):
    """The line cannot be imported: ``reason`` says why (Chinese, then English)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- parsing and validating one line ------------------------------------------------------


# The import makes about ten of each per line: plain slotted classes (a frozen dataclass's
# __init__ is three times slower; nothing hashes or changes them).
@dataclass(slots=True)
class HistoryEvent:
    index: int  # 1-based position in the line's "events"
    type: str
    at: dt.datetime
    data: dict[str, Any]


@dataclass
class CaseHistory:
    external_id: str
    agency_ref: str
    channel: str
    fields: dict[str, str]
    events: list[HistoryEvent]
    reviews: list[dict[str, Any]]
    lawsuits: list[dict[str, Any]]
    complaints: list[dict[str, Any]]

    @property
    def submitted_at(self) -> dt.datetime:
        return self.events[0].at

    @property
    def email(self) -> str:
        return self.fields.get("email", "")


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _moment(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise LineRejected(f"{where}: 缺少时间 / 'at' must be an ISO datetime string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise LineRejected(f"{where}: 时间格式错误 / not an ISO datetime: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    return moment


def _day(value: Any, where: str, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise LineRejected(f"{where}: 缺少日期 / a date is required")
        return None
    if not isinstance(value, str):
        raise LineRejected(f"{where}: 日期格式错误 / not an ISO date: {value!r}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise LineRejected(f"{where}: 日期格式错误 / not an ISO date: {value!r}") from None


# The codes of each choice list, listed once (``TextChoices.values`` builds a list each time).
_VALUES = {
    choices: tuple(choices.values)
    for choices in (Channel, ApplicantType, IdType, Result, ConsulteeKind, Outcome)
}


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise LineRejected(f"{where}: {value!r} 不是有效值 / must be one of {', '.join(choices)}")
    return value


def _text(value: Any, where: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LineRejected(f"{where}: 须为文本 / must be a string")
    value = value.strip()
    if len(value) > max_length:
        raise LineRejected(f"{where}: 超过 {max_length} 字 / longer than {max_length} characters")
    return value


_MAX_LENGTHS = {name: Case._meta.get_field(name).max_length for name in APPLICANT_FIELDS.values()}


# The events' free texts (checked as text: a number there would fail a service's strip()
# or the write), with the length of the column each ends up in.
_EVENT_TEXTS = {
    "items": 5000,
    "reason": 5000,
    "consultee": 5000,
    "legal_basis": Case._meta.get_field("legal_basis").max_length,
}


def parse_history(obj: Any) -> CaseHistory:
    """Check the shape of one JSON object (not yet the history's legality)."""
    if not isinstance(obj, dict):
        raise LineRejected("不是 JSON 对象 / the line is not a JSON object")
    external_id = _text(obj.get("external_id"), "external_id", 100)
    if not external_id:
        raise LineRejected("缺少 external_id / external_id is required")
    agency_ref = _text(obj.get("agency"), "agency", 1000).strip("/")
    if not agency_ref:
        raise LineRejected("缺少 agency / agency is required")
    channel = _choice(obj.get("channel"), _VALUES[Channel], "channel")
    applicant = obj.get("applicant")
    if not isinstance(applicant, dict):
        raise LineRejected("缺少 applicant / applicant must be an object")
    fields = {
        "applicant_type": _choice(applicant.get("type"), _VALUES[ApplicantType], "applicant.type"),
        "description": _text(obj.get("description"), "description", 5000),
    }
    for key, name in APPLICANT_FIELDS.items():
        value = _text(applicant.get(key), f"applicant.{key}", _MAX_LENGTHS[name])
        if value:
            fields[name] = value
    if not fields.get("applicant_name"):
        raise LineRejected("缺少申请人姓名 / applicant.name is required")
    if "id_type" in fields:
        _choice(fields["id_type"], _VALUES[IdType], "applicant.id_type")
    raw_events = obj.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise LineRejected("缺少 events / events must be a non-empty list")
    events = []
    for i, raw in enumerate(raw_events, start=1):
        where = f"events[{i}]"
        if not isinstance(raw, dict):
            raise LineRejected(f"{where}: 不是对象 / not an object")
        kind = _choice(raw.get("type"), EVENT_TYPES, f"{where}.type")
        data = {k: v for k, v in raw.items() if k not in ("type", "at")}
        for key in _EVENT_TEXTS.keys() & data.keys():
            _text(data[key], f"{where}.{key}", _EVENT_TEXTS[key])
        events.append(HistoryEvent(i, kind, _moment(raw.get("at"), where), data))
    for earlier, later in zip(events, events[1:], strict=False):
        if later.at < earlier.at:
            raise LineRejected(
                f"events[{later.index}]: 时间早于前一事件 / '{later.type}' at {later.at.isoformat()}"
                f" is before the previous event '{earlier.type}' at {earlier.at.isoformat()}"
            )
    for event in events[1:]:
        if event.type == "submitted":
            raise LineRejected(
                f"events[{event.index}]: submitted 只能是第一个事件 / 'submitted' must come first"
            )
    if events[0].type != "submitted":
        # No submission recorded: it arrived when it was received.
        events.insert(0, HistoryEvent(0, "submitted", events[0].at, {}))
    if channel not in CONFIRMED_CHANNELS and not any(e.type == "received" for e in events):
        raise LineRejected(
            "当面、口头、邮寄申请须有 received 事件 / an in-person, oral or signed-post "
            "application needs a 'received' event (its registration)"
        )
    return CaseHistory(
        external_id=external_id,
        agency_ref=agency_ref,
        channel=channel,
        fields=fields,
        events=events,
        reviews=_proceedings(obj.get("reviews"), "reviews", lawsuit=False),
        lawsuits=_proceedings(obj.get("lawsuits"), "lawsuits", lawsuit=True),
        complaints=_complaints(obj.get("complaints")),
    )


def _proceedings(raw: Any, name: str, *, lawsuit: bool) -> list[dict[str, Any]]:
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise LineRejected(f"{name}: 须为列表 / must be a list")
    out = []
    for i, item in enumerate(raw, start=1):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            raise LineRejected(f"{where}: 不是对象 / not an object")
        filed_on = _day(item.get("filed_on"), f"{where}.filed_on")
        decided_on = _day(item.get("decided_on"), f"{where}.decided_on", required=False)
        result = _choice(item.get("outcome", Result.PENDING), _VALUES[Result], f"{where}.outcome")
        if decided_on is not None and decided_on < filed_on:
            raise LineRejected(f"{where}: 决定日期早于申请日期 / decided_on is before filed_on")
        if result == Result.PENDING and decided_on is not None:
            raise LineRejected(f"{where}: 已决定的不能是 pending / decided but outcome is pending")
        if result != Result.PENDING and decided_on is None:
            raise LineRejected(f"{where}: 有结果须有 decided_on / a result needs decided_on")
        row = {"filed_on": filed_on, "decided_on": decided_on, "result": result}
        if lawsuit:
            after_review = item.get("after_review", False)
            if not isinstance(after_review, bool):
                raise LineRejected(f"{where}.after_review: 须为 true/false / must be a boolean")
            row["after_review"] = after_review
        out.append(row)
    return out


def _complaints(raw: Any) -> list[dict[str, Any]]:
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise LineRejected("complaints: 须为列表 / must be a list")
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise LineRejected(f"complaints[{i}]: 不是对象 / not an object")
        out.append(
            {
                "filed_on": _day(item.get("filed_on"), f"complaints[{i}].filed_on"),
                "summary": _text(item.get("summary"), f"complaints[{i}].summary", 5000),
            }
        )
    return out


def check_linked_dates(history: CaseHistory, received_on: dt.date | None) -> None:
    """Reviews, lawsuits and complaints are about a received application."""
    for name, rows in (("reviews", history.reviews), ("lawsuits", history.lawsuits),
                       ("complaints", history.complaints)):  # fmt: skip
        for i, row in enumerate(rows, start=1):
            if received_on is None or row["filed_on"] < received_on:
                raise LineRejected(
                    f"{name}[{i}]: 早于收到申请 / filed on {row['filed_on']} before the "
                    f"application was received ({received_on})"
                )


# --- agencies -------------------------------------------------------------------------------


class AgencyResolver:
    """Agency codes or code paths from the root; ``create`` makes missing ones."""

    def __init__(self, *, create: bool):
        self.create = create
        self.cache: dict[str, Agency] = {}

    def resolve(self, ref: str) -> Agency:
        found = self.cache.get(ref)
        if found is not None:
            return found
        codes = [c for c in ref.split("/") if c]
        parent = None
        agency = None
        for depth, code in enumerate(codes):
            agency = Agency.objects.filter(code=code).first()
            if agency is None:
                if not self.create:
                    raise LineRejected(
                        f"机关不存在 / unknown agency {code!r} (use --create-agencies to create it)"
                    )
                if not Agency._meta.get_field("code").validators[0].regex.match(code):
                    raise LineRejected(f"机关代码无效 / invalid agency code {code!r}")
                kind = AgencyKind.GOVERNMENT if depth == 0 else AgencyKind.DEPARTMENT
                agency = Agency.objects.create(code=code, name=code, parent=parent, kind=kind)
            elif len(codes) > 1 and agency.parent_id != (parent.pk if parent else None):
                raise LineRejected(
                    f"机关路径不符 / agency {code!r} is not under "
                    f"{parent.code if parent else 'the root'} (path {ref!r})"
                )
            parent = agency
        self.cache[ref] = agency
        return agency


# --- from events to service steps -------------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One service call: its name (``requests_app.services.cases.case_<name>``) and arguments."""

    name: str
    kwargs: dict[str, Any]
    effective_at: dt.datetime


def plan_step(event: HistoryEvent, state: str, channel: str) -> list[Step]:
    """The service calls that make ``event`` happen on a case now in ``state`` (days are
    the services' own: ``services.clock.local_date``)."""
    at, data = event.at, event.data
    if event.type == "received":
        name = "confirm_receipt" if channel in CONFIRMED_CHANNELS else "register"
        return [Step(name, {"received_on": local_date(at)}, at)]
    if event.type == "supplement_requested":
        period = data.get("period_days")
        return [
            Step(
                "request_supplement",
                {"items": data.get("items") or DEFAULT_SUPPLEMENT_ITEMS, "period_days": period},
                at,
            )
        ]
    if event.type == "supplement_received":
        return [Step("receive_supplement", {"received_on": local_date(at)}, at)]
    if event.type == "consultation_sent":
        party = data.get("party") or ConsulteeKind.THIRD_PARTY
        label = ConsulteeKind(party).label if party in _VALUES[ConsulteeKind] else party
        return [
            Step(
                "start_consultation",
                {"consultee": data.get("consultee") or str(label), "consultee_kind": party},
                at,
            )
        ]
    if event.type == "consultation_closed":
        return [Step("close_consultation", {"opinion": data.get("opinion") or ""}, at)]
    if event.type == "extended":
        days = data.get("days", case_services.MAX_EXTENSION_DAYS)
        reason = data.get("reason") or DEFAULT_EXTENSION_REASON
        return [Step("extend", {"days": days, "reason": reason}, at)]
    steps = []
    if event.type in ("fee_notice", "replied") and state == CaseState.REGISTERED:
        # Handling starts before a fee notice or a drafted reply (分办).
        steps.append(Step("start_processing", {}, at))
    if event.type == "fee_notice":
        steps.append(Step("issue_fee_notice", {"amount_yuan": data.get("amount_yuan")}, at))
        return steps
    if event.type == "fee_paid":
        return [Step("record_fee_payment", {"waived": bool(data.get("waived", False))}, at)]
    if event.type == "replied":
        outcome = data.get("outcome")
        if outcome not in _VALUES[Outcome]:
            raise LineRejected(f"events[{event.index}]: 答复结果无效 / unknown outcome {outcome!r}")
        if outcome == Outcome.WITHDRAWN:
            return [Step("withdraw", {"reason": data.get("reason") or ""}, at)]
        if outcome == Outcome.ABANDONED_NO_SUPPLEMENT:
            return [Step("abandon_no_supplement", {"on": local_date(at)}, at)]
        if outcome == Outcome.ABANDONED_NO_FEE:
            return [Step("abandon_no_fee", {"on": local_date(at)}, at)]
        return [
            *steps,
            Step(
                "submit_for_approval",
                {"outcome": outcome, "legal_basis": data.get("legal_basis") or ""},
                at,
            ),
            Step("approve", {}, at),
            Step("serve_reply", {"served_on": local_date(at)}, at),
        ]
    raise LineRejected(f"events[{event.index}]: 未知事件 / unknown event type {event.type!r}")


def _refusal(event: HistoryEvent, error: ServiceError) -> LineRejected:
    """The line's rejection: the event, and the service's refusal in its own words."""
    return LineRejected(
        f"events[{event.index}] {event.type} @ {event.at.isoformat()}: "
        f"{error.message} / {error.message_en}"
    )


# --- results -----------------------------------------------------------------------------------


class Progress:
    """Told of the lines' results as an import goes (``add``) and when it ends (``done``);
    this one says nothing. ``import_cases`` shows a progress bar or periodic lines."""

    def __init__(self):
        self.read = self.imported = self.skipped = self.rejected = 0
        self.started = time.monotonic()

    def rate(self) -> float:
        """Lines read per second so far."""
        return self.read / max(time.monotonic() - self.started, 1e-9)

    def add(self, results: Iterable[LineResult]) -> None:
        for result in results:
            self.read += 1
            if result.status == "imported":
                self.imported += 1
            elif result.status == "skipped":
                self.skipped += 1
            else:
                self.rejected += 1
        self.update()

    def update(self) -> None:
        """The counts changed."""

    def done(self) -> None:
        """The import ended."""


@dataclass
class LineResult:
    line: int
    external_id: str
    status: str  # imported | skipped | rejected
    reason: str = ""
    case_id: int | None = None


@dataclass
class ImportSummary:
    results: list[LineResult] = field(default_factory=list)
    stopped: str = ""  # why the run stopped early (a database write failed), if it did

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


def read_jsonl(stream: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or a LineRejected) for every non-blank line."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as error:
            yield number, LineRejected(f"不是有效的 JSON / invalid JSON: {error.msg}")
            continue
        if SUSPECT_JSON_ESCAPE.search(raw) and (why := unstorable_text(obj)):
            yield number, LineRejected(why)
            continue
        yield number, obj


def _imported_event(case: Case, *, source: str, line: int, now: dt.datetime) -> _Event:
    """The history row that says the case was imported, and from which line of which file."""
    state = case.__dict__["state"]
    data = {"external_id": case.external_id, "source": source, "line": line}
    return _Event(EventKind.IMPORTED, IMPORT_ACTOR_LABEL, now, now, state, state, data)


# --- the reference replay: through the services ------------------------------------------------


class ServicesReplayer:
    """Replay each line by calling the services (one savepoint per line)."""

    def __init__(self, *, create_agencies: bool = False, source: str = "", progress=None):
        self.agencies = AgencyResolver(create=create_agencies)
        self.source = source
        self.run_id = importing.new_run_id()
        self.progress = progress or Progress()

    def run(self, lines: Iterable[tuple[int, Any]]) -> ImportSummary:
        summary = ImportSummary()
        with importing.importing(), dates_fixed():
            for number, obj in lines:
                result = self.import_line(number, obj)
                summary.results.append(result)
                self.progress.add([result])
        self.progress.done()
        return summary

    def import_line(self, number: int, obj: Any) -> LineResult:
        external_id = obj.get("external_id", "") if isinstance(obj, dict) else ""
        try:
            if isinstance(obj, LineRejected):
                raise obj
            history = parse_history(obj)
            if Case.objects.filter(external_id=history.external_id).exists():
                return LineResult(
                    number, history.external_id, "skipped", "已导入 / already imported"
                )
            with transaction.atomic():
                case = self._replay(history, number)
            return LineResult(number, history.external_id, "imported", case_id=case.pk)
        except LineRejected as error:
            return LineResult(number, str(external_id), "rejected", error.reason)

    def _replay(self, history: CaseHistory, number: int) -> Case:
        from requests_app.services.intake import case_intake

        agency = self.agencies.resolve(history.agency_ref)
        fields = dict(history.fields, email="")  # no notices to the applicant for history
        first = history.events[0]
        rest = history.events[1:]
        try:
            if history.channel in CONFIRMED_CHANNELS:
                case, _code = case_intake(
                    actor=None, agency=agency, channel=history.channel, fields=fields,
                    effective_at=first.at, imported=True,
                )  # fmt: skip
            else:
                received = next(e for e in rest if e.type == "received")
                case, _code = case_intake(
                    actor=None, agency=agency, channel=history.channel, fields=fields,
                    received_on=local_date(received.at), effective_at=first.at, imported=True,
                )  # fmt: skip
                rest = [e for e in rest if e is not received]
                if any(e.type != "received" and e.at < received.at for e in history.events[1:]):
                    raise LineRejected(
                        "收到申请前不能有办理事件 / events before the 'received' event"
                    )
        except ServiceError as error:
            raise LineRejected(
                f"events[{first.index}] submitted: {error.message} / {error.message_en}"
            ) from None
        # The case is an imported one from the start: the services know it by its external id
        # (a reply of "not held" in an earlier system needs no search record here).
        Case.objects.filter(pk=case.pk).update(external_id=history.external_id)
        case.external_id = history.external_id
        for event in rest:
            for step in plan_step(event, case.state, case.channel):
                service = getattr(case_services, f"case_{step.name}")
                try:
                    case = service(
                        case=case, actor=None, effective_at=step.effective_at, **_args(step)
                    )
                except ServiceError as error:
                    raise _refusal(event, error) from None
        check_linked_dates(history, case.received_on)
        Case.objects.filter(pk=case.pk).update(email=history.email)
        case.email = history.email
        _create_linked(case, history)
        _imported_event(case, source=self.source, line=number, now=timezone.now()).as_model(
            case
        ).save()
        importing.cases_imported_send(cases=[case], source=self.source, run=self.run_id)
        return case


def _args(step: Step) -> dict[str, Any]:
    return {k: v for k, v in step.kwargs.items() if not (k == "period_days" and v is None)}


def _linked_rows(case: Case, history: CaseHistory) -> list:
    rows: list = [
        Review(case=case, filed_on=r["filed_on"], decided_on=r["decided_on"], result=r["result"])
        for r in history.reviews
    ]
    rows += [
        Lawsuit(
            case=case,
            filed_on=r["filed_on"],
            decided_on=r["decided_on"],
            result=r["result"],
            after_review=r["after_review"],
        )  # fmt: skip
        for r in history.lawsuits
    ]
    rows += [
        Complaint(
            case=case, agency_id=case.agency_id, filed_on=r["filed_on"], summary=r["summary"]
        )  # fmt: skip
        for r in history.complaints
    ]
    return rows


def _create_linked(case: Case, history: CaseHistory) -> None:
    for row in _linked_rows(case, history):
        row.save()


# --- the fast replay: the same steps in memory, then bulk inserts ----------------------------

# The kinds of event ``compute_clock`` reads. Its due dates are a function of R and of these
# events only (never of the state or the conclusion date), and R changes only in steps of
# these kinds; so a step of another kind cannot move a due date, and the in-memory replay
# recomputes the clock after these steps only, and once more at the end for the columns that
# do depend on the state (timeliness, the sweep's next action, the explanation). The test
# comparing both import paths proves the rows identical.
CLOCK_KINDS = clock_rules.CLOCK_EVENT_KINDS


class _Event:
    """A history row before insertion (the columns of ``CaseEvent`` the import writes)."""

    __slots__ = ("kind", "actor_label", "recorded_at", "effective_at", "from_state",
                 "to_state", "data", "reason")  # fmt: skip

    def __init__(self, kind, actor_label, recorded_at, effective_at, from_state, to_state,
                 data, reason=""):  # fmt: skip
        self.kind = kind
        self.actor_label = actor_label
        self.recorded_at = recorded_at
        self.effective_at = effective_at
        self.from_state = from_state
        self.to_state = to_state
        self.data = data
        self.reason = reason

    def as_model(self, case: Case) -> CaseEvent:
        return CaseEvent(
            case=case, actor=None, **{name: getattr(self, name) for name in self.__slots__}
        )


class _IndexedCalendar(WorkCalendar):
    """The agency's calendar with its working days listed once over a span of years, so
    that ``add_working_days``, ``count_working_days`` and ``working_days_in`` are index
    look-ups instead of day-by-day walks (the import asks them for thousands of cases). The
    answers are the walks' answers: outside the span, and for a strict calendar (which
    raises on an unknown year), the walks themselves answer."""

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "_years", None)  # (first, last) year of the span
        object.__setattr__(self, "_first", 0)  # the ordinal of the span's first day
        object.__setattr__(self, "_days", [])  # the span's working days, in order
        object.__setattr__(self, "_upto", [])  # per day of the span: working days up to it

    @classmethod
    def of(cls, calendar: WorkCalendar) -> _IndexedCalendar:
        return cls(**{f.name: getattr(calendar, f.name) for f in dataclasses.fields(calendar)})

    def _extend(self, low: dt.date, high: dt.date) -> bool:
        """Make the span cover these dates' years and a year on each side (False: strict)."""
        if self.strict:
            return False
        years = self._years
        first = low.year - 1 if years is None else min(low.year - 1, years[0])
        last = high.year + 1 if years is None else max(high.year + 1, years[1])
        day, end = dt.date(first, 1, 1), dt.date(last, 12, 31)
        days, upto = [], []
        while day <= end:
            if self.is_working_day(day):
                days.append(day)
            upto.append(len(days))
            day += ONE_DAY
        object.__setattr__(self, "_years", (first, last))
        object.__setattr__(self, "_first", dt.date(first, 1, 1).toordinal())
        object.__setattr__(self, "_days", days)
        object.__setattr__(self, "_upto", upto)
        return True

    def _at(self, start: dt.date, end: dt.date) -> tuple[int, int] | None:
        """The two dates' offsets in the span (extended if needed), or None (strict)."""
        first, size = self._first, len(self._upto)
        at_start, at_end = start.toordinal() - first, end.toordinal() - first
        if 0 < at_start < size and 0 < at_end < size:
            return at_start, at_end
        if not self._extend(min(start, end), max(start, end)):
            return None
        first = self._first
        return start.toordinal() - first, end.toordinal() - first

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        if n and (at := self._at(start, start)) is not None:
            # The working days after start begin at _upto[at]; those before it end at
            # _upto[at - 1] (at > 0: the span starts a year before start).
            upto = self._upto
            k = upto[at[0]] + n - 1 if n > 0 else upto[at[0] - 1] + n
            if 0 <= k < len(self._days):
                return self._days[k]
        return super().add_working_days(start, n)

    def count_working_days(self, start: dt.date, end: dt.date) -> int:
        if end > start and (at := self._at(start, end)) is not None:
            return self._upto[at[1]] - self._upto[at[0]]
        return super().count_working_days(start, end)

    def working_days_in(self, start: dt.date, end: dt.date) -> set[dt.date]:
        if end > start and (at := self._at(start, end)) is not None:
            return set(self._days[self._upto[at[0]] : self._upto[at[1]]])
        return super().working_days_in(start, end)


_SYSTEM_ACTOR = case_services.actor_label(None)  # the label of an action with no actor
_PLANS: dict[str, Any] = {}  # step name -> services.cases.plan_<step name>, looked up once


class _MemoryRows(case_services.Rows):
    """The rows a case's actions write beside it (fee notices), kept for the bulk insert."""

    def __init__(self):
        self.rows: list = []

    def add(self, row) -> None:
        self.rows.append(row)

    def open_fee_notice(self, case: Case):
        notices = [
            (row.issued_on, i, row)
            for i, row in enumerate(self.rows)
            if isinstance(row, FeeNotice) and row.paid_on is None and not row.waived
        ]
        return max(notices, key=itemgetter(0, 1))[2] if notices else None

    def changed(self, row, fields: list[str]) -> None:
        """Nothing to do: the row is inserted as it ends up."""


class _Simulation:
    """One case replayed in memory: each step is the service's own plan
    (``services.cases.plan_<step>``: the same checks, messages and history data), applied by
    ``plan_apply`` as ``case_apply`` applies it, with the history rows and fee notices kept
    for a bulk insert and the clock settled lazily (below)."""

    def __init__(self, case: Case, now: dt.datetime, today: dt.date, *, calendar=None,
                 rules=None):  # fmt: skip
        self.case = case
        self.now = now
        self.today = today
        self.events: list[_Event] = []
        self.clock_events: list[tuple[dt.datetime, ClockEvent]] = []
        self.rows = _MemoryRows()
        self.last_kind: str | None = None  # the last step's kind: the reason of a clock change
        self.pending: tuple | None = None  # (kind, event index, state) of an unsettled refresh
        agency = case.agency
        self.calendar = calendar or clock_services.calendar_for_agency(agency)
        self.rules = rules or clock_services.rules_for_agency(agency)

    def submitted(self, at: dt.datetime) -> None:
        event = submitted_event_values(self.case, actor=None, at=at)
        self.events.append(
            _Event(
                event["kind"],
                event["actor_label"],
                self.now,
                at,
                "",
                event["to_state"],
                event["data"],
            )  # fmt: skip
        )

    def step(self, step: Step) -> None:
        """The service's plan of ``step`` for this case, applied."""
        plan = _PLANS.get(step.name) or _PLANS.setdefault(
            step.name, getattr(case_services, f"plan_{step.name}")
        )
        self.apply(plan(case=self.case, actor=None, effective_at=step.effective_at,
                        **_args(step)))  # fmt: skip

    def apply(self, plan) -> None:
        case = self.case
        values = case.__dict__
        clock_step = plan.kind in CLOCK_KINDS
        if clock_step or plan.guard is not None:
            # The previous clock step's due dates, before this step moves R (or a guard reads
            # a due date: an abandonment only after the applicant's period).
            self.settle()
        from_state = case_services.plan_apply(case, plan, self.rows)
        self.events.append(
            _Event(
                plan.kind,
                plan.label or _SYSTEM_ACTOR,
                self.now,
                plan.effective_at,
                from_state,
                values["state"],
                plan.data,
                plan.reason,
            )  # fmt: skip
        )
        self.last_kind = plan.kind
        if clock_step:
            at = plan.effective_at
            on = local_date(at)
            self.clock_events.append((at, ClockEvent(kind=plan.kind, on=on, data=plan.data)))
            # The service refreshes the clock now; its due dates are a function of R and the
            # clock events only, which no step but the next clock step changes, so they are
            # computed then (or at the end, from the whole clock), and their due_changed
            # events go where the service would have written them.
            self.pending = (plan.kind, len(self.events), values["state"])

    def settle(self, clock=None) -> None:
        """The due dates after the pending clock step (from ``clock`` if given: the whole
        clock of the same events, whose due dates are the same), with a ``due_changed`` event
        for each that moved, placed right after that step's events."""
        if self.pending is None:
            return
        reason, at, state = self.pending
        self.pending = None
        if clock is None:
            clock = self.compute(due_dates_only=True)
        values = self.case.__dict__
        changes = []
        for name in DUE_FIELDS:
            previous, new = values[name], getattr(clock, name)
            if previous != new:
                changes.append((name, previous, new))
                values[name] = new
        self.events[at:at] = [self.due_changed(name, previous, new, reason, state)
                              for name, previous, new in changes]  # fmt: skip

    def finish(self) -> None:
        """The whole clock after the last step (the state-dependent columns too)."""
        if self.last_kind is None:  # submitted, nothing else: no service refreshed the clock
            return
        clock = self.compute(due_dates_only=False)
        self.settle(clock)
        state = self.case.__dict__["state"]
        changes = clock_services.clock_apply(self.case, clock, self.today).due_changes
        for name, previous, new in changes:
            self.events.append(self.due_changed(name, previous, new, self.last_kind, state))

    def compute(self, *, due_dates_only: bool):
        self.clock_events.sort(key=lambda pair: pair[0])  # stable: the order they happened
        values = self.case.__dict__
        return compute_clock(
            received_on=values["received_on"], channel=values["channel"], state=values["state"],
            events=[e for _, e in self.clock_events], calendar=self.calendar, rules=self.rules,
            concluded_on=values["concluded_on"], due_dates_only=due_dates_only,
        )  # fmt: skip

    def due_changed(self, name, previous, new, reason, state) -> _Event:
        return _Event(
            EventKind.DUE_CHANGED,
            clock_services.SYSTEM_LABEL,
            self.now,
            self.now,
            state,
            state,
            clock_services.due_change_data(name, previous, new, reason),
            reason,
        )  # fmt: skip


class FastReplayer:
    """Replay in memory and insert in bulk, ``batch_size`` lines per chunk and transaction.

    Per chunk: one query finds the external ids already imported (a run-wide set catches ids
    repeated within the run); each new line is replayed on an unsaved ``Case`` (built from a
    template, not field by field) with its history rows kept as light :class:`_Event` objects.
    On PostgreSQL the case ids are then reserved in one ``nextval`` query and the chunk's
    rows are handed to a writer thread with its own connection, which loads them with binary
    ``COPY`` (cases, events) and ``bulk_create`` (fee notices, reviews, lawsuits, complaints)
    in one transaction with ``synchronous_commit`` off, while this thread replays the next
    chunk (psycopg releases the GIL while it waits on the server). Inside a caller's
    transaction, and on other databases (SQLite: ``bulk_create`` throughout), the chunks are
    written one after the other on the caller's connection. A tracking number drawn twice (or
    an external id imported meanwhile by someone else) rolls the COPY back and the chunk is
    inserted again one case at a time. A chunk whose write fails otherwise stops the run: its
    lines (and those of any chunk prepared after it) are reported as not imported, and
    ``ImportSummary.stopped`` says why and after which line.
    """

    def __init__(
        self,
        *,
        create_agencies: bool = False,
        source: str = "",
        batch_size: int = 1000,
        threaded: bool | None = None,
        progress: Progress | None = None,
    ):
        self.agencies = AgencyResolver(create=create_agencies)
        self.progress = progress or Progress()
        self.source = source
        self.batch_size = batch_size
        # None: a writer thread when the database is PostgreSQL and no transaction is open.
        self.threaded = threaded
        self.clocks: dict[int, tuple] = {}  # agency pk -> (calendar, rules)
        self.template: dict | None = None
        self.seen: dict[str, _Chunk] = {}  # external id -> the chunk that imports it
        self.copy_types: dict[type, list[int]] = {}  # model -> the OIDs of its COPY columns
        self.case_sequence = ""  # the name of the sequence of the case ids (PostgreSQL)
        self.repeats = RepeatChecks()  # the 重复申请 checks of the run's cases
        self.run_id = importing.new_run_id()

    def run(self, lines: Iterable[tuple[int, Any]]) -> ImportSummary:
        summary = ImportSummary()
        chunks: list[_Chunk] = []
        writer = _Writer(self._write) if self._use_writer() else None
        # The replay allocates many small objects that reference counting frees, and makes
        # almost no cycles (a few hundred per 40,000 lines): keep the cyclic collector from
        # scanning what existed before the run (gc.freeze) and the chunks in flight over and
        # over (it cost 10-20% of the CPU at the default thresholds); it still runs.
        thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        # The writer thread mostly waits on the server with the GIL released; each time an
        # answer comes it needs the GIL back to send the next statement, and the replaying
        # thread holds it. At the default interval (5 ms) it waited that long for every
        # statement of every chunk, and the replay then waited on it (14 s of writing for a
        # 15 s run of 40,000 lines, against 9.5 s at 0.5 ms).
        interval = sys.getswitchinterval()
        if writer is not None:
            sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            for batch in _batches(lines, self.batch_size):
                if writer is not None and writer.failed is not None:
                    break
                with dates_fixed():  # the day the chunk started
                    chunk = self._prepare(batch)
                chunks.append(chunk)
                self.progress.add(chunk.results.values())
                if not chunk.simulations:
                    continue
                if writer is not None:
                    writer.submit(chunk)
                    continue
                try:
                    self._write(chunk)
                except Exception as error:  # noqa: BLE001 - reported per line, run stops
                    chunk.error = error
                    break
                finally:
                    chunk.release()
        finally:
            if writer is not None:
                writer.close()
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            sys.setswitchinterval(interval)
            self.progress.done()
        failed = next((c for c in chunks if c.error is not None), None)
        for chunk in chunks:
            summary.results += chunk.outcome()
        if failed is not None:
            summary.stopped = (
                f"导入已中止 / the import stopped: 写入第 {failed.lines[0]}–{failed.lines[-1]} "
                f"行时数据库出错 / the database write of lines {failed.lines[0]}–"
                f"{failed.lines[-1]} failed ({failed.error.__class__.__name__}: {failed.error}); "
                f"行 {chunks[-1].lines[-1]} 之后未读取 / nothing after line "
                f"{chunks[-1].lines[-1]} was read. 重新导入时已导入的行会被跳过 / a re-import "
                "skips the lines already imported."
            )
        return summary

    def _use_writer(self) -> bool:
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            # Inside a transaction the rows must go through it (they would not be visible to
            # another connection, nor be rolled back with it).
            return False
        return True if self.threaded is None else self.threaded

    def _clock_inputs(self, agency: Agency) -> tuple:
        found = self.clocks.get(agency.pk)
        if found is None:
            found = (
                _IndexedCalendar.of(clock_services.calendar_for_agency(agency)),
                clock_services.rules_for_agency(agency),
            )
            self.clocks[agency.pk] = found
        return found

    def _new_case(self, agency: Agency, history: CaseHistory, tracking: str) -> Case:
        """An unsaved Case as ``Case(...)`` would build it, from a template of its defaults."""
        if self.template is None:
            template = dict(Case().__dict__)
            del template["_state"]
            self.template = template
        case = Case.__new__(Case)
        values = case.__dict__
        values.update(self.template)
        values["_state"] = ModelState()
        values["clock"] = {}
        values["agency_id"] = agency.pk
        values["_state"].fields_cache["agency"] = agency
        values["channel"] = history.channel
        values["submitted_at"] = history.submitted_at
        values["external_id"] = history.external_id
        values["tracking_number"] = tracking
        values["access_code_hash"] = ""  # no access code: see services.intake._create_case
        values.update(history.fields)
        return case

    def _prepare(self, batch: list[tuple[int, Any]]) -> _Chunk:
        """Check and replay a chunk of lines; reserve its case ids (PostgreSQL)."""
        chunk = _Chunk([number for number, _ in batch], timezone.now())
        results = chunk.results
        parsed: list[tuple[int, CaseHistory]] = []
        for number, obj in batch:
            try:
                if isinstance(obj, LineRejected):
                    raise obj
                parsed.append((number, parse_history(obj)))
            except LineRejected as error:
                external_id = obj.get("external_id", "") if isinstance(obj, dict) else ""
                results[number] = LineResult(number, str(external_id), "rejected", error.reason)
        existing = set(
            Case.objects.filter(
                external_id__in=[h.external_id for _, h in parsed if h.external_id not in self.seen]
            ).values_list("external_id", flat=True)
        )
        now = chunk.now
        today = clock_today()
        codes = _random_codes(len(parsed))
        simulations = chunk.simulations
        for i, (number, history) in enumerate(parsed):
            external_id = history.external_id
            earlier = self.seen.get(external_id)
            if earlier is not None or external_id in existing:
                results[number] = LineResult(
                    number, external_id, "skipped", "已导入 / already imported"
                )
                if earlier is not None:
                    chunk.repeats[number] = earlier
                continue
            try:
                agency = self.agencies.resolve(history.agency_ref)
                tracking = tracking_number(local_date(history.submitted_at), codes[i])
                case = self._new_case(agency, history, tracking)
                calendar, rules = self._clock_inputs(agency)
                simulation = _Simulation(case, now, today, calendar=calendar, rules=rules)
                self._replay(simulation, history)
                simulations.append((number, history, simulation))
                # Only an imported line makes a later line with its id a repeat (a rejected
                # one does not: the services path would import the later one, too).
                self.seen[external_id] = chunk
            except LineRejected as error:
                results[number] = LineResult(number, external_id, "rejected", error.reason)
        for number, history, simulation in simulations:
            simulation.case.created_at = now
            simulation.case.updated_at = now
            results[number] = LineResult(number, history.external_id, "imported")
        if simulations and connection.vendor == "postgresql":
            self._reserve_ids(chunk)
            chunk.repeat_checks = self.repeats.check(
                [s.case for _, _, s in simulations], batch=chunk
            )
            self._encode(chunk)
        return chunk

    @staticmethod
    def _replay(simulation: _Simulation, history: CaseHistory) -> None:
        case = simulation.case
        first, rest = history.events[0], list(history.events[1:])
        simulation.submitted(first.at)
        if history.channel not in CONFIRMED_CHANNELS:
            # case_intake registers a counter application at once, effective at submission.
            received = next(e for e in rest if e.type == "received")
            register = Step("register", {"received_on": local_date(received.at)}, first.at)
            try:
                simulation.step(register)
            except ServiceError as error:
                raise _refusal(received, error) from None
            rest.remove(received)
            if any(e.type != "received" and e.at < received.at for e in history.events[1:]):
                raise LineRejected("收到申请前不能有办理事件 / events before the 'received' event")
        for event in rest:
            for step in plan_step(event, case.__dict__["state"], case.channel):
                try:
                    simulation.step(step)
                except ServiceError as error:
                    raise _refusal(event, error) from None
        simulation.finish()
        check_linked_dates(history, case.received_on)

    def _reserve_ids(self, chunk: _Chunk) -> None:
        """PostgreSQL: the chunk's case ids in one query (a sequence is not transactional:
        ids of a chunk that fails are simply never used)."""
        cases = [s.case for _, _, s in chunk.simulations]
        with connection.cursor() as cursor:
            if not self.case_sequence:
                # Looked up once: in the query below it would be looked up for every id
                # (2.6 ms for a thousand ids instead of 0.7).
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Case._meta.db_table])
                self.case_sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [self.case_sequence, len(cases)],
            )
            for case, (pk,) in zip(cases, cursor.fetchall(), strict=True):
                case.pk = pk
        if not self.copy_types:
            self.copy_types = {
                model: _column_oids(model, _copy_columns(model)) for model in _COPIED_MODELS
            }

    def _write(self, chunk: _Chunk) -> None:
        """Insert a prepared chunk in one transaction (run by the writer thread, or inline)."""
        own = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql":
                if own:
                    # The chunk's transaction is the unit of durability: a crash can lose only
                    # the last chunks acknowledged, never part of one, and re-importing the
                    # file skips the external ids that made it.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                try:
                    with transaction.atomic():
                        self._copy(chunk)
                    self._imported(chunk)
                    return
                except (IntegrityError, psycopg.IntegrityError):  # COPY raises psycopg's
                    for _, _, simulation in chunk.simulations:
                        simulation.case.pk = None
            self._insert_orm(chunk)
            self._imported(chunk)

    def _imported(self, chunk: _Chunk) -> None:
        """What an import sets off, in the chunk's transaction: the published reports the
        cases count in are flagged stale (``services.importing``)."""
        importing.cases_imported_send(
            cases=[s.case for _, _, s in chunk.simulations], source=self.source, run=self.run_id
        )

    def _events(self, number: int, simulation: _Simulation, now: dt.datetime) -> list[_Event]:
        imported = _imported_event(simulation.case, source=self.source, line=number, now=now)
        return [*simulation.events, imported]

    def _encode(self, chunk: _Chunk) -> None:
        """The chunk's COPY data, encoded here (in the thread that replays) so that the
        writer thread only sends bytes: the cases, their events, and the fee notices,
        reviews, lawsuits and complaints (the values ``bulk_create`` would insert)."""
        case_values = itemgetter(*_CASE_COLUMNS[:-1])
        cases = (
            (*case_values(values), Jsonb(values["clock"], _json_dumps))
            for values in (s.case.__dict__ for _, _, s in chunk.simulations)
        )
        event_values = attrgetter(*_EVENT_COLUMNS[2:-1])
        events = (
            (simulation.case.pk, None, *event_values(event), Jsonb(event.data, _json_dumps))
            for number, _, simulation in chunk.simulations
            for event in self._events(number, simulation, chunk.now)
        )
        types = self.copy_types
        repeats = chunk.repeat_checks  # tuples in the order of _REPEAT_COLUMNS
        data = [
            (Case, _binary_copy_data(cases, types[Case])),
            (CaseEvent, _binary_copy_data(events, types[CaseEvent])),
            (RepeatCheck, _binary_copy_data(repeats, types[RepeatCheck])),
        ]
        for model, objs in _rows_by_model(chunk.rows_beside()).items():
            data.append((model, _binary_copy_data(_insert_values(model, objs), types[model])))
        chunk.copy_data = data

    def _copy(self, chunk: _Chunk) -> None:
        """PostgreSQL: COPY the chunk's rows (binary format), table by table."""
        if chunk.copy_data is None:
            self._encode(chunk)
        with connection.cursor() as cursor:
            for model, pieces in chunk.copy_data:
                with _copy_into(cursor, model, _copy_columns(model), self.copy_types) as copy:
                    for piece in pieces:
                        if isinstance(piece, bytes | bytearray):
                            copy.write(piece)
                        else:
                            copy.write_row(piece)

    def _insert_orm(self, chunk: _Chunk) -> None:
        """Any database: ``bulk_create``; one case at a time after a tracking-number clash."""
        simulations, now = chunk.simulations, chunk.now
        cases = [s.case for _, _, s in simulations]
        try:
            with transaction.atomic():
                Case.objects.bulk_create(cases)
        except IntegrityError:
            for case in cases:
                case.pk = None
            for case in cases:
                while True:
                    try:
                        with transaction.atomic():
                            case.save(force_insert=True)
                        break
                    except IntegrityError:
                        if Case.objects.filter(external_id=case.external_id).exists():
                            raise
                        case.tracking_number = new_tracking_number(local_date(case.submitted_at))
        events = [
            event.as_model(simulation.case)
            for number, _, simulation in simulations
            for event in self._events(number, simulation, now)
        ]
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        # The 重复申请 checks by the ids the cases have now (assigned by this insert).
        chunk.repeat_checks = self.repeats.check(cases, batch=chunk)
        RepeatCheck.objects.bulk_create(RepeatCheck(**row._asdict()) for row in chunk.repeat_checks)
        for model, rows in _rows_by_model(chunk.rows_beside()).items():
            model.objects.bulk_create(rows)


def _rows_by_model(rows: list) -> dict[type, list]:
    """``rows`` grouped by their model, in the order of ``_COPIED_MODELS``."""
    grouped: dict[type, list] = {}
    for row in rows:
        grouped.setdefault(type(row), []).append(row)
    return {model: grouped[model] for model in _COPIED_MODELS if model in grouped}


@dataclass(eq=False)
class _Chunk:
    """A chunk of lines on its way: their results, the replayed cases, the write's fate."""

    lines: list[int]
    now: dt.datetime
    results: dict[int, LineResult] = field(default_factory=dict)
    simulations: list = field(default_factory=list)
    repeats: dict[int, _Chunk] = field(default_factory=dict)  # line -> chunk of the first
    copy_data: list | None = None  # (model, its COPY data: bytes, or rows to format)
    repeat_checks: list = field(default_factory=list)  # the cases' checked RepeatCheck rows
    case_ids: dict[int, int] = field(default_factory=dict)  # line -> case id, once written
    error: BaseException | None = None

    def rows_beside(self) -> list:
        """The rows written beside the cases: what their actions wrote (fee notices) and
        their reviews, lawsuits and complaints."""
        rows = []
        for _, history, simulation in self.simulations:
            case = simulation.case
            for row in simulation.rows.rows:
                row.case = case
                rows.append(row)
            rows += _linked_rows(case, history)
        return rows

    def release(self) -> None:
        """Once written (or not): keep the case ids, drop the cases, rows and bytes."""
        self.case_ids = {number: s.case.pk for number, _, s in self.simulations}
        self.simulations = []
        self.copy_data = None
        self.repeat_checks = []

    def outcome(self) -> list[LineResult]:
        """The lines' results; if this chunk (or the one importing a repeated id) was not
        written, its lines were not imported and say why."""
        out = []
        case_ids = self.case_ids
        for number in self.lines:
            result = self.results[number]
            source = self if result.status == "imported" else self.repeats.get(number)
            if source is not None and source.error is not None:
                result = LineResult(
                    number, result.external_id, "rejected", _not_written(source.error)
                )
            elif result.status == "imported":
                result.case_id = case_ids[number]
            out.append(result)
        return out


class _NotWritten(Exception):
    """The chunk was not written because an earlier chunk's write failed."""


def _not_written(error: BaseException) -> str:
    if isinstance(error, _NotWritten):
        return "未导入：前面的数据写入失败，导入已中止 / not imported: an earlier write failed"
    return (
        f"未导入：数据库写入失败 / not imported: the database write failed "
        f"({error.__class__.__name__}: {error})"
    )


class _Writer:
    """A thread with its own database connection that writes the prepared chunks in order
    while the caller's thread replays the next ones. One chunk waits in the queue at most."""

    def __init__(self, write):
        self.write = write
        self.queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=1)
        self.failed: _Chunk | None = None
        self.thread = threading.Thread(target=self._loop, name="import-writer", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        try:
            while (chunk := self.queue.get()) is not None:
                if self.failed is not None:
                    chunk.error = _NotWritten()
                else:
                    try:
                        self.write(chunk)
                    except Exception as error:  # noqa: BLE001 - reported per line, run stops
                        chunk.error = error
                        self.failed = chunk
                chunk.release()
        finally:
            connection.close()  # this thread's own connection

    def submit(self, chunk: _Chunk) -> None:
        self.queue.put(chunk)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


def _batches(lines: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for item in lines:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


# The COPY columns, in the order the rows are built: every concrete column but the event id
# (the JSON column last). Checked against the models so that a new column is not forgotten.
_CASE_COLUMNS = (*(name for name in _columns(Case) if name != "clock"), "clock")
_EVENT_COLUMNS = ("case_id", "actor_id", *(s for s in _Event.__slots__ if s != "data"), "data")
assert set(_CASE_COLUMNS) == set(_columns(Case)), "importers: Case columns changed"
assert set(_EVENT_COLUMNS) == set(_columns(CaseEvent)) - {"id"}, "importers: event columns"


# A repeat check's key is its case: every column is written.
_REPEAT_COLUMNS = tuple(_columns(RepeatCheck))
assert RepeatResult._fields == _REPEAT_COLUMNS, "importers: RepeatCheck columns changed"
_COPIED_MODELS = (Case, CaseEvent, RepeatCheck, FeeNotice, Review, Lawsuit, Complaint)


def _copy_columns(model) -> tuple[str, ...]:
    """The columns COPY writes: every concrete one but the generated id (cases: with it)."""
    if model is Case:
        return _CASE_COLUMNS
    if model is CaseEvent:
        return _EVENT_COLUMNS
    if model is RepeatCheck:
        return _REPEAT_COLUMNS
    return tuple(f.attname for f in model._meta.concrete_fields if not f.primary_key)


def _insert_values(model, objs) -> Iterator[tuple]:
    """The values ``bulk_create`` would insert for ``objs`` (unsaved, without their ids)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        yield tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)


def _column_oids(model, columns) -> list[int]:
    """The type OIDs of ``columns`` of ``model``'s table (binary COPY needs them)."""
    by_name = {f.attname: f.column for f in model._meta.concrete_fields}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        oids = dict(cursor.fetchall())
    return [int(oids[by_name[name]]) for name in columns]


def _json_dumps(obj: Any) -> bytes:
    """A ``jsonb`` value's JSON text for COPY (orjson: UTF-8 bytes, a tenth of ``json.dumps``'s
    time on the history's dicts; keys that are not strings written as strings, as ``json.dumps``
    writes them). PostgreSQL stores the parsed value: the same as from ``json.dumps``'s text."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def _binary_copy_data(rows: Iterable[tuple], oids: list[int]) -> list:
    """Rows in PostgreSQL's binary COPY format, as psycopg's ``Copy.write_row`` would send
    them (its formatter, with the dumpers of the columns' types on this thread's connection),
    or the rows themselves for ``write_row`` if this psycopg has no such formatter."""
    if _BinaryFormatter is None:
        return list(rows)
    transformer = Transformer(connection.connection)
    transformer.set_dumper_types(oids, PqFormat.BINARY)
    formatter = _BinaryFormatter(transformer)
    pieces = [piece for row in rows if (piece := formatter.write_row(row))]
    pieces.append(formatter.end())
    # One block: each write is a trip through psycopg (and the GIL) in the writer thread.
    return [b"".join(pieces)]


@contextmanager
def _copy_into(cursor, model, columns, types: dict[type, list[int]]):
    """``COPY table (columns) FROM STDIN (FORMAT BINARY)`` (psycopg 3): rows are tuples of
    Python values in ``columns``' order, adapted by psycopg's dumpers for the columns' types
    (JSON by ``_json_dumps``): no text escaping, no parsing of dates and times on the server."""
    quote = connection.ops.quote_name
    by_name = {f.attname: f.column for f in model._meta.concrete_fields}
    table = model._meta.db_table
    names = ", ".join(quote(by_name[c]) for c in columns)
    with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types[model])
        yield copy


# The random part of imported cases' tracking numbers, drawn in bulk: one random byte per
# character, which is unbiased because the alphabet has 32 letters.
def _alphabet_table() -> bytes:
    assert 256 % len(CODE_ALPHABET) == 0, "the alphabet must divide 256 to stay unbiased"
    return bytes(ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) for b in range(256))


_ALPHABET_TABLE = _alphabet_table()


def _random_codes(count: int) -> list[str]:
    """``count`` tracking codes of ``TRACKING_CODE_LENGTH`` letters, from one draw of bytes."""
    size = TRACKING_CODE_LENGTH
    text = secrets.token_bytes(count * size).translate(_ALPHABET_TABLE).decode("ascii")
    return [text[i : i + size] for i in range(0, len(text), size)]


def import_histories(
    lines: Iterable[tuple[int, Any]],
    *,
    create_agencies: bool = False,
    source: str = "",
    via_services: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import (line number, JSON object) pairs; see the module docstring. ``progress`` is told
    of the lines' results as the import goes."""
    replayer = ServicesReplayer if via_services else FastReplayer
    return replayer(create_agencies=create_agencies, source=source, progress=progress).run(lines)


# --- 台账 (ledger) import: one row per application -------------------------------------------

LEDGER_COLUMNS = (
    ("external_id", "编号", "AS-2018-0001"),
    ("agency", "受理机关代码或路径", "anshun/anshun-gov-office"),
    ("applicant_type", "申请人类型", "自然人"),
    ("applicant_name", "申请人姓名/名称", "张三"),
    ("channel", "申请方式", "网络"),
    ("description", "申请内容", "申请公开……"),
    ("submitted_on", "提交日期", "2018-03-01"),
    ("received_on", "收到申请日期", "2018-03-01"),
    ("supplement_requested_on", "补正告知日期", ""),
    ("supplement_received_on", "补正收到日期", ""),
    ("extended_on", "延期日期", ""),
    ("fee_yuan", "信息处理费（元）", ""),
    ("fee_notice_on", "收费通知日期", ""),
    ("fee_paid_on", "缴费日期", ""),
    ("replied_on", "答复日期", "2018-03-20"),
    ("outcome", "答复结果", "予以公开"),
    ("review_filed_on", "行政复议申请日期", ""),
    ("review_decided_on", "行政复议决定日期", ""),
    ("review_outcome", "行政复议结果", ""),
    ("lawsuit_filed_on", "行政诉讼立案日期", ""),
    ("lawsuit_after_review", "是否经复议后起诉", ""),
    ("lawsuit_decided_on", "行政诉讼裁判日期", ""),
    ("lawsuit_outcome", "行政诉讼结果", ""),
)
_LABELS = {
    **{str(label): code for code, label in ApplicantType.choices},
    **{str(label): code for code, label in Channel.choices},
    **{str(label): code for code, label in Outcome.choices},
    **{str(label): code for code, label in Result.choices},
    "维持": "upheld",
    "纠正": "corrected",
    "其他": "other",
    "未审结": "pending",
}
_NOON = dt.time(12, 0)


def ledger_template(output: str = "csv") -> bytes:
    """The downloadable ledger template: the header (Chinese) and one example row."""
    header = [f"{label}|{key}" for key, label, _ in LEDGER_COLUMNS]
    example = [sample for _, _, sample in LEDGER_COLUMNS]
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerow(example)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(header)
    ws.append(example)
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "可填写的值"])
    notes.append(["申请人类型", "、".join(str(label) for _, label in ApplicantType.choices)])
    notes.append(["申请方式", "、".join(str(label) for _, label in Channel.choices)])
    notes.append(["答复结果", "、".join(str(label) for _, label in Outcome.choices)])
    notes.append(["复议/诉讼结果", "维持、纠正、其他、未审结"])
    notes.append(["日期", "YYYY-MM-DD；未发生的留空"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _ledger_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_ledger(data: bytes, filename: str) -> Iterator[tuple[int, Any]]:
    """(row number, JSON history or LineRejected) for each ledger row (CSV or XLSX)."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = (
            [_ledger_value(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)
        )
    else:
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        if header is None:
            header = [_column_key(h) for h in row]
            missing = {"external_id", "agency", "applicant_type", "channel"} - set(header)
            if missing:
                yield number, LineRejected(f"表头缺少列 / missing columns: {sorted(missing)}")
                return
            continue
        if not any(_ledger_value(v) for v in row):
            continue
        record = {k: _ledger_value(v) for k, v in zip(header, row, strict=False) if k}
        try:
            yield number, ledger_row_to_history(record)
        except LineRejected as error:
            yield number, error


def _column_key(header: Any) -> str:
    text = _ledger_value(header)
    if "|" in text:
        return text.rsplit("|", 1)[1].strip()
    by_label = {label: key for key, label, _ in LEDGER_COLUMNS}
    return by_label.get(text, text)


def _code(value: str) -> str:
    """A ledger's Chinese label (自然人, 网络, 予以公开 …) as its code; codes pass through."""
    return _LABELS.get(value, value) if value else value


def ledger_row_to_history(row: dict[str, str]) -> dict[str, Any]:
    """One ledger row as the JSONL history object (events at noon, local time)."""

    def at(key: str) -> str | None:
        day = _day(row.get(key), key, required=False)
        return dt.datetime.combine(day, _NOON, tzinfo=_zone()).isoformat() if day else None

    events: list[dict[str, Any]] = []
    submitted = at("submitted_on") or at("received_on")
    if submitted:
        events.append({"type": "submitted", "at": submitted})
    if at("received_on"):
        events.append({"type": "received", "at": at("received_on")})
    if at("supplement_requested_on"):
        events.append({"type": "supplement_requested", "at": at("supplement_requested_on")})
    if at("supplement_received_on"):
        events.append({"type": "supplement_received", "at": at("supplement_received_on")})
    if at("fee_notice_on"):
        events.append(
            {"type": "fee_notice", "at": at("fee_notice_on"), "amount_yuan": row.get("fee_yuan")}
        )
    if at("fee_paid_on"):
        events.append({"type": "fee_paid", "at": at("fee_paid_on")})
    if at("extended_on"):
        events.append({"type": "extended", "at": at("extended_on"), "days": 20})
    if at("replied_on"):
        outcome = _code(row.get("outcome", ""))
        events.append({"type": "replied", "at": at("replied_on"), "outcome": outcome})
    events.sort(key=lambda e: e["at"])  # stable: same-day steps keep the ledger's order
    history: dict[str, Any] = {
        "external_id": row.get("external_id", ""),
        "agency": row.get("agency", ""),
        "applicant": {
            "type": _code(row.get("applicant_type", "")),
            "name": row.get("applicant_name") or "（台账未载明）",
        },
        "channel": _code(row.get("channel", "")),
        "description": row.get("description", ""),
        "events": events,
    }
    if row.get("review_filed_on"):
        history["reviews"] = [
            {
                "filed_on": row["review_filed_on"],
                "decided_on": row.get("review_decided_on") or None,
                "outcome": _code(row.get("review_outcome") or "pending"),
            }
        ]
    if row.get("lawsuit_filed_on"):
        history["lawsuits"] = [
            {
                "filed_on": row["lawsuit_filed_on"],
                "after_review": row.get("lawsuit_after_review", "") in ("是", "true", "1", "True"),
                "decided_on": row.get("lawsuit_decided_on") or None,
                "outcome": _code(row.get("lawsuit_outcome") or "pending"),
            }
        ]
    return history
