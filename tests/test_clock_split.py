"""The split of ``compute_clock`` into replay, dates, actions and explanation changed nothing.

``old_compute_clock`` below is a verbatim copy of the function before the split (commit
627b424), kept in this test module ONLY as the reference for the property test: over random
histories, states, settings and calendars (missing, provisional and strict years included), the
composed parts return exactly the ``CaseClock`` the monolith returned, or raise the same error.
It is not used anywhere else; delete it with this test once the split is old news.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.choices import (
    CONCLUDED_STATES,
    OPEN_STATES,
    REPLY_RUNNING_STATES,
    CaseState,
    EventKind,
)
from requests_app.choices import CaseState as S
from requests_app.clock import (
    CLOCK_EVENT_KINDS,
    CLOSE_NO_FEE,
    CLOSE_NO_SUPPLEMENT,
    CONSULTATION_ENDED,
    ESCALATE,
    KIND,
    REMIND,
    Action,
    CaseClock,
    ClockEvent,
    ClockRules,
    DayCount,
    compute_clock,
    receipt_date,
    replay_history,
    rule_set_for,
)
from requests_app.deadlines import ONE_DAY, WorkCalendar
from tests.clock_calendars import official_calendar


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# --- the reference: compute_clock before the split (verbatim; test-only) ---------------------
def old_compute_clock(
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
    """The monolithic compute_clock as it was before the split (commit 627b424), verbatim.

    ``events`` are in the order they happened (effective date, then recording order).
    ``due_dates_only`` stops once the due dates and R′ are known (the rest of the clock is
    left empty): they depend on R and the events only, never on the state, which is what
    the bulk import needs after each step.
    """
    if received_on is None:
        for event in events:
            if event.kind in (KIND.CONFIRM_RECEIPT, KIND.REGISTER):
                received_on = event.date("received_on")
            elif event.kind == KIND.REPLY_ON_SPOT:
                received_on = event.date("on")
    if received_on is None:
        return CaseClock(
            explanation={"received_on": None, "note": "收到日期(R)尚未确定，期限未开始计算。"}
        )

    rs = rule_set_for(received_on)
    missing: set[int] = set()

    def add(start: dt.date, n: int) -> dt.date:
        result = calendar.add_working_days(start, n)
        missing.update(calendar.missing_years(start, result))
        return result

    def counting_start(day: dt.date) -> dt.date:
        # 期间开始之日不计算在内, unless the setting counts the day itself.
        return day - ONE_DAY if rules.count_receipt_day else day

    # --- replay the history ----------------------------------------------------------------
    anchor, anchor_kind = received_on, "received"
    restarted_on: dt.date | None = None
    supplement_requested_on: dt.date | None = None
    supplement_period: int | None = None
    supplement_open = False
    consultations: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    extension: dict[str, Any] | None = None
    later_reply_by: dt.date | None = None

    for event in events:
        if event.kind == KIND.REQUEST_SUPPLEMENT:
            supplement_requested_on = event.date("served_on")
            supplement_period = int(event.data.get("period_days") or rules.supplement_period_days)
            supplement_open = True
        elif event.kind == KIND.RECEIVE_SUPPLEMENT:
            restarted_on = event.date("received_on")
            supplement_open = False
            if rs.supplement_restarts_clock:
                # 条例 Art 30: the clock restarts from R′; what was excluded before is spent.
                anchor, anchor_kind = restarted_on, "supplement_received"
                consultations = [c for c in consultations if c["closed"] is None]
                fees = [f for f in fees if f["paid"] is None]
        elif event.kind == KIND.START_CONSULTATION:
            sent = event.date("sent_on")
            consultations.append(
                {
                    "kind": event.data.get("consultee_kind") or "third_party",
                    "consultee": event.data.get("consultee", ""),
                    "sent": sent,
                    "due": add(sent, rs.consultation_days),
                    "closed": None,
                }
            )
        elif event.kind == KIND.CLOSE_CONSULTATION:
            for consultation in reversed(consultations):
                if consultation["closed"] is None:
                    consultation["closed"] = event.date("closed_on")
                    break
        elif event.kind == KIND.EXTEND and extension is None:
            requested = int(event.data.get("days") or rs.max_extension_days)
            extension = {
                "requested_days": requested,
                "days": max(0, min(requested, rs.max_extension_days)),
                "approver": event.data.get("approver", ""),
                "on": event.on,
            }
        elif event.kind == KIND.SET_LATER_REPLY_DATE:
            later_reply_by = event.date("reply_by")
        elif event.kind == KIND.ISSUE_FEE_NOTICE:
            served = event.date("served_on")
            fees.append({"served": served, "due": add(served, rs.fee_days), "paid": None})
        elif event.kind == KIND.RECORD_FEE_PAYMENT:
            for fee in reversed(fees):
                if fee["paid"] is None:
                    fee["paid"] = event.date("paid_on")
                    fee["waived"] = bool(event.data.get("waived"))
                    break
        elif event.kind == KIND.REOPEN:
            # A review or court sent the case back: a new reply period from the reopening.
            anchor, anchor_kind = event.date("reopened_on"), "reopened"
            consultations, fees = [], []
            extension, later_reply_by = None, None
            supplement_open = False

    # --- the reply deadline (Art 33) ------------------------------------------------------
    excluded_days: set[dt.date] = set()
    excluded: list[dict[str, Any]] = []
    for c in consultations:
        end = min(c["closed"], c["due"]) if c["closed"] else c["due"]
        counted = c["kind"] in rs.excluded_consultee_kinds
        days = {d for d in calendar.working_days_in(c["sent"], end) if d > anchor}
        if counted:
            excluded_days |= days
        excluded.append(
            {
                "kind": "consultation",
                "consultee_kind": c["kind"],
                "consultee": c["consultee"],
                "from": c["sent"].isoformat(),
                "to": end.isoformat(),
                "working_days": len(days) if counted else 0,
                "provisional": c["closed"] is None,
                "article": rs.articles["consultation"],
            }
        )
    if rules.pause_for_fee:
        for f in fees:
            end = f["paid"] or f["due"]
            days = {d for d in calendar.working_days_in(f["served"], end) if d > anchor}
            excluded_days |= days
            excluded.append(
                {
                    "kind": "fee",
                    "from": f["served"].isoformat(),
                    "to": end.isoformat(),
                    "working_days": len(days),
                    "provisional": f["paid"] is None,
                    "article": rs.articles["fee"],
                }
            )

    extension_days = extension["days"] if extension else 0
    working_days_total = rs.reply_days + len(excluded_days) + extension_days
    reply_stopped = supplement_open and rs.supplement_restarts_clock
    computed_due: dt.date | None = None
    reply_due: dt.date | None = None
    if not reply_stopped:
        computed_due = add(counting_start(anchor), working_days_total)
        reply_due = computed_due
        if later_reply_by is not None:
            # 条例 Art 35: the date the agency fixed and told the applicant.
            reply_due = later_reply_by
            missing.update(calendar.missing_years(anchor, later_reply_by))

    # --- the other deadlines -------------------------------------------------------------
    supplement_notice_due = None
    if rs.supplement_notice_days is not None:
        supplement_notice_due = add(counting_start(received_on), rs.supplement_notice_days)
    supplement_due = (
        add(supplement_requested_on, supplement_period) if supplement_requested_on else None
    )
    fee_due = fees[-1]["due"] if fees else None
    consultation_due = consultations[-1]["due"] if consultations else None

    # --- which dates rest on a provisional year (statutory holidays only, no 调休 yet) -------
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    if computed_due is not None and later_reply_by is None:
        # A date the agency fixed (Art 35) is not computed; a computed one depends on every
        # working day from the anchor to it, excluded intervals included.
        ends = [
            computed_due,
            *(min(c["closed"], c["due"]) if c["closed"] else c["due"] for c in consultations),
            *(f["paid"] or f["due"] for f in fees),
        ]
        spans["reply_due_on"] = (counting_start(anchor), max(ends))
    if supplement_notice_due is not None:
        spans["supplement_notice_due_on"] = (received_on, supplement_notice_due)
    if supplement_due is not None and supplement_requested_on is not None:
        spans["supplement_due_on"] = (supplement_requested_on, supplement_due)
    if fees:
        spans["fee_due_on"] = (fees[-1]["served"], fee_due)
    if consultations:
        spans["consultation_due_on"] = (consultations[-1]["sent"], consultation_due)
    provisional = {
        name: tuple(years)
        for name, (start, end) in spans.items()
        if (years := calendar.provisional_in(start, end))
    }
    if due_dates_only:
        return CaseClock(
            restarted_on=restarted_on,
            reply_due_on=reply_due,
            supplement_notice_due_on=supplement_notice_due,
            supplement_due_on=supplement_due,
            fee_due_on=fee_due,
            consultation_due_on=consultation_due,
            provisional=provisional,
        )

    # --- on-time facts of a concluded case --------------------------------------------------
    timeliness, working_days_late = "", 0
    if state in CONCLUDED_STATES and concluded_on is not None:
        if reply_due is None or concluded_on <= reply_due:
            timeliness = "extended" if extension_days else "on_time"
        else:
            timeliness = "late"
            working_days_late = calendar.count_working_days(reply_due, concluded_on)
            missing.update(calendar.missing_years(reply_due, concluded_on))

    # --- what the sweep must do ----------------------------------------------------------
    actions: list[Action] = []

    def reminders(deadline: str, due: dt.date) -> None:
        for k in rules.reminder_days_before:
            actions.append(Action(REMIND, deadline, due, add(due, -k), k))

    if state in OPEN_STATES and state != S.SUBMITTED:
        reply_running = state in REPLY_RUNNING_STATES or state == S.CONSULTING
        if state == S.AWAITING_FEE and not rules.pause_for_fee:
            reply_running = True
        if reply_running and reply_due is not None:
            reminders("reply_due_on", reply_due)
            actions.append(Action(ESCALATE, "reply_due_on", reply_due, reply_due + ONE_DAY))
        if (
            state in (S.REGISTERED, S.PROCESSING)
            and supplement_requested_on is None
            and supplement_notice_due is not None
        ):
            reminders("supplement_notice_due_on", supplement_notice_due)
        if state == S.AWAITING_SUPPLEMENT and supplement_due is not None:
            actions.append(
                Action(
                    CLOSE_NO_SUPPLEMENT,
                    "supplement_due_on",
                    supplement_due,
                    supplement_due + ONE_DAY,
                )
            )
        if state == S.AWAITING_FEE and fee_due is not None:
            actions.append(Action(CLOSE_NO_FEE, "fee_due_on", fee_due, fee_due + ONE_DAY))
        open_consultations = [c for c in consultations if c["closed"] is None]
        if state == S.CONSULTING and open_consultations:
            due = open_consultations[-1]["due"]
            actions.append(Action(CONSULTATION_ENDED, "consultation_due_on", due, due + ONE_DAY))
    actions.sort(key=lambda a: (a.on, a.kind, a.deadline))

    # --- the explanation ----------------------------------------------------------------
    explanation: dict[str, Any] = {
        "rule_set": {
            "code": rs.code,
            "name": rs.name,
            "reply_days": rs.reply_days,
            "max_extension_days": rs.max_extension_days,
        },
        "channel": channel,
        "received_on": received_on.isoformat(),
        "restarted_on": _iso(restarted_on),
        "count_receipt_day": rules.count_receipt_day,
        "reply": {
            "anchor": anchor.isoformat(),
            "anchor_kind": anchor_kind,
            "statutory_days": rs.reply_days,
            "excluded": excluded,
            "excluded_working_days": len(excluded_days),
            "extension": (
                {
                    "days": extension["days"],
                    "requested_days": extension["requested_days"],
                    "approver": extension["approver"],
                    "on": extension["on"].isoformat(),
                    "granted_after_due": (
                        computed_due is not None
                        and extension["on"]
                        > calendar.add_working_days(
                            counting_start(anchor), working_days_total - extension_days
                        )
                    ),
                }
                if extension
                else None
            ),
            "working_days_total": working_days_total,
            "computed_due_on": _iso(computed_due),
            "later_reply_date": _iso(later_reply_by),
            "due_on": _iso(reply_due),
            "stopped": S.AWAITING_SUPPLEMENT.value if reply_stopped else None,
            "article": rs.articles["reply"],
        },
        "supplement_notice": (
            {
                "from": received_on.isoformat(),
                "working_days": rs.supplement_notice_days,
                "due_on": _iso(supplement_notice_due),
                "served_on": _iso(supplement_requested_on),
                "article": rs.articles["supplement_notice"],
            }
            if supplement_notice_due
            else None
        ),
        "supplement": (
            {
                "served_on": _iso(supplement_requested_on),
                "period_days": supplement_period,
                "due_on": _iso(supplement_due),
                "received_on": _iso(restarted_on),
                "restarts_clock": rs.supplement_restarts_clock,
            }
            if supplement_requested_on
            else None
        ),
        "fee": (
            {
                "served_on": fees[-1]["served"].isoformat(),
                "working_days": rs.fee_days,
                "due_on": _iso(fee_due),
                "paid_on": _iso(fees[-1]["paid"]),
                "pauses_reply_clock": rules.pause_for_fee,
                "article": rs.articles["fee"],
            }
            if fees
            else None
        ),
        "consultations": [
            {
                "consultee_kind": c["kind"],
                "consultee": c["consultee"],
                "sent_on": c["sent"].isoformat(),
                "working_days": rs.consultation_days,
                "due_on": c["due"].isoformat(),
                "closed_on": _iso(c["closed"]),
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
        "missing_years": sorted(missing),
        "provisional_due": {name: list(years) for name, years in provisional.items()},
        "provisional_years": sorted({y for years in provisional.values() for y in years}),
    }
    return CaseClock(
        restarted_on=restarted_on,
        reply_due_on=reply_due,
        supplement_notice_due_on=supplement_notice_due,
        supplement_due_on=supplement_due,
        fee_due_on=fee_due,
        consultation_due_on=consultation_due,
        timeliness=timeliness,
        working_days_late=working_days_late,
        actions=tuple(actions),
        missing_years=tuple(sorted(missing)),
        explanation=explanation,
        provisional=provisional,
    )


# --- the property --------------------------------------------------------------------------------
OFFICIAL = official_calendar()  # 2018-2026 published
CALENDARS = (
    OFFICIAL,
    # 2027 provisional (statutory holidays only), 2028 and later unknown
    OFFICIAL.with_overrides(
        holidays=[dt.date(2027, 1, 1), *(dt.date(2027, 2, d) for d in range(5, 9))],
        provisional_years=[2027],
    ),
    official_calendar(2019, 2024, 2025, 2026),  # gaps: unknown years inside the range
    official_calendar(2024, 2025, 2026, strict=True),  # an unknown year raises
)
OTHER_KINDS = [k.value for k in EventKind if k.value not in CLOCK_EVENT_KINDS]
DATE_KEYS = {
    "confirm_receipt": "received_on",
    "register": "received_on",
    "reply_on_spot": "on",
    "request_supplement": "served_on",
    "receive_supplement": "received_on",
    "start_consultation": "sent_on",
    "close_consultation": "closed_on",
    "set_later_reply_date": "reply_by",
    "issue_fee_notice": "served_on",
    "record_fee_payment": "paid_on",
    "reopen": "reopened_on",
}


@st.composite
def events(draw, start: dt.date) -> list[ClockEvent]:
    history = []
    on = start
    for _ in range(draw(st.integers(0, 10))):
        on += dt.timedelta(days=draw(st.integers(0, 25)))
        kind = draw(st.sampled_from([*sorted(CLOCK_EVENT_KINDS), *OTHER_KINDS[:4]]))
        data: dict[str, Any] = {}
        key = DATE_KEYS.get(kind)
        if key and draw(st.booleans()):  # else the event's own date
            data[key] = (on + dt.timedelta(days=draw(st.integers(-5, 5)))).isoformat()
        if kind == "request_supplement":
            data["period_days"] = draw(st.sampled_from([None, "", 0, 5, 15, 30]))
        elif kind == "start_consultation":
            data["consultee_kind"] = draw(st.sampled_from([None, "third_party", "agency"]))
            data["consultee"] = draw(st.sampled_from(["", "某公司"]))
        elif kind == "extend":
            data["days"] = draw(st.sampled_from([None, 0, 5, 20, 40]))
            data["approver"] = "局长"
        elif kind == "record_fee_payment":
            data["waived"] = draw(st.booleans())
        history.append(ClockEvent(kind, on, data))
    return history


@st.composite
def cases(draw) -> dict[str, Any]:
    received_on = draw(
        st.one_of(  # the 2008 and 2019 rule sets; published, provisional and unknown years
            st.dates(dt.date(2018, 1, 1), dt.date(2019, 12, 31)),
            st.dates(dt.date(2024, 1, 1), dt.date(2027, 10, 31)),
        )
    )
    history = draw(events(received_on))
    rules = ClockRules(
        count_receipt_day=draw(st.booleans()),
        pause_for_fee=draw(st.booleans()),
        supplement_period_days=draw(st.integers(1, 30)),
        reminder_days_before=tuple(
            sorted(draw(st.sets(st.sampled_from([1, 3, 5, 10]), max_size=3)), reverse=True)
        ),
    )
    last = max([received_on, *(e.on for e in history)])
    return {
        # None: R is read from the history (a register or receipt event, if any)
        "received_on": draw(st.sampled_from([received_on, received_on, received_on, None])),
        "channel": draw(st.sampled_from(["", "online", "post"])),
        "state": draw(
            st.sampled_from([*(s.value for s in CaseState), *sorted(CONCLUDED_STATES) * 3])
        ),
        "events": history,
        "calendar": draw(st.sampled_from([*CALENDARS, CALENDARS[1]])),
        "rules": rules,
        "concluded_on": draw(
            st.sampled_from(
                [None, last, last + dt.timedelta(days=10), last + dt.timedelta(days=60)]
            )
        ),
        "due_dates_only": draw(st.booleans()),
    }


def outcome(function, case):
    try:
        return function(**case)
    except Exception as error:  # the same error, with the same message, counts as the same
        return type(error), str(error)


@settings(max_examples=600, deadline=None)
@given(case=cases())
def test_the_split_clock_equals_the_monolith(case):
    assert outcome(compute_clock, case) == outcome(old_compute_clock, case)


# --- the parts, directly -------------------------------------------------------------------------
def test_replay_restarts_after_supplement_and_reopen_clears():
    r = dt.date(2024, 3, 1)
    history = [
        ClockEvent("start_consultation", r, {"sent_on": "2024-03-04"}),
        ClockEvent("close_consultation", r, {"closed_on": "2024-03-06"}),
        ClockEvent("issue_fee_notice", r, {"served_on": "2024-03-07"}),
        ClockEvent("request_supplement", r, {"served_on": "2024-03-08"}),
        ClockEvent("receive_supplement", r, {"received_on": "2024-03-12"}),
    ]
    days = DayCount(OFFICIAL, count_receipt_day=False)
    facts = replay_history(r, history, ClockRules(), days)
    # 条例 Art 30: R′ is the new anchor; the answered consultation is spent, the unpaid fee not
    assert (facts.anchor, facts.anchor_kind) == (dt.date(2024, 3, 12), "supplement_received")
    assert facts.consultations == []
    assert [(f.served, f.due, f.paid) for f in facts.fees] == [
        (dt.date(2024, 3, 7), dt.date(2024, 4, 7), None)  # 4-4/4-5 清明, 4-7 a 调休 Sunday
    ]
    assert (facts.supplement_open, facts.supplement_period) == (False, 15)
    reopened = replay_history(
        r, [*history, ClockEvent("reopen", dt.date(2024, 6, 3), {})], ClockRules(), days
    )
    assert (reopened.anchor, reopened.anchor_kind) == (dt.date(2024, 6, 3), "reopened")
    assert (reopened.fees, reopened.consultations, reopened.extension) == ([], [], None)
    assert days.missing == set()


def test_receipt_date_is_the_last_receipt_in_the_history():
    history = [
        ClockEvent("register", dt.date(2024, 3, 1), {"received_on": "2024-02-29"}),
        ClockEvent("note", dt.date(2024, 3, 2), {}),
        ClockEvent("reply_on_spot", dt.date(2024, 3, 4), {}),
    ]
    assert receipt_date(history) == dt.date(2024, 3, 4)
    assert receipt_date(history[:2]) == dt.date(2024, 2, 29)
    assert receipt_date([]) is None


def test_day_count_notes_the_unknown_years_it_crossed():
    days = DayCount(official_calendar(2024), count_receipt_day=True)
    assert days.add(dt.date(2024, 12, 20), 10) == dt.date(2025, 1, 3)  # weekend rule in 2025
    assert days.missing == {2025}
    assert days.counting_start(dt.date(2024, 3, 1)) == dt.date(2024, 2, 29)
