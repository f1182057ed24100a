"""The clock of a case derived from its history (docs/clock.md): exact dates and properties."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.clock import (
    CLOSE_NO_FEE,
    CLOSE_NO_SUPPLEMENT,
    CONSULTATION_ENDED,
    ESCALATE,
    REMIND,
    Action,
    ClockEvent,
    ClockRules,
    compute_clock,
    due_actions,
    rule_set_for,
)
from tests.clock_calendars import d, official_calendar

CAL = official_calendar()
RULES = ClockRules()


def ev(kind, on, **data):
    return ClockEvent(kind=kind, on=d(on), data={k: v for k, v in data.items()})


def clock(received_on, events=(), state="processing", rules=RULES, calendar=CAL, concluded_on=None):
    return compute_clock(
        received_on=d(received_on) if received_on else None,
        channel="online",
        state=state,
        events=list(events),
        calendar=calendar,
        rules=rules,
        concluded_on=d(concluded_on) if concluded_on else None,
    )


def test_plain_reply_deadline_over_national_day():
    c = clock("2024-09-25")
    assert c.reply_due_on == d("2024-10-28")  # Art 33 ¶2: 20 working days after R
    assert c.supplement_notice_due_on == d("2024-10-10")  # Art 30: 7 working days after R
    assert (c.supplement_due_on, c.fee_due_on, c.consultation_due_on) == (None, None, None)
    assert c.missing_years == ()
    assert [a.as_dict() for a in c.actions] == [
        {
            "kind": REMIND,
            "deadline": "supplement_notice_due_on",
            "due": "2024-10-10",
            "on": "2024-09-27",
            "days_before": 5,
        },
        {
            "kind": REMIND,
            "deadline": "supplement_notice_due_on",
            "due": "2024-10-10",
            "on": "2024-10-09",
            "days_before": 1,
        },
        {
            "kind": REMIND,
            "deadline": "reply_due_on",
            "due": "2024-10-28",
            "on": "2024-10-21",
            "days_before": 5,
        },
        {
            "kind": REMIND,
            "deadline": "reply_due_on",
            "due": "2024-10-28",
            "on": "2024-10-25",
            "days_before": 1,
        },
        {
            "kind": ESCALATE,
            "deadline": "reply_due_on",
            "due": "2024-10-28",
            "on": "2024-10-29",
            "days_before": None,
        },
    ]
    assert c.next_action_on() == d("2024-09-27")
    assert c.next_action_on(d("2024-10-01")) == d("2024-10-01")  # a reminder is already due
    reply = c.explanation["reply"]
    assert reply["anchor"] == "2024-09-25"
    assert reply["statutory_days"] == 20
    assert reply["working_days_total"] == 20
    assert reply["due_on"] == "2024-10-28"
    assert reply["article"] == "《条例》第三十三条第二款"
    assert c.explanation["rule_set"]["code"] == "2019"


def test_counting_the_receipt_day_is_a_setting():
    c = clock("2024-09-25", rules=ClockRules(count_receipt_day=True))
    assert c.reply_due_on == d("2024-10-25")
    assert c.supplement_notice_due_on == d("2024-10-09")
    # R on a holiday is not a working day, so counting it changes nothing.
    assert (
        clock("2024-10-03", rules=ClockRules(count_receipt_day=True)).reply_due_on
        == clock("2024-10-03").reply_due_on
    )


def test_spring_festival_2026():
    c = clock("2026-02-12")
    assert c.reply_due_on == d("2026-03-18")
    assert c.supplement_notice_due_on == d("2026-02-28")  # a 调休 Saturday


def test_2008_regulation_for_cases_before_2019_05_15():
    assert rule_set_for(d("2019-05-14")).code == "2008"
    assert rule_set_for(d("2019-05-15")).code == "2019"
    c = clock("2018-02-09")
    assert c.reply_due_on == d("2018-03-07")  # 15 working days
    assert c.supplement_notice_due_on is None  # no 7-day rule before 2019
    extended = clock("2018-02-09", [ev("extend", "2018-03-01", days=20, approver="李主任")])
    assert extended.reply_due_on == d("2018-03-28")  # at most 15 more
    assert extended.explanation["reply"]["extension"] == {
        "days": 15,
        "requested_days": 20,
        "approver": "李主任",
        "on": "2018-03-01",
        "granted_after_due": False,
    }


def test_2008_no_restart_after_supplement():
    events = [
        ev("request_supplement", "2018-02-12", served_on="2018-02-12", period_days=10),
        ev("receive_supplement", "2018-02-26", received_on="2018-02-26"),
    ]
    c = clock("2018-02-09", events)
    assert c.restarted_on == d("2018-02-26")
    assert c.reply_due_on == d("2018-03-07")
    assert c.explanation["reply"]["anchor_kind"] == "received"


def test_supplement_stops_then_restarts_the_clock():
    served = [
        ev("request_supplement", "2026-02-13", items="文号", period_days=15, served_on="2026-02-13")
    ]
    waiting = clock("2026-02-12", served, state="awaiting_supplement")
    assert waiting.reply_due_on is None  # Art 30: stopped until R′
    assert waiting.supplement_due_on == d("2026-03-12")
    assert waiting.supplement_notice_due_on == d("2026-02-28")
    assert [a.as_dict() for a in waiting.actions] == [
        {
            "kind": CLOSE_NO_SUPPLEMENT,
            "deadline": "supplement_due_on",
            "due": "2026-03-12",
            "on": "2026-03-13",
            "days_before": None,
        }
    ]
    assert waiting.explanation["reply"]["stopped"] == "awaiting_supplement"

    received = clock(
        "2026-02-12", [*served, ev("receive_supplement", "2026-03-02", received_on="2026-03-02")]
    )
    assert received.restarted_on == d("2026-03-02")
    assert received.reply_due_on == d("2026-03-30")  # 20 working days after R′
    assert received.explanation["reply"]["anchor_kind"] == "supplement_received"
    assert received.supplement_due_on == d("2026-03-12")


def test_supplement_period_defaults_to_the_setting():
    events = [ev("request_supplement", "2026-02-13", served_on="2026-02-13")]
    c = clock(
        "2026-02-12",
        events,
        state="awaiting_supplement",
        rules=ClockRules(supplement_period_days=7),
    )
    assert c.supplement_due_on == d("2026-03-02")


def test_consultation_time_is_excluded():
    # Without consultation: 2024-03-29.
    assert clock("2024-03-01").reply_due_on == d("2024-03-29")
    sent = ev(
        "start_consultation",
        "2024-03-11",
        consultee_kind="third_party",
        consultee="某公司",
        sent_on="2024-03-11",
    )
    closed = clock(
        "2024-03-01", [sent, ev("close_consultation", "2024-03-15", closed_on="2024-03-15")]
    )
    # 4 excluded working days (Mar 12-15); the due date lands on the 调休 Sunday Apr 7.
    assert closed.reply_due_on == d("2024-04-07")
    assert closed.consultation_due_on == d("2024-04-01")
    assert closed.explanation["reply"]["excluded"] == [
        {
            "kind": "consultation",
            "consultee_kind": "third_party",
            "consultee": "某公司",
            "from": "2024-03-11",
            "to": "2024-03-15",
            "working_days": 4,
            "provisional": False,
            "article": "《条例》第三十二条、第三十四条、第三十三条第三款",
        }
    ]
    # While the consultee has not answered, their whole 15 days are assumed.
    waiting = clock("2024-03-01", [sent], state="consulting")
    assert waiting.reply_due_on == d("2024-04-22")
    assert waiting.explanation["reply"]["excluded"][0]["provisional"] is True
    assert (
        Action(CONSULTATION_ENDED, "consultation_due_on", d("2024-04-01"), d("2024-04-02"))
        in waiting.actions
    )
    # An answer after their deadline counts only up to the deadline.
    late = clock(
        "2024-03-01", [sent, ev("close_consultation", "2024-04-10", closed_on="2024-04-10")]
    )
    assert late.reply_due_on == d("2024-04-22")


def test_agency_consultation_not_excluded_under_2008():
    sent = ev(
        "start_consultation",
        "2018-03-05",
        consultee_kind="agency",
        consultee="市财政局",
        sent_on="2018-03-05",
    )
    done = ev("close_consultation", "2018-03-09", closed_on="2018-03-09")
    assert clock("2018-02-09", [sent, done]).reply_due_on == d("2018-03-07")
    third = ev(
        "start_consultation",
        "2018-03-05",
        consultee_kind="third_party",
        consultee="某公司",
        sent_on="2018-03-05",
    )
    # Mar 6-9: 4 working days excluded.
    assert clock("2018-02-09", [third, done]).reply_due_on == d("2018-03-13")


def test_fee_pauses_the_clock_by_setting():
    notice = ev("issue_fee_notice", "2024-03-11", amount_yuan="100.00", served_on="2024-03-11")
    paid = ev("record_fee_payment", "2024-03-15", paid_on="2024-03-15", waived=False)
    assert clock("2024-03-01", [notice, paid]).reply_due_on == d("2024-04-07")
    no_pause = ClockRules(pause_for_fee=False)
    assert clock("2024-03-01", [notice, paid], rules=no_pause).reply_due_on == d("2024-03-29")
    waiting = clock("2024-03-01", [notice], state="awaiting_fee")
    assert waiting.fee_due_on == d("2024-04-09")  # Art 42: 20 working days
    assert [a.as_dict() for a in waiting.actions] == [
        {
            "kind": CLOSE_NO_FEE,
            "deadline": "fee_due_on",
            "due": "2024-04-09",
            "on": "2024-04-10",
            "days_before": None,
        }
    ]
    # Without the pause the reply deadline keeps its reminders while the fee is outstanding.
    running = clock("2024-03-01", [notice], state="awaiting_fee", rules=no_pause)
    assert {a.deadline for a in running.actions} == {"fee_due_on", "reply_due_on"}


def test_extension_and_later_reply_date():
    extended = clock("2024-09-25", [ev("extend", "2024-10-20", days=25, approver="王主任")])
    assert extended.reply_due_on == d("2024-11-25")
    assert extended.explanation["reply"]["extension"]["days"] == 20
    late_extension = clock("2024-09-25", [ev("extend", "2024-10-29", days=5)])
    assert late_extension.explanation["reply"]["extension"]["granted_after_due"] is True
    later = clock("2024-09-25", [ev("set_later_reply_date", "2024-10-15", reply_by="2024-12-20")])
    assert later.reply_due_on == d("2024-12-20")  # Art 35 overrides the computed date
    assert later.explanation["reply"]["computed_due_on"] == "2024-10-28"
    assert later.explanation["reply"]["later_reply_date"] == "2024-12-20"


@pytest.mark.parametrize(
    ("events", "concluded_on", "timeliness", "late"),
    [
        ([], "2024-10-28", "on_time", 0),
        ([], "2024-10-30", "late", 2),
        ([], "2024-11-04", "late", 5),
        ([ev("extend", "2024-10-20", days=20)], "2024-11-20", "extended", 0),
        ([ev("extend", "2024-10-20", days=20)], "2024-11-26", "late", 1),
    ],
)
def test_on_time_facts(events, concluded_on, timeliness, late):
    c = clock("2024-09-25", events, state="replied", concluded_on=concluded_on)
    assert (c.timeliness, c.working_days_late) == (timeliness, late)
    assert c.actions == ()


def test_concluded_while_clock_stopped_is_on_time():
    events = [ev("request_supplement", "2026-02-13", served_on="2026-02-13")]
    c = clock("2026-02-12", events, state="closed", concluded_on="2026-03-13")
    assert (c.timeliness, c.working_days_late) == ("on_time", 0)


def test_reopen_starts_a_new_reply_period():
    events = [
        ev("extend", "2024-10-20", days=20),
        ev("serve_reply", "2024-10-28", served_on="2024-10-28", outcome="disclosed"),
        ev("reopen", "2024-11-04", reopened_on="2024-11-04", reason="复议决定责令重新答复"),
    ]
    c = clock("2024-09-25", events, state="processing")
    assert c.reply_due_on == d("2024-12-02")
    assert c.explanation["reply"]["anchor_kind"] == "reopened"
    assert c.explanation["reply"]["extension"] is None
    assert c.timeliness == ""


def test_missing_calendar_year_is_flagged():
    c = clock("2026-12-10", calendar=official_calendar(2024, 2025, 2026))
    assert c.missing_years == (2027,)
    assert c.is_calendar_complete is False
    assert c.explanation["missing_years"] == [2027]
    assert clock("2026-03-02").missing_years == ()


def test_no_clock_before_receipt():
    c = clock(None, state="submitted")
    assert c.reply_due_on is None
    assert c.actions == ()
    assert c.next_action_on(d("2024-01-01")) is None


def test_receipt_date_taken_from_the_history_when_missing():
    c = clock(
        None, [ev("confirm_receipt", "2024-09-25", received_on="2024-09-25")], state="registered"
    )
    assert c.reply_due_on == d("2024-10-28")


def test_due_actions_pick_the_most_urgent_reminder():
    c = clock("2024-09-25")
    # A sweep that missed Oct 21 sends only the 1-day reminder on Oct 25.
    # The 补正 notice deadline (Oct 10) is past: no reminder about it any more.
    assert due_actions(c.actions, d("2024-10-25")) == [
        Action(REMIND, "reply_due_on", d("2024-10-28"), d("2024-10-25"), 1),
    ]
    assert due_actions(c.actions, d("2024-10-09")) == [
        Action(REMIND, "supplement_notice_due_on", d("2024-10-10"), d("2024-10-09"), 1),
    ]
    assert due_actions(c.actions, d("2024-10-29"))[-1] == Action(
        ESCALATE, "reply_due_on", d("2024-10-28"), d("2024-10-29")
    )
    assert due_actions(c.actions, d("2024-09-26")) == []


# --- properties --------------------------------------------------------------------------------
PROPERTY_CAL = official_calendar(2019, 2024, 2025, 2026)
receipts = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 6, 30))
DUE_FIELDS = (
    "reply_due_on",
    "supplement_notice_due_on",
    "supplement_due_on",
    "fee_due_on",
    "consultation_due_on",
)


def plus(day, n):
    return (day + dt.timedelta(days=n)).isoformat()


def compute(received_on, events, state="processing", rules=RULES):
    return compute_clock(
        received_on=received_on, state=state, events=events, calendar=PROPERTY_CAL, rules=rules
    )


@st.composite
def histories(draw):
    r = draw(receipts)
    events = []
    day = r
    if draw(st.booleans()):
        served = draw(st.integers(0, 10))
        back = served + draw(st.integers(0, 30))
        events.append(
            ClockEvent(
                "request_supplement",
                r + dt.timedelta(days=served),
                {"served_on": plus(r, served), "period_days": draw(st.integers(1, 30))},
            )
        )
        events.append(
            ClockEvent(
                "receive_supplement", r + dt.timedelta(days=back), {"received_on": plus(r, back)}
            )
        )
        day = r + dt.timedelta(days=back)
    for _ in range(draw(st.integers(0, 2))):
        sent = draw(st.integers(0, 20))
        length = draw(st.integers(0, 40))
        kind = draw(st.sampled_from(["third_party", "agency"]))
        events.append(
            ClockEvent(
                "start_consultation",
                day + dt.timedelta(days=sent),
                {"consultee_kind": kind, "sent_on": plus(day, sent)},
            )
        )
        events.append(
            ClockEvent(
                "close_consultation",
                day + dt.timedelta(days=sent + length),
                {"closed_on": plus(day, sent + length)},
            )
        )
        day = day + dt.timedelta(days=sent + length)
    if draw(st.booleans()):
        served = draw(st.integers(0, 10))
        events.append(
            ClockEvent(
                "issue_fee_notice",
                day + dt.timedelta(days=served),
                {"served_on": plus(day, served)},
            )
        )
        paid = served + draw(st.integers(0, 30))
        events.append(
            ClockEvent(
                "record_fee_payment", day + dt.timedelta(days=paid), {"paid_on": plus(day, paid)}
            )
        )
    if draw(st.booleans()):
        events.append(ClockEvent("extend", day, {"days": draw(st.integers(1, 30))}))
    return r, events


@settings(max_examples=300, deadline=None)
@given(history=histories(), count_receipt_day=st.booleans())
def test_due_dates_are_working_days(history, count_receipt_day):
    r, events = history
    c = compute(r, events, rules=ClockRules(count_receipt_day=count_receipt_day))
    for name in DUE_FIELDS:
        due = getattr(c, name)
        if due is not None:
            assert PROPERTY_CAL.is_working_day(due), (name, due)
    total = c.explanation["reply"]["working_days_total"]
    start = r - dt.timedelta(days=1) if count_receipt_day else r
    anchor = dt.date.fromisoformat(c.explanation["reply"]["anchor"])
    if anchor == r:
        assert PROPERTY_CAL.count_working_days(start, c.reply_due_on) == total


@settings(max_examples=300, deadline=None)
@given(r=receipts, served=st.integers(0, 10), back=st.integers(0, 40))
def test_restart_after_supplement_never_earlier(r, served, back):
    plain = compute(r, [])
    events = [
        ClockEvent(
            "request_supplement", r + dt.timedelta(days=served), {"served_on": plus(r, served)}
        ),
        ClockEvent(
            "receive_supplement",
            r + dt.timedelta(days=served + back),
            {"received_on": plus(r, served + back)},
        ),
    ]
    restarted = compute(r, events)
    assert restarted.reply_due_on >= plain.reply_due_on


@settings(max_examples=300, deadline=None)
@given(
    history=histories(),
    sent=st.integers(0, 30),
    length=st.integers(0, 40),
    kind=st.sampled_from(["third_party", "agency"]),
)
def test_excluded_time_never_shortens(history, sent, length, kind):
    r, events = history
    base = compute(r, events)
    last = max([r, *(e.on for e in events)])
    extra = [
        ClockEvent(
            "start_consultation",
            last + dt.timedelta(days=sent),
            {"consultee_kind": kind, "sent_on": plus(last, sent)},
        ),
        ClockEvent(
            "close_consultation",
            last + dt.timedelta(days=sent + length),
            {"closed_on": plus(last, sent + length)},
        ),
    ]
    more = compute(r, [*events, *extra])
    assert more.reply_due_on >= base.reply_due_on
    paused = compute(
        r,
        [*events, ClockEvent("issue_fee_notice", last, {"served_on": last.isoformat()})],
        state="awaiting_fee",
    )
    assert paused.reply_due_on >= base.reply_due_on
