"""The statutory clock of a case, derived from its history (docs/clock.md). Pure: no ORM.

``compute_clock`` takes the receipt date R, the case's state and conclusion date, its events as
plain data (:class:`ClockEvent`), a :class:`~requests_app.deadlines.WorkCalendar` and the
:class:`ClockRules` (settings), and returns a :class:`CaseClock`: every due date, the on-time
facts of a concluded case, the dated actions the sweep must take and an explanation a
caseworker can defend. ``requests_app.services.clock`` stores the result on the case.

It is four steps, each a function below, composed by ``compute_clock`` and nothing else:

1. the replay (:func:`replay_history`): the events in order -> :class:`CaseFacts`, what the
   history established (the anchor R, R′ or the reopening; the 补正; the consultations; the
   fee notices; the extension; the Art 35 date);
2. the dates (:func:`due_dates`, with :func:`reply_deadline` and :func:`excluded_time`, then
   :func:`provisional_marks`): the facts -> every deadline on the working-day calendar;
3. the actions (:func:`timeliness_of`, :func:`sweep_actions`): with the case's state, the
   on-time facts of a concluded case and the dated actions of the sweep;
4. the explanation (:func:`explanation_of`): all of it as the JSON the case page shows as
   期限计算说明.

A :class:`DayCount` carries the calendar and the counting rule through the steps and collects
the years they touched that the calendar does not know.

The rules, by article of 《政府信息公开条例》 (2019):

- Art 33 ¶2: reply within 20 working days of R (the day R itself not counted unless
  ``COUNT_RECEIPT_DAY``), extendable once by up to 20 working days.
- Art 30: the 补正 notice within 7 working days of R; the applicant's period (a setting, or the
  period the notice gave); after 补正 the 20 days start again from R′.
- Arts 32, 34 and 33 ¶3: the working days spent waiting on a third party or another agency
  (each has 15 working days) do not count: the days d with ``sent < d <= min(answer, their
  deadline)`` are added to the reply deadline. While they have not answered, their whole
  period is assumed (the deadline moves earlier when they answer).
- Art 42 and 国办函〔2020〕109号: the applicant pays within 20 working days of the fee notice;
  while it is outstanding the reply clock is paused (setting ``PAUSE_CLOCK_FOR_FEE``), counted
  like an exclusion.
- Art 35: a later reply date fixed by the agency replaces the computed one.
- Cases received before 2019-05-15 follow the 2008 regulation (国务院令第492号, Art 24): 15
  working days plus at most 15, no restart after 补正, only third-party time excluded (Art 23).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from requests_app.choices import (
    CONCLUDED_STATES,
    OPEN_STATES,
    REPLY_RUNNING_STATES,
    ConsulteeKind,
    EventKind,
    Timeliness,
)
from requests_app.choices import CaseState as S
from requests_app.deadlines import ONE_DAY, WorkCalendar

# EventKind's values as plain attributes: the replay compares every event against several
# kinds, and an Enum class attribute is a slow lookup (about 3x a plain attribute).
KIND = SimpleNamespace(**{member.name: member.value for member in EventKind})

# The kinds of event the clock reads: the due dates depend on R and on these events only.
CLOCK_EVENT_KINDS = frozenset(
    {
        EventKind.CONFIRM_RECEIPT,
        EventKind.REGISTER,
        EventKind.REPLY_ON_SPOT,
        EventKind.REQUEST_SUPPLEMENT,
        EventKind.RECEIVE_SUPPLEMENT,
        EventKind.START_CONSULTATION,
        EventKind.CLOSE_CONSULTATION,
        EventKind.EXTEND,
        EventKind.SET_LATER_REPLY_DATE,
        EventKind.ISSUE_FEE_NOTICE,
        EventKind.RECORD_FEE_PAYMENT,
        EventKind.REOPEN,
    }
)

# The due-date columns of the case, in a stable order.
DUE_FIELDS = (
    "reply_due_on",
    "supplement_notice_due_on",
    "supplement_due_on",
    "fee_due_on",
    "consultation_due_on",
)

# Action kinds the sweep performs.
REMIND = "remind"  # warn the handler k working days before a deadline
ESCALATE = "escalate"  # the reply deadline passed: warn the approvers
CLOSE_NO_SUPPLEMENT = "close_no_supplement"  # Art 30: the 补正 period ran out
CLOSE_NO_FEE = "close_no_fee"  # Art 42: the fee period ran out
CONSULTATION_ENDED = "consultation_ended"  # Arts 32, 34: the consultee's period ran out


@dataclass(frozen=True)
class RuleSet:
    """The statutory numbers of one regulation, in force for cases received from a date."""

    code: str
    name: str
    effective_from: dt.date
    reply_days: int
    max_extension_days: int
    supplement_notice_days: int | None  # None: no deadline for the 补正 notice
    supplement_restarts_clock: bool
    excluded_consultee_kinds: frozenset[str]
    consultation_days: int
    fee_days: int
    articles: Mapping[str, str]


RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        code="2008",
        name="《政府信息公开条例》（2008，国务院令第492号）",
        effective_from=dt.date(2008, 5, 1),
        reply_days=15,
        max_extension_days=15,
        supplement_notice_days=None,
        supplement_restarts_clock=False,
        excluded_consultee_kinds=frozenset({ConsulteeKind.THIRD_PARTY.value}),
        consultation_days=15,
        fee_days=20,
        articles={
            "reply": "2008年《条例》第二十四条第二款",
            "extension": "2008年《条例》第二十四条第二款",
            "consultation": "2008年《条例》第二十三条、第二十四条第三款",
            "fee": "2008年《条例》第二十七条",
        },
    ),
    RuleSet(
        code="2019",
        name="《政府信息公开条例》（2019，国务院令第711号）",
        effective_from=dt.date(2019, 5, 15),
        reply_days=20,
        max_extension_days=20,
        supplement_notice_days=7,
        supplement_restarts_clock=True,
        excluded_consultee_kinds=frozenset(
            {ConsulteeKind.THIRD_PARTY.value, ConsulteeKind.AGENCY.value}
        ),
        consultation_days=15,
        fee_days=20,
        articles={
            "reply": "《条例》第三十三条第二款",
            "extension": "《条例》第三十三条第二款",
            "supplement_notice": "《条例》第三十条",
            "supplement": "《条例》第三十条",
            "consultation": "《条例》第三十二条、第三十四条、第三十三条第三款",
            "fee": "《条例》第四十二条；国办函〔2020〕109号",
            "later_reply_date": "《条例》第三十五条",
        },
    ),
)


def rule_set_for(received_on: dt.date) -> RuleSet:
    """The regulation in force on the receipt date (the 2008 text for anything earlier)."""
    chosen = RULE_SETS[0]
    for rule_set in RULE_SETS:
        if received_on >= rule_set.effective_from:
            chosen = rule_set
    return chosen


@dataclass(frozen=True)
class ClockRules:
    """The settings the clock reads (``settings.DISCLOSURE``), with the agency's override."""

    count_receipt_day: bool = False
    pause_for_fee: bool = True
    supplement_period_days: int = 15
    reminder_days_before: tuple[int, ...] = (5, 1)

    @classmethod
    def from_settings(
        cls, disclosure: Mapping[str, Any], *, agency_supplement_period_days: int | None = None
    ) -> ClockRules:
        return cls(
            count_receipt_day=bool(disclosure.get("COUNT_RECEIPT_DAY", False)),
            pause_for_fee=bool(disclosure.get("PAUSE_CLOCK_FOR_FEE", True)),
            supplement_period_days=int(
                agency_supplement_period_days or disclosure.get("SUPPLEMENT_PERIOD_DAYS", 15)
            ),
            reminder_days_before=tuple(
                sorted(
                    {int(d) for d in disclosure.get("REMINDER_DAYS_BEFORE", (5, 1))}, reverse=True
                )
            ),
        )


@dataclass(frozen=True)
class ClockEvent:
    """One history event as plain data: its kind, its effective date, its payload."""

    kind: str
    on: dt.date
    data: Mapping[str, Any] = field(default_factory=dict)

    def date(self, key: str) -> dt.date:
        """The ISO date ``data[key]``, or the event's effective date when absent."""
        value = self.data.get(key)
        if value in (None, ""):
            return self.on
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Action:
    """Something the sweep must do on or after ``on``, about the deadline ``deadline``/``due``."""

    kind: str
    deadline: str
    due: dt.date
    on: dt.date
    days_before: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "deadline": self.deadline,
            "due": self.due.isoformat(),
            "on": self.on.isoformat(),
            "days_before": self.days_before,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            kind=data["kind"],
            deadline=data["deadline"],
            due=dt.date.fromisoformat(data["due"]),
            on=dt.date.fromisoformat(data["on"]),
            days_before=data.get("days_before"),
        )


@dataclass(frozen=True)
class CaseClock:
    restarted_on: dt.date | None = None
    reply_due_on: dt.date | None = None
    supplement_notice_due_on: dt.date | None = None
    supplement_due_on: dt.date | None = None
    fee_due_on: dt.date | None = None
    consultation_due_on: dt.date | None = None
    timeliness: str = ""
    working_days_late: int = 0
    actions: tuple[Action, ...] = ()
    missing_years: tuple[int, ...] = ()
    explanation: Mapping[str, Any] = field(default_factory=dict)
    # Due-date column -> the provisional years its computation crossed (statutory holidays
    # only, 调休 not yet published); a date not listed is final.
    provisional: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def is_calendar_complete(self) -> bool:
        return not self.missing_years

    @property
    def provisional_years(self) -> tuple[int, ...]:
        return tuple(sorted({y for years in self.provisional.values() for y in years}))

    def due_dates(self) -> dict[str, dt.date | None]:
        return {name: getattr(self, name) for name in DUE_FIELDS}

    def next_action_on(self, today: dt.date | None = None) -> dt.date | None:
        """The date the sweep should next look at the case.

        Without ``today``: the earliest action. With it: ``today`` when an action is already
        due (the sweep then acts, or finds it done by its de-duplication key), else the
        earliest future action.
        """
        if not self.actions:
            return None
        earliest = min(a.on for a in self.actions)
        if today is not None and earliest <= today:
            return today
        return earliest


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# --- the working-day arithmetic of one computation ------------------------------------------
class DayCount:
    """The calendar and the counting rule of one computation, and the years it touched that
    the calendar does not know (every date added here is checked, so that none is a guess)."""

    __slots__ = ("calendar", "count_receipt_day", "missing")

    def __init__(self, calendar: WorkCalendar, *, count_receipt_day: bool):
        self.calendar = calendar
        self.count_receipt_day = count_receipt_day
        self.missing: set[int] = set()

    def add(self, start: dt.date, n: int) -> dt.date:
        """``start`` plus n working days, the years of the span noted if unknown."""
        result = self.calendar.add_working_days(start, n)
        self.missing.update(self.calendar.missing_years(start, result))
        return result

    def note_span(self, start: dt.date, end: dt.date) -> None:
        """A date the clock uses without computing it: its span's unknown years still count."""
        self.missing.update(self.calendar.missing_years(start, end))

    def counting_start(self, day: dt.date) -> dt.date:
        # 期间开始之日不计算在内, unless the setting counts the day itself.
        return day - ONE_DAY if self.count_receipt_day else day


# --- 1. the replay: the history -> the facts of the case ------------------------------------
@dataclass(slots=True)
class Consultation:
    """A consultation of a third party or another agency (Arts 32, 34) and its 15 days."""

    kind: str  # the consultee's kind: third_party or agency
    consultee: str
    sent: dt.date
    due: dt.date
    closed: dt.date | None = None

    @property
    def end(self) -> dt.date:
        """The last day of its time: the answer, or the deadline if unanswered or later."""
        return min(self.closed, self.due) if self.closed else self.due


@dataclass(slots=True)
class FeeNotice:
    """A fee notice (Art 42) and its 20 days to pay."""

    served: dt.date
    due: dt.date
    paid: dt.date | None = None
    waived: bool = False

    @property
    def end(self) -> dt.date:
        """The last day of the pause: the payment, or the deadline while unpaid."""
        return self.paid or self.due


@dataclass(frozen=True, slots=True)
class Extension:
    """The one extension of the reply period (Art 33 ¶2), capped at the statutory maximum."""

    requested_days: int
    days: int
    approver: str
    on: dt.date


@dataclass(slots=True)
class CaseFacts:
    """What the history established, from which every date follows."""

    received_on: dt.date  # R
    rule_set: RuleSet
    anchor: dt.date  # the day the current reply period runs from: R, R′ or the reopening
    anchor_kind: str  # received, supplement_received or reopened
    restarted_on: dt.date | None = None  # R′
    supplement_requested_on: dt.date | None = None
    supplement_period: int | None = None
    supplement_open: bool = False  # the 补正 notice is out and nothing has come back
    consultations: list[Consultation] = field(default_factory=list)
    fees: list[FeeNotice] = field(default_factory=list)
    extension: Extension | None = None
    later_reply_by: dt.date | None = None  # Art 35


def receipt_date(events: Iterable[ClockEvent]) -> dt.date | None:
    """R as the history records it (the last receipt or registration, or an on-the-spot
    reply), for a case whose receipt date is not stored."""
    received_on = None
    for event in events:
        if event.kind in (KIND.CONFIRM_RECEIPT, KIND.REGISTER):
            received_on = event.date("received_on")
        elif event.kind == KIND.REPLY_ON_SPOT:
            received_on = event.date("on")
    return received_on


def replay_history(
    received_on: dt.date, events: Iterable[ClockEvent], rules: ClockRules, days: DayCount
) -> CaseFacts:
    """Play the events in order and return the facts they leave: the anchor of the reply
    period, the 补正, the consultations, the fee notices, the extension, the Art 35 date."""
    rs = rule_set_for(received_on)
    facts = CaseFacts(
        received_on=received_on, rule_set=rs, anchor=received_on, anchor_kind="received"
    )
    for event in events:
        kind = event.kind
        if kind == KIND.REQUEST_SUPPLEMENT:
            facts.supplement_requested_on = event.date("served_on")
            facts.supplement_period = int(
                event.data.get("period_days") or rules.supplement_period_days
            )
            facts.supplement_open = True
        elif kind == KIND.RECEIVE_SUPPLEMENT:
            facts.restarted_on = event.date("received_on")
            facts.supplement_open = False
            if rs.supplement_restarts_clock:
                # 条例 Art 30: the clock restarts from R′; what was excluded before is spent.
                facts.anchor, facts.anchor_kind = facts.restarted_on, "supplement_received"
                facts.consultations = [c for c in facts.consultations if c.closed is None]
                facts.fees = [f for f in facts.fees if f.paid is None]
        elif kind == KIND.START_CONSULTATION:
            sent = event.date("sent_on")
            facts.consultations.append(
                Consultation(
                    kind=event.data.get("consultee_kind") or ConsulteeKind.THIRD_PARTY.value,
                    consultee=event.data.get("consultee", ""),
                    sent=sent,
                    due=days.add(sent, rs.consultation_days),
                )
            )
        elif kind == KIND.CLOSE_CONSULTATION:
            for consultation in reversed(facts.consultations):
                if consultation.closed is None:
                    consultation.closed = event.date("closed_on")
                    break
        elif kind == KIND.EXTEND and facts.extension is None:
            requested = int(event.data.get("days") or rs.max_extension_days)
            facts.extension = Extension(
                requested_days=requested,
                days=max(0, min(requested, rs.max_extension_days)),
                approver=event.data.get("approver", ""),
                on=event.on,
            )
        elif kind == KIND.SET_LATER_REPLY_DATE:
            facts.later_reply_by = event.date("reply_by")
        elif kind == KIND.ISSUE_FEE_NOTICE:
            served = event.date("served_on")
            facts.fees.append(FeeNotice(served=served, due=days.add(served, rs.fee_days)))
        elif kind == KIND.RECORD_FEE_PAYMENT:
            for fee in reversed(facts.fees):
                if fee.paid is None:
                    fee.paid = event.date("paid_on")
                    fee.waived = bool(event.data.get("waived"))
                    break
        elif kind == KIND.REOPEN:
            # A review or court sent the case back: a new reply period from the reopening.
            facts.anchor, facts.anchor_kind = event.date("reopened_on"), "reopened"
            facts.consultations, facts.fees = [], []
            facts.extension, facts.later_reply_by = None, None
            facts.supplement_open = False
    return facts


# --- 2. the dates: the facts -> the deadlines on the working-day calendar -------------------
@dataclass(frozen=True, slots=True)
class ReplyDeadline:
    """The reply deadline (Art 33) and how it was counted."""

    excluded: tuple[dict[str, Any], ...]  # each interval that was or could be excluded
    excluded_working_days: int  # the working days excluded (a day counted once)
    extension_days: int
    working_days_total: int  # statutory + excluded + extension
    is_stopped: bool  # the 补正 period is running: no reply deadline until R′
    computed_on: dt.date | None  # the counted date
    due_on: dt.date | None  # the deadline: the counted date, or the Art 35 date


@dataclass(frozen=True, slots=True)
class DueDates:
    """Every due date of the case (the ``DUE_FIELDS`` columns)."""

    reply: ReplyDeadline
    supplement_notice_due_on: dt.date | None
    supplement_due_on: dt.date | None
    fee_due_on: dt.date | None
    consultation_due_on: dt.date | None


def excluded_time(
    facts: CaseFacts, rules: ClockRules, calendar: WorkCalendar
) -> tuple[list[dict[str, Any]], set[dt.date]]:
    """The intervals the reply clock does not count (Art 33 ¶3: consultations of the kinds
    the regulation excludes; Art 42: outstanding fees, by setting), as explained entries, and
    the union of their working days after the anchor."""
    rs, anchor = facts.rule_set, facts.anchor
    excluded_days: set[dt.date] = set()
    excluded: list[dict[str, Any]] = []
    for c in facts.consultations:
        end = c.end
        counted = c.kind in rs.excluded_consultee_kinds
        spent = {d for d in calendar.working_days_in(c.sent, end) if d > anchor}
        if counted:
            excluded_days |= spent
        excluded.append(
            {
                "kind": "consultation",
                "consultee_kind": c.kind,
                "consultee": c.consultee,
                "from": c.sent.isoformat(),
                "to": end.isoformat(),
                "working_days": len(spent) if counted else 0,
                "provisional": c.closed is None,
                "article": rs.articles["consultation"],
            }
        )
    if rules.pause_for_fee:
        for f in facts.fees:
            end = f.end
            spent = {d for d in calendar.working_days_in(f.served, end) if d > anchor}
            excluded_days |= spent
            excluded.append(
                {
                    "kind": "fee",
                    "from": f.served.isoformat(),
                    "to": end.isoformat(),
                    "working_days": len(spent),
                    "provisional": f.paid is None,
                    "article": rs.articles["fee"],
                }
            )
    return excluded, excluded_days


def reply_deadline(facts: CaseFacts, rules: ClockRules, days: DayCount) -> ReplyDeadline:
    """Art 33 ¶2: the statutory days from the anchor, plus the excluded working days, plus
    the extension; none while the 补正 period runs (Art 30); the Art 35 date replaces it."""
    rs = facts.rule_set
    excluded, excluded_days = excluded_time(facts, rules, days.calendar)
    extension_days = facts.extension.days if facts.extension else 0
    working_days_total = rs.reply_days + len(excluded_days) + extension_days
    is_stopped = facts.supplement_open and rs.supplement_restarts_clock
    computed_on: dt.date | None = None
    due_on: dt.date | None = None
    if not is_stopped:
        computed_on = days.add(days.counting_start(facts.anchor), working_days_total)
        due_on = computed_on
        if facts.later_reply_by is not None:
            # 条例 Art 35: the date the agency fixed and told the applicant.
            due_on = facts.later_reply_by
            days.note_span(facts.anchor, facts.later_reply_by)
    return ReplyDeadline(
        excluded=tuple(excluded),
        excluded_working_days=len(excluded_days),
        extension_days=extension_days,
        working_days_total=working_days_total,
        is_stopped=is_stopped,
        computed_on=computed_on,
        due_on=due_on,
    )


def due_dates(facts: CaseFacts, rules: ClockRules, days: DayCount) -> DueDates:
    """The reply deadline and the others: the 补正 notice (Art 30, 7 days from R), the
    applicant's 补正 period, the last fee notice's and the last consultation's deadlines."""
    rs = facts.rule_set
    # The reply deadline first: a strict calendar then reports the same unknown year as ever.
    reply = reply_deadline(facts, rules, days)
    supplement_notice_due = None
    if rs.supplement_notice_days is not None:
        supplement_notice_due = days.add(
            days.counting_start(facts.received_on), rs.supplement_notice_days
        )
    supplement_due = None
    if facts.supplement_requested_on:
        supplement_due = days.add(facts.supplement_requested_on, facts.supplement_period)
    return DueDates(
        reply=reply,
        supplement_notice_due_on=supplement_notice_due,
        supplement_due_on=supplement_due,
        fee_due_on=facts.fees[-1].due if facts.fees else None,
        consultation_due_on=facts.consultations[-1].due if facts.consultations else None,
    )


def provisional_marks(
    facts: CaseFacts, dates: DueDates, days: DayCount
) -> dict[str, tuple[int, ...]]:
    """Which due dates rest on a provisional year (statutory holidays only, no 调休 yet): the
    due-date column -> the provisional years its computation crossed."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    reply = dates.reply
    if reply.computed_on is not None and facts.later_reply_by is None:
        # A date the agency fixed (Art 35) is not computed; a computed one depends on every
        # working day from the anchor to it, excluded intervals included.
        ends = [
            reply.computed_on,
            *(c.end for c in facts.consultations),
            *(f.end for f in facts.fees),
        ]
        spans["reply_due_on"] = (days.counting_start(facts.anchor), max(ends))
    if dates.supplement_notice_due_on is not None:
        spans["supplement_notice_due_on"] = (facts.received_on, dates.supplement_notice_due_on)
    if dates.supplement_due_on is not None and facts.supplement_requested_on is not None:
        spans["supplement_due_on"] = (facts.supplement_requested_on, dates.supplement_due_on)
    if facts.fees:
        spans["fee_due_on"] = (facts.fees[-1].served, dates.fee_due_on)
    if facts.consultations:
        spans["consultation_due_on"] = (facts.consultations[-1].sent, dates.consultation_due_on)
    calendar = days.calendar
    return {
        name: tuple(years)
        for name, (start, end) in spans.items()
        if (years := calendar.provisional_in(start, end))
    }


# --- 3. the actions: the state and the dates -> on-time facts and what the sweep does -------
def timeliness_of(
    state: str, concluded_on: dt.date | None, dates: DueDates, days: DayCount
) -> tuple[str, int]:
    """The on-time facts of a concluded case: on_time, extended or late, and the working days
    late (d with ``due < d <= concluded_on``); ("", 0) for a case not concluded."""
    if state not in CONCLUDED_STATES or concluded_on is None:
        return "", 0
    reply_due = dates.reply.due_on
    if reply_due is None or concluded_on <= reply_due:
        on_time = Timeliness.EXTENDED if dates.reply.extension_days else Timeliness.ON_TIME
        return on_time.value, 0
    days.note_span(reply_due, concluded_on)
    return Timeliness.LATE.value, days.calendar.count_working_days(reply_due, concluded_on)


def sweep_actions(
    state: str, facts: CaseFacts, dates: DueDates, rules: ClockRules, days: DayCount
) -> tuple[Action, ...]:
    """The dated actions the sweep takes for a case in this state: reminders before the reply
    and 补正-notice deadlines, the escalation after the reply deadline, the closures after the
    applicant's 补正 and fee periods, the note when a consultee's period ran out."""
    actions: list[Action] = []
    if state not in OPEN_STATES or state == S.SUBMITTED:
        return ()

    def reminders(deadline: str, due: dt.date) -> None:
        for k in rules.reminder_days_before:
            actions.append(Action(REMIND, deadline, due, days.add(due, -k), k))

    reply_due = dates.reply.due_on
    reply_running = state in REPLY_RUNNING_STATES or state == S.CONSULTING
    if state == S.AWAITING_FEE and not rules.pause_for_fee:
        reply_running = True
    if reply_running and reply_due is not None:
        reminders("reply_due_on", reply_due)
        actions.append(Action(ESCALATE, "reply_due_on", reply_due, reply_due + ONE_DAY))
    if (
        state in (S.REGISTERED, S.PROCESSING)
        and facts.supplement_requested_on is None
        and dates.supplement_notice_due_on is not None
    ):
        reminders("supplement_notice_due_on", dates.supplement_notice_due_on)
    supplement_due = dates.supplement_due_on
    if state == S.AWAITING_SUPPLEMENT and supplement_due is not None:
        actions.append(
            Action(
                CLOSE_NO_SUPPLEMENT, "supplement_due_on", supplement_due, supplement_due + ONE_DAY
            )
        )
    fee_due = dates.fee_due_on
    if state == S.AWAITING_FEE and fee_due is not None:
        actions.append(Action(CLOSE_NO_FEE, "fee_due_on", fee_due, fee_due + ONE_DAY))
    open_consultations = [c for c in facts.consultations if c.closed is None]
    if state == S.CONSULTING and open_consultations:
        due = open_consultations[-1].due
        actions.append(Action(CONSULTATION_ENDED, "consultation_due_on", due, due + ONE_DAY))
    actions.sort(key=lambda a: (a.on, a.kind, a.deadline))
    return tuple(actions)


# --- 4. the explanation: everything above, as the case page's 期限计算说明 reads it ----------
def explanation_of(
    *,
    facts: CaseFacts,
    dates: DueDates,
    rules: ClockRules,
    days: DayCount,
    channel: str,
    concluded_on: dt.date | None,
    timeliness: str,
    working_days_late: int,
    actions: Sequence[Action],
    provisional: Mapping[str, tuple[int, ...]],
) -> dict[str, Any]:
    """The explanation stored in ``Case.clock`` (JSON): the rule set, R and R′, the anchor,
    each excluded interval, the extension, the totals, every deadline with its article, the
    on-time facts, the actions, the missing and the provisional years."""
    rs, reply, extension = facts.rule_set, dates.reply, facts.extension
    fees, consultations = facts.fees, facts.consultations
    return {
        "rule_set": {
            "code": rs.code,
            "name": rs.name,
            "reply_days": rs.reply_days,
            "max_extension_days": rs.max_extension_days,
        },
        "channel": channel,
        "received_on": facts.received_on.isoformat(),
        "restarted_on": _iso(facts.restarted_on),
        "count_receipt_day": rules.count_receipt_day,
        "reply": {
            "anchor": facts.anchor.isoformat(),
            "anchor_kind": facts.anchor_kind,
            "statutory_days": rs.reply_days,
            "excluded": list(reply.excluded),
            "excluded_working_days": reply.excluded_working_days,
            "extension": (
                {
                    "days": extension.days,
                    "requested_days": extension.requested_days,
                    "approver": extension.approver,
                    "on": extension.on.isoformat(),
                    "granted_after_due": (
                        reply.computed_on is not None
                        and extension.on
                        > days.calendar.add_working_days(
                            days.counting_start(facts.anchor),
                            reply.working_days_total - reply.extension_days,
                        )
                    ),
                }
                if extension
                else None
            ),
            "working_days_total": reply.working_days_total,
            "computed_due_on": _iso(reply.computed_on),
            "later_reply_date": _iso(facts.later_reply_by),
            "due_on": _iso(reply.due_on),
            "stopped": S.AWAITING_SUPPLEMENT.value if reply.is_stopped else None,
            "article": rs.articles["reply"],
        },
        "supplement_notice": (
            {
                "from": facts.received_on.isoformat(),
                "working_days": rs.supplement_notice_days,
                "due_on": _iso(dates.supplement_notice_due_on),
                "served_on": _iso(facts.supplement_requested_on),
                "article": rs.articles["supplement_notice"],
            }
            if dates.supplement_notice_due_on
            else None
        ),
        "supplement": (
            {
                "served_on": _iso(facts.supplement_requested_on),
                "period_days": facts.supplement_period,
                "due_on": _iso(dates.supplement_due_on),
                "received_on": _iso(facts.restarted_on),
                "restarts_clock": rs.supplement_restarts_clock,
            }
            if facts.supplement_requested_on
            else None
        ),
        "fee": (
            {
                "served_on": fees[-1].served.isoformat(),
                "working_days": rs.fee_days,
                "due_on": _iso(dates.fee_due_on),
                "paid_on": _iso(fees[-1].paid),
                "pauses_reply_clock": rules.pause_for_fee,
                "article": rs.articles["fee"],
            }
            if fees
            else None
        ),
        "consultations": [
            {
                "consultee_kind": c.kind,
                "consultee": c.consultee,
                "sent_on": c.sent.isoformat(),
                "working_days": rs.consultation_days,
                "due_on": c.due.isoformat(),
                "closed_on": _iso(c.closed),
            }
            for c in consultations
        ],
        "timeliness": (
            {
                "concluded_on": concluded_on.isoformat() if concluded_on else None,
                "value": timeliness,
                "working_days_late": working_days_late,
            }
            if timeliness
            else None
        ),
        "actions": [a.as_dict() for a in actions],
        "missing_years": sorted(days.missing),
        "provisional_due": {name: list(years) for name, years in provisional.items()},
        "provisional_years": sorted({y for years in provisional.values() for y in years}),
    }


# --- the one entry point ---------------------------------------------------------------------
def compute_clock(
    *,
    received_on: dt.date | None,
    channel: str = "",
    state: str,
    events: Sequence[ClockEvent],
    calendar: WorkCalendar,
    rules: ClockRules,
    concluded_on: dt.date | None = None,
    due_dates_only: bool = False,
) -> CaseClock:
    """Derive every deadline of a case from its history. See the module docstring for the law.

    ``events`` are in the order they happened (effective date, then recording order).
    ``due_dates_only`` stops once the due dates and R′ are known (the rest of the clock is
    left empty): they depend on R and the events only, never on the state, which is what
    the bulk import needs after each step.
    """
    if received_on is None:
        received_on = receipt_date(events)
    if received_on is None:
        return CaseClock(
            explanation={"received_on": None, "note": "收到日期(R)尚未确定，期限未开始计算。"}
        )
    days = DayCount(calendar, count_receipt_day=rules.count_receipt_day)
    facts = replay_history(received_on, events, rules, days)
    dates = due_dates(facts, rules, days)
    provisional = provisional_marks(facts, dates, days)
    due = {
        "restarted_on": facts.restarted_on,
        "reply_due_on": dates.reply.due_on,
        "supplement_notice_due_on": dates.supplement_notice_due_on,
        "supplement_due_on": dates.supplement_due_on,
        "fee_due_on": dates.fee_due_on,
        "consultation_due_on": dates.consultation_due_on,
    }
    if due_dates_only:
        return CaseClock(**due, provisional=provisional)

    timeliness, working_days_late = timeliness_of(state, concluded_on, dates, days)
    actions = sweep_actions(state, facts, dates, rules, days)
    explanation = explanation_of(
        facts=facts,
        dates=dates,
        rules=rules,
        days=days,
        channel=channel,
        concluded_on=concluded_on,
        timeliness=timeliness,
        working_days_late=working_days_late,
        actions=actions,
        provisional=provisional,
    )
    return CaseClock(
        **due,
        timeliness=timeliness,
        working_days_late=working_days_late,
        actions=actions,
        missing_years=tuple(sorted(days.missing)),
        explanation=explanation,
        provisional=provisional,
    )


def due_actions(actions: Iterable[Action], today: dt.date) -> list[Action]:
    """The actions the sweep performs today: for each deadline, the escalation or closure if
    its day came, otherwise only the most urgent reminder whose day came (a sweep that missed
    a day does not send a stale 5-day reminder next to the 1-day one), never a reminder for a
    deadline already past."""
    by_deadline: dict[tuple[str, dt.date], list[Action]] = {}
    for action in actions:
        if action.kind == REMIND and action.due < today:
            continue  # a reminder for a deadline already gone is noise
        if action.on <= today:
            by_deadline.setdefault((action.deadline, action.due), []).append(action)
    chosen: list[Action] = []
    for group in by_deadline.values():
        finals = [a for a in group if a.kind != REMIND]
        if finals:
            chosen.extend(finals)
        else:
            chosen.append(min(group, key=lambda a: a.days_before or 0))
    chosen.sort(key=lambda a: (a.on, a.kind, a.deadline))
    return chosen


# --- provisional dates, in words (the admin, the letters, the e-mails, the API) -------------
PROVISIONAL_MARK = "（暂定）"


def provisional_years_of(explanation: Mapping[str, Any] | None, *fields: str) -> list[int]:
    """The provisional years behind the given due-date columns of a stored explanation
    (``Case.clock``), or behind any of them when no column is named."""
    marked = (explanation or {}).get("provisional_due") or {}
    names = fields or tuple(marked)
    return sorted({int(y) for name in names for y in marked.get(name, ())})


def provisional_clause(years: Iterable[int]) -> str:
    """The short clause an applicant reads beside a provisional date ("" when none)."""
    years = sorted(set(years))
    if not years:
        return ""
    named = "、".join(f"{y}年" for y in years)
    return f"（该日期按法定节假日计算，{named}放假安排公布后可能调整）"
