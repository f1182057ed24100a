"""行政复议, 行政诉讼 and 投诉举报: periods, services, reopening, reminders, and the report cells
(table 四 of gov2021/gov2019, the review/litigation/complaint/fee keys of legacy2014) computed
from these records by the reporting engine."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.engine import ReportInputs, compute_report
from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, Role
from requests_app.models import (
    CaseEvent,
    Complaint,
    EventKind,
    Lawsuit,
    Notification,
    Result,
    Review,
)
from requests_app.proceedings_rules import (
    ProceedingsRuleError,
    add_months,
    lawsuit_defense_due,
    lawsuit_judgment_due,
    review_answer_due,
    review_decision_due,
    review_law_for,
)
from requests_app.services import cases as svc
from requests_app.services.errors import ActionForbidden, InvalidInput, TransitionRefused
from requests_app.services.fees import fee_issue_for_case, fee_waive
from requests_app.services.proceedings import (
    complaint_handle,
    complaint_receive,
    lawsuit_decide,
    lawsuit_defend,
    lawsuit_file,
    review_accept,
    review_answer,
    review_decide,
    review_extend,
    review_file,
)
from requests_app.services.proceedings_sweep import proceedings_sweep
from tests.clock_calendars import at, case_received, d, load_official, official_calendar
from tests.factories import case_in_state, caseworker, record_search

CAL = official_calendar(2018, 2019, 2024, 2025, 2026)


# --- periods (pure) -----------------------------------------------------------------------
def test_the_law_in_force_on_the_filing_date():
    assert review_law_for(d("2023-12-31")) == "1999"
    assert review_law_for(d("2024-01-01")) == "2023"


@pytest.mark.parametrize(
    ("accepted", "simplified", "extended", "due"),
    [
        ("2025-09-05", False, False, "2025-11-04"),  # 60 calendar days, a Tuesday
        ("2025-08-02", False, False, "2025-10-09"),  # day 60 is 1 Oct: after the holiday
        ("2025-09-05", True, False, "2025-10-09"),  # 30 days, 5 Oct, in the holiday
        ("2025-09-05", False, True, "2025-12-04"),  # 60 + 30
    ],
)
def test_review_decision_period_in_calendar_days(accepted, simplified, extended, due):
    found, why = review_decision_due(
        accepted_on=d(accepted), law="2023", simplified=simplified, extended=extended, calendar=CAL
    )
    assert found == d(due)
    assert why["unit"] == "calendar"
    assert why["days"] == (30 if simplified else 90 if extended else 60)


def test_the_1999_law_has_no_simplified_procedure():
    due, _ = review_decision_due(
        accepted_on=d("2018-05-02"), law="1999", simplified=False, extended=False, calendar=CAL
    )
    assert due == d("2018-07-02")  # day 60 is Sunday 1 July
    with pytest.raises(ProceedingsRuleError):
        review_decision_due(
            accepted_on=d("2018-05-02"), law="1999", simplified=True, extended=False, calendar=CAL
        )


def test_answer_period_working_days_under_2023_calendar_days_under_1999():
    # 复议法 2023 Art 48 + Art 88 ¶2: 10 working days; 28 Sep and 11 Oct 2025 are 调休 days.
    due, why = review_answer_due(
        copy_received_on=d("2025-09-26"), law="2023", simplified=False, calendar=CAL
    )
    assert (due, why["unit"]) == (d("2025-10-16"), "working")
    due, _ = review_answer_due(
        copy_received_on=d("2025-09-26"), law="2023", simplified=True, calendar=CAL
    )
    assert due == d("2025-10-10")  # Art 54: 5 working days
    # 1999 Art 23: 10 calendar days; day 10 is 1 Oct 2018, so the period ends on 8 Oct.
    due, why = review_answer_due(
        copy_received_on=d("2018-09-21"), law="1999", simplified=False, calendar=CAL
    )
    assert (due, why["unit"]) == (d("2018-10-08"), "calendar")


def test_litigation_periods():
    def due(filed, instance=1, simple=False):
        return lawsuit_judgment_due(
            filed_on=d(filed), instance=instance, simple_procedure=simple, calendar=CAL
        )[0]

    assert due("2025-08-29") == d("2026-02-28")  # 6 months; a 调休 Saturday is a working day
    assert due("2025-08-31") == d("2026-02-28")  # no 31 Feb: the month's last day
    assert due("2025-09-01", simple=True) == d("2025-10-16")  # 45 days
    assert due("2025-11-30", instance=2) == d("2026-02-28")  # appeal: 3 months
    with pytest.raises(ProceedingsRuleError):
        due("2025-09-01", instance=2, simple=True)
    defense, why = lawsuit_defense_due(copy_received_on=d("2025-09-16"), calendar=CAL)
    assert defense == d("2025-10-09")  # day 15 is 1 Oct
    assert why["basis"].startswith("《行政诉讼法》第六十七条第一款")
    assert add_months(d("2024-01-31"), 1) == d("2024-02-29")


# --- services --------------------------------------------------------------------------------
@pytest.fixture
def calendars(db):
    load_official(2018, 2019, 2024, 2025, 2026)


def replied_case(agency, actor, received: str, replied: str, outcome=Outcome.DISCLOSED, **fields):
    case = case_received(agency, actor, received, **fields)
    if outcome in svc.SEARCH_OUTCOMES:
        case = record_search(case, actor, on=d(replied), effective_at=at(replied, 8))
    case = svc.case_submit_for_approval(
        case=case, actor=actor, outcome=outcome, effective_at=at(replied, 9)
    )
    case = svc.case_approve(case=case, actor=actor, effective_at=at(replied, 10))
    return svc.case_serve_reply(
        case=case, actor=actor, served_on=d(replied), effective_at=at(replied, 11)
    )


def test_filing_accepting_answering_and_deciding_a_review(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20")
    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    assert (review.law, review.review_body, review.applicant) == ("2023", "安顺市人民政府", "张三")
    assert review.result == Result.PENDING
    filed = CaseEvent.objects.get(case=case, kind=EventKind.REVIEW_FILED)
    assert filed.data == {
        "filed_on": "2025-04-10",
        "law": "2023",
        "review_body": "安顺市人民政府",
        "review_id": review.pk,
    }
    assert filed.effective_at == at("2025-04-10", 12)

    review = review_accept(
        review=review,
        actor=approver,
        accepted_on=d("2025-04-15"),
        copy_received_on=d("2025-04-16"),
        simplified=True,
    )
    assert review.decision_due_on == d("2025-05-15")  # 30 days
    # 5 working days after 16 Apr 2025: 17, 18, 21, 22, 23 April.
    assert review.answer_due_on == d("2025-04-23")
    # The first reminder: 5 working days before (16 Apr, the copy's own day).
    assert review.next_reminder_on == d("2025-04-16")
    with pytest.raises(InvalidInput):  # the simplified procedure cannot be extended
        review_extend(review=review, actor=approver, reason="案情复杂")

    review = review_answer(review=review, actor=approver, answered_on=d("2025-04-22"))
    assert review.next_reminder_on is None
    answered = CaseEvent.objects.get(case=case, kind=EventKind.REVIEW_ANSWERED)
    assert answered.data["on_time"] is True

    review = review_decide(
        review=review, actor=approver, decided_on=d("2025-05-12"), decision="maintained"
    )
    assert (review.result, review.orders_new_reply) == (Result.UPHELD, False)
    case.refresh_from_db()
    assert case.state == S.REPLIED  # upheld: nothing reopens
    with pytest.raises(TransitionRefused):
        review_decide(review=review, actor=approver, decided_on=d("2025-05-13"), decision="revoked")


def test_review_extension_by_30_days(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20")
    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    review = review_accept(review=review, actor=approver, accepted_on=d("2025-09-05"))
    assert review.decision_due_on == d("2025-11-04")
    assert review.answer_due_on is None and review.next_reminder_on is None
    review = review_extend(review=review, actor=approver, reason="情况复杂，经负责人批准")
    assert review.decision_due_on == d("2025-12-04")
    with pytest.raises(TransitionRefused):
        review_extend(review=review, actor=approver, reason="再次延长")


def test_simplified_procedure_is_refused_under_the_1999_law(calendars, office, approver):
    case = replied_case(office, approver, "2018-03-05", "2018-03-20")
    review = review_file(case=case, actor=approver, filed_on=d("2018-04-02"))
    assert review.law == "1999"
    with pytest.raises(InvalidInput):
        review_accept(review=review, actor=approver, accepted_on=d("2018-04-04"), simplified=True)
    review.refresh_from_db()
    assert review.accepted_on is None


def test_review_dates_are_checked(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20")
    with pytest.raises(InvalidInput):
        review_file(case=case, actor=approver, filed_on=d("2025-03-01"))  # before R
    with pytest.raises(InvalidInput):
        review_file(case=case, actor=approver, filed_on=dt.date.today() + dt.timedelta(days=2))
    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    with pytest.raises(InvalidInput):
        review_decide(review=review, actor=approver, decided_on=d("2025-04-01"), decision="revoked")
    with pytest.raises(InvalidInput):
        review_decide(review=review, actor=approver, decided_on=d("2025-05-01"), decision="won")
    assert Review.objects.get(pk=review.pk).decided_on is None


def test_another_agency_may_not_record_a_review(calendars, tree, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20")
    stranger = caseworker(tree["dept"], Role.APPROVER)
    with pytest.raises(ActionForbidden):
        review_file(case=case, actor=stranger, filed_on=d("2025-04-10"))
    assert Review.objects.count() == 0


def test_a_corrected_review_reopens_the_case_and_the_report_counts_it_once(
    calendars, tree, office, approver
):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.NOT_EXIST)
    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    review = review_accept(review=review, actor=approver, accepted_on=d("2025-04-15"))
    review = review_decide(
        review=review,
        actor=approver,
        decided_on=d("2025-06-10"),
        decision="revoked",
        note="未尽检索义务",
    )
    assert (review.result, review.orders_new_reply) == (Result.CORRECTED, True)
    case.refresh_from_db()
    assert case.state == S.PROCESSING
    assert (case.outcome, case.concluded_on) == ("", None)
    reopen = CaseEvent.objects.get(case=case, kind=EventKind.REOPEN)
    assert (
        reopen.reason == "安顺市人民政府 2025-06-10 行政复议决定“撤销”，责令重新答复。未尽检索义务"
    )
    assert reopen.data == {"reopened_on": "2025-06-10", "previous_outcome": "not_exist"}
    # A new reply period of 20 working days from the reopening (clock).
    assert case.reply_due_on == d("2025-07-08")

    case = svc.case_submit_for_approval(
        case=case, actor=approver, outcome=Outcome.DISCLOSED, effective_at=at("2025-06-20", 9)
    )
    case = svc.case_approve(case=case, actor=approver, effective_at=at("2025-06-20", 10))
    case = svc.case_serve_reply(
        case=case, actor=approver, served_on=d("2025-06-23"), effective_at=at("2025-06-23")
    )
    assert (case.outcome, case.concluded_on) == (Outcome.DISCLOSED, d("2025-06-23"))

    report = compute_report(ReportInputs.build(year=2025, agency="city", format="gov2021"))
    t3, t4 = report.cells["table3"], report.cells["table4"]
    assert t3["new_received"]["total"] == 1
    assert t3["concluded_total"]["total"] == 1
    assert t3["disclosed"]["natural_person"] == 1
    assert t3["unable_not_held"]["total"] == 0
    assert t3["carried_out"]["total"] == 0
    assert t4["review"] == {"upheld": 0, "corrected": 1, "other": 0, "pending": 0, "total": 1}
    assert report.failed_checks == []


def test_a_reopened_case_still_open_at_the_cutoff_is_carried_out_once(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.NOT_EXIST)
    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    review_decide(
        review=review, actor=approver, decided_on=d("2025-12-15"), decision="ordered_to_perform"
    )
    report = compute_report(ReportInputs.build(year=2025, agency="city", format="gov2021"))
    t3 = report.cells["table3"]
    assert t3["new_received"]["total"] == 1
    assert t3["concluded_total"]["total"] == 0
    assert t3["carried_out"]["total"] == 1
    assert report.failed_checks == []


def test_reopening_needs_the_office_head_and_a_refusal_records_nothing(
    calendars, office, approver, handler
):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20")
    review = review_file(case=case, actor=handler, filed_on=d("2025-04-10"))
    events = case.events.count()
    with pytest.raises(ActionForbidden):
        review_decide(review=review, actor=handler, decided_on=d("2025-06-10"), decision="revoked")
    review.refresh_from_db()
    assert (review.decided_on, review.result) == (None, Result.PENDING)
    assert case.events.count() == events
    # The handler may record it without reopening; the head reopens later.
    review = review_decide(
        review=review,
        actor=handler,
        decided_on=d("2025-06-10"),
        decision="revoked",
        orders_new_reply=False,
    )
    assert review.result == Result.CORRECTED
    case.refresh_from_db()
    assert case.state == S.REPLIED
    with pytest.raises(InvalidInput):  # only a correction orders a new reply
        other = review_file(case=case, actor=handler, filed_on=d("2025-04-11"))
        review_decide(
            review=other,
            actor=approver,
            decided_on=d("2025-06-10"),
            decision="dismissed",
            orders_new_reply=True,
        )


def test_lawsuits_direct_after_review_and_on_appeal(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.NOT_EXIST)
    direct = lawsuit_file(
        case=case,
        actor=approver,
        filed_on=d("2025-08-29"),
        copy_received_on=d("2025-09-16"),
    )
    assert (direct.court, direct.after_review, direct.instance) == (
        "安顺市西秀区人民法院",
        False,
        1,
    )
    assert direct.judgment_due_on == d("2026-02-28")
    assert direct.defense_due_on == d("2025-10-09")
    direct = lawsuit_defend(lawsuit=direct, actor=approver, submitted_on=d("2025-09-30"))
    assert direct.next_reminder_on is None
    direct = lawsuit_decide(
        lawsuit=direct, actor=approver, decided_on=d("2025-11-20"), judgment="claim_dismissed"
    )
    assert direct.result == Result.UPHELD
    appeal = lawsuit_file(
        case=case,
        actor=approver,
        filed_on=d("2025-11-30"),
        appeal_of=direct,
        court="安顺市中级人民法院",
    )
    assert (appeal.instance, appeal.after_review, appeal.judgment_due_on) == (
        2,
        False,
        d("2026-02-28"),
    )

    review = review_file(case=case, actor=approver, filed_on=d("2025-04-10"))
    with pytest.raises(InvalidInput):
        lawsuit_file(
            case=case, actor=approver, filed_on=d("2025-06-01"), review=review, after_review=False
        )
    review_decide(review=review, actor=approver, decided_on=d("2025-05-30"), decision="dismissed")
    after = lawsuit_file(
        case=case, actor=approver, filed_on=d("2025-06-10"), review=review, simple_procedure=True
    )
    assert (after.after_review, after.judgment_due_on) == (True, d("2025-07-25"))
    assert CaseEvent.objects.filter(case=case, kind=EventKind.LAWSUIT_FILED).count() == 3

    report = compute_report(ReportInputs.build(year=2025, agency="city", format="gov2021"))
    t4 = report.cells["table4"]
    # The appeal continues the direct suit: first instances only.
    assert t4["litigation_direct"] == {
        "upheld": 1,
        "corrected": 0,
        "other": 0,
        "pending": 0,
        "total": 1,
    }
    assert t4["litigation_after_review"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }
    assert t4["review"] == {"upheld": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1}


def test_a_direct_suit_against_a_refusal_since_2024_is_flagged(calendars, office, approver):
    case = replied_case(
        office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.WITHHELD_PERSONAL_PRIVACY
    )
    lawsuit_file(case=case, actor=approver, filed_on=d("2025-04-01"))
    event = CaseEvent.objects.get(case=case, kind=EventKind.LAWSUIT_FILED)
    assert event.data["warnings"] == [
        "不予公开答复自2024年1月1日起应先申请行政复议（《行政复议法》第二十三条第一款第（四）项）。"
    ]


def test_a_corrected_judgment_reopens_when_the_office_says_it_is_final(calendars, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.NOT_EXIST)
    suit = lawsuit_file(case=case, actor=approver, filed_on=d("2025-05-06"))
    lawsuit_decide(
        lawsuit=suit,
        actor=approver,
        decided_on=d("2025-09-01"),
        judgment="revoked",
        orders_new_reply=True,
    )
    case.refresh_from_db()
    assert case.state == S.PROCESSING
    assert CaseEvent.objects.get(case=case, kind=EventKind.REOPEN).reason == (
        "安顺市西秀区人民法院 2025-09-01 判决“撤销”，判令重新答复。"
    )


# --- complaints ------------------------------------------------------------------------------
def test_the_supervising_office_receives_and_handles_a_complaint(calendars, tree, office, approver):
    city_office = office  # 市政府办公室: the 政府信息公开工作主管部门 of the city's departments
    dept = tree["dept"]
    dept_worker = caseworker(dept, Role.APPROVER)
    case = replied_case(dept, dept_worker, "2025-03-03", "2025-03-20")
    supervisor = caseworker(city_office, Role.SUPERVISOR, username="office-supervisor")
    complaint = complaint_receive(
        actor=supervisor,
        agency=dept,
        filed_on=d("2025-04-01"),
        complainant="张三",
        summary="财政局逾期答复",
        case=case,
    )
    assert complaint.received_by == city_office
    event = CaseEvent.objects.get(case=case, kind=EventKind.COMPLAINT_RECEIVED)
    assert event.data == {
        "complaint_id": complaint.pk,
        "filed_on": "2025-04-01",
        "kind": "complaint",
        "received_by": city_office.name,
    }
    assert event.actor == supervisor
    complaint = complaint_handle(
        complaint=complaint,
        actor=supervisor,
        handled_on=d("2025-04-20"),
        result="责令限期整改",
        is_substantiated=True,
    )
    assert (complaint.handled_on, complaint.result) == (d("2025-04-20"), "责令限期整改")
    assert CaseEvent.objects.filter(case=case, kind=EventKind.COMPLAINT_HANDLED).count() == 1
    with pytest.raises(TransitionRefused):
        complaint_handle(
            complaint=complaint, actor=supervisor, handled_on=d("2025-04-21"), result="再次"
        )


def test_complaints_only_go_to_a_supervising_office(calendars, tree, office):
    dept_worker = caseworker(tree["dept"], Role.APPROVER)
    with pytest.raises(InvalidInput):  # a department does not supervise the city office
        complaint_receive(
            actor=dept_worker, agency=office, filed_on=d("2025-04-01"), summary="投诉"
        )
    office_worker = caseworker(office, Role.HANDLER)
    with pytest.raises(InvalidInput):  # nor does the office its own government (the one above)
        complaint_receive(
            actor=office_worker, agency=tree["city"], filed_on=d("2025-04-01"), summary="投诉"
        )
    district_worker = caseworker(tree["district"], Role.HANDLER)
    complaint = complaint_receive(
        actor=district_worker,
        agency=tree["street"],
        filed_on=d("2025-04-01"),
        summary="举报",
        kind="report",
    )
    assert complaint.received_by == tree["district"]
    outsider = caseworker(tree["other"], Role.ADMINISTRATOR)
    with pytest.raises(ActionForbidden):
        complaint_receive(
            actor=outsider,
            agency=tree["street"],
            received_by=tree["district"],
            filed_on=d("2025-04-01"),
            summary="举报",
        )
    assert Complaint.objects.count() == 1


# --- the sweep ---------------------------------------------------------------------------------
def test_answer_reminders_are_sent_once_then_escalated(calendars, office, approver, handler):
    case = replied_case(office, approver, "2025-09-01", "2025-09-10")
    review = review_file(case=case, actor=approver, filed_on=d("2025-09-20"))
    review = review_accept(
        review=review, actor=approver, accepted_on=d("2025-09-25"), copy_received_on=d("2025-09-26")
    )
    assert review.answer_due_on == d("2025-10-16")
    # 5 working days before 16 Oct: 15, 14, 13, 11 (调休 Saturday), 10 October.
    assert review.next_reminder_on == d("2025-10-10")

    assert proceedings_sweep(today=d("2025-10-09")) == {}
    result = proceedings_sweep(today=d("2025-10-10"))
    assert result == {"notifications": 1, "reminder_sent": 1, "records": 1}
    assert proceedings_sweep(today=d("2025-10-10")) == {}  # moved to the next reminder
    review.refresh_from_db()
    assert review.next_reminder_on == d("2025-10-15")
    note = Notification.objects.get(kind="proceedings_reminder")
    assert note.recipient == approver
    assert (
        note.subject
        == f"【期限提醒】{case.tracking_number} 行政复议答复期限还有5个工作日届满（2025-10-16）"
    )

    assert proceedings_sweep(today=d("2025-10-17")) == {
        "notifications": 1,
        "escalated": 1,
        "records": 1,
    }
    review.refresh_from_db()
    assert review.next_reminder_on is None
    escalation = CaseEvent.objects.get(case=case, kind=EventKind.ESCALATED)
    assert escalation.data["review_id"] == review.pk
    assert escalation.data["due"] == "2025-10-16"


def test_a_recorded_answer_stops_the_reminders(calendars, office, approver):
    case = replied_case(office, approver, "2025-09-01", "2025-09-10")
    review = review_file(case=case, actor=approver, filed_on=d("2025-09-20"))
    review = review_accept(
        review=review, actor=approver, accepted_on=d("2025-09-25"), copy_received_on=d("2025-09-26")
    )
    review_answer(review=review, actor=approver, answered_on=d("2025-10-09"))
    assert proceedings_sweep(today=d("2025-10-17")) == {}
    assert Notification.objects.filter(kind__startswith="proceedings").count() == 0


def test_defence_reminders_for_a_lawsuit(calendars, office, approver):
    case = replied_case(office, approver, "2025-09-01", "2025-09-10")
    lawsuit_file(
        case=case, actor=approver, filed_on=d("2025-09-12"), copy_received_on=d("2025-09-16")
    )
    suit = Lawsuit.objects.get()
    assert suit.defense_due_on == d("2025-10-09")
    # 1 working day before 9 Oct is 30 Sep (the holiday in between is not a working day).
    result = proceedings_sweep(today=d("2025-09-30"))
    assert result == {"notifications": 1, "reminder_sent": 1, "records": 1}
    note = Notification.objects.get(kind="proceedings_reminder")
    assert (
        note.subject
        == f"【期限提醒】{case.tracking_number} 行政诉讼举证期限还有1个工作日届满（2025-10-09）"
    )


# --- the report: table 四 and the legacy keys from these records ---------------------------------
def test_gov2019_table4_with_a_review_pending_at_the_cutoff(calendars, office, approver):
    a = replied_case(office, approver, "2019-06-03", "2019-06-20")
    b = replied_case(office, approver, "2019-06-04", "2019-06-21")
    r1 = review_file(case=a, actor=approver, filed_on=d("2019-07-01"))
    review_decide(
        review=r1,
        actor=approver,
        decided_on=d("2019-08-30"),
        decision="varied",
        orders_new_reply=False,
    )
    r2 = review_file(case=b, actor=approver, filed_on=d("2019-11-20"))
    review_decide(review=r2, actor=approver, decided_on=d("2020-01-10"), decision="maintained")
    lawsuit_file(case=b, actor=approver, filed_on=d("2019-12-02"))
    report = compute_report(ReportInputs.build(year=2019, agency="city", format="gov2019"))
    t4 = report.cells["table4"]
    assert t4["review"] == {"upheld": 0, "corrected": 1, "other": 0, "pending": 1, "total": 2}
    assert t4["litigation_direct"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }
    assert t4["litigation_after_review"]["total"] == 0
    # In the next year's report the 2019 filings are not counted again.
    later = compute_report(ReportInputs.build(year=2020, agency="city", format="gov2019"))
    assert later.cells["table4"]["review"]["total"] == 0


def test_legacy2014_review_litigation_complaint_and_fee_keys(calendars, tree, office, approver):
    a = replied_case(office, approver, "2018-03-05", "2018-03-20")
    b = replied_case(office, approver, "2018-03-06", "2018-03-21")
    c = case_received(office, approver, "2018-04-02")
    for case, filed, decided, decision in (
        (a, "2018-04-10", "2018-06-01", "maintained"),
        (a, "2018-04-11", "2018-06-01", "confirmed_illegal"),
        (b, "2018-05-02", "2018-06-20", "withdrawn"),
        (b, "2018-11-20", None, None),  # pending at the cutoff
    ):
        review = review_file(case=case, actor=approver, filed_on=d(filed))
        if decision:
            review_decide(
                review=review,
                actor=approver,
                decided_on=d(decided),
                decision=decision,
                orders_new_reply=False,
            )
    suit = lawsuit_file(case=a, actor=approver, filed_on=d("2018-07-02"))
    lawsuit_decide(
        lawsuit=suit, actor=approver, decided_on=d("2018-10-08"), judgment="confirmed_illegal"
    )
    lawsuit_file(case=b, actor=approver, filed_on=d("2018-08-01"), after_review=True)
    supervisor = caseworker(tree["city"], Role.SUPERVISOR, username="city-supervisor")
    complaint_receive(
        actor=supervisor, agency=office, filed_on=d("2018-05-05"), summary="投诉答复不规范"
    )
    complaint_receive(actor=supervisor, agency=office, filed_on=d("2019-01-05"), summary="下一年度")
    # Fees: 150 pages = 1700.00 paid in 2018; a second notice waived does not count.
    c, _ = fee_issue_for_case(
        case=c, actor=approver, method="by_pages", pages=150, effective_at=at("2018-04-03")
    )
    svc.case_record_fee_payment(case=c, actor=approver, effective_at=at("2018-04-09"))
    d_case = case_received(office, approver, "2018-04-02", applicant_name="李四", id_number="")
    d_case, _ = fee_issue_for_case(
        case=d_case, actor=approver, method="by_pages", pages=31, effective_at=at("2018-04-03")
    )
    fee_waive(case=d_case, actor=approver, reason="申请人经济困难", effective_at=at("2018-04-04"))

    cells = compute_report(ReportInputs.build(year=2018, agency="city", format="legacy2014")).cells
    assert {
        k: cells[k] for k in cells if k.startswith(("review", "litigation", "complaints", "fees"))
    } == {
        "review_total": 4,
        "review_upheld": 1,
        "review_corrected": 1,
        "review_other": 2,  # 撤回 and the one pending at the cutoff
        "litigation_total": 2,
        "litigation_upheld": 0,
        "litigation_corrected": 1,
        "litigation_other": 1,
        "complaints_total": 1,
        "fees_collected_yuan": "1700.00",
    }


# --- the staff API ---------------------------------------------------------------------------------
def _client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_staff_api_records_a_review_to_its_decision(calendars, tree, office, approver):
    case = replied_case(office, approver, "2025-03-03", "2025-03-20", outcome=Outcome.NOT_EXIST)
    client = _client(approver)
    response = client.post(
        f"/api/v1/staff/cases/{case.pk}/reviews/", {"filed_on": "2025-04-10"}, format="json"
    )
    assert response.status_code == 201, response.content
    review_id = response.json()["id"]
    response = client.post(
        f"/api/v1/staff/reviews/{review_id}/accept/",
        {"accepted_on": "2025-04-15", "copy_received_on": "2025-04-16"},
        format="json",
    )
    # 10 working days after 16 Apr 2025, Sunday 27 Apr being a 调休 working day.
    assert response.json()["answer_due_on"] == "2025-04-29"
    response = client.post(
        f"/api/v1/staff/reviews/{review_id}/decide/",
        {"decided_on": "2025-06-10", "decision": "revoked"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["result"], response.json()["orders_new_reply"]) == ("corrected", True)
    case.refresh_from_db()
    assert case.state == S.PROCESSING
    bad = client.post(
        f"/api/v1/staff/reviews/{review_id}/decide/",
        {"decided_on": "2025-06-11", "decision": "nonsense"},
        format="json",
    )
    assert bad.status_code == 400
    again = client.post(
        f"/api/v1/staff/reviews/{review_id}/decide/",
        {"decided_on": "2025-06-11", "decision": "revoked"},
        format="json",
    )
    assert again.status_code == 409
    stranger = _client(caseworker(tree["dept"], Role.APPROVER))
    assert (
        stranger.post(
            f"/api/v1/staff/reviews/{review_id}/answer/",
            {"answered_on": "2025-04-20"},
            format="json",
        ).status_code
        == 404
    )
    legal = client.get(f"/api/v1/staff/cases/{case.pk}/legal/").json()
    assert [r["id"] for r in legal["reviews"]] == [review_id]


def test_the_staff_api_computes_and_issues_fees_and_lists_repeats(calendars, office, approver):
    case = case_received(office, approver, "2025-03-03")
    client = _client(approver)
    preview = client.post(
        f"/api/v1/staff/cases/{case.pk}/fee/compute/",
        {"method": "by_pages", "pages": 201},
        format="json",
    )
    assert preview.status_code == 200
    assert preview.json()["amount_yuan"] == "2740.00"
    assert (
        client.post(
            f"/api/v1/staff/cases/{case.pk}/fee/compute/", {"method": "by_pages"}, format="json"
        ).status_code
        == 400
    )
    issued = client.post(
        f"/api/v1/staff/cases/{case.pk}/fee/issue/",
        {"method": "by_pages", "pages": 31},
        format="json",
    )
    assert issued.status_code == 200
    case.refresh_from_db()
    assert case.state == S.AWAITING_FEE
    response = client.get("/api/v1/staff/repeated-requests/", {"agency": office.code})
    assert response.status_code == 200
    assert response.json() == []
    assert (
        client.get("/api/v1/staff/repeated-requests/", {"agency": "other-city"}).status_code == 404
    )


def test_the_staff_api_receives_a_complaint(calendars, tree, office):
    supervisor = caseworker(tree["city"], Role.SUPERVISOR, username="city-sup")
    client = _client(supervisor)
    response = client.post(
        "/api/v1/staff/complaints/",
        {
            "agency": "city-finance",
            "filed_on": "2025-04-01",
            "summary": "逾期未答复",
            "complaint_kind": "report",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["received_by"], response.json()["complaint_kind"]) == ("city", "report")
    assert [c["id"] for c in client.get("/api/v1/staff/complaints/").json()] == [
        response.json()["id"]
    ]
    handled = client.post(
        f"/api/v1/staff/complaints/{response.json()['id']}/handle/",
        {"handled_on": "2025-04-10", "result": "已督促整改"},
        format="json",
    )
    assert handled.status_code == 200
    assert (
        client.post(
            "/api/v1/staff/complaints/",
            {"agency": "nope", "filed_on": "2025-04-01", "summary": "x"},
            format="json",
        ).status_code
        == 400
    )


def test_the_supervising_office_names_a_case_it_cannot_open(calendars, tree, office):
    """The city office's handler sees only the office's own cases, yet receives a complaint
    about a department's case by its id; another agency's or a missing id is a 400 on
    ``case``, and a user who may not receive the complaint learns nothing of the case."""
    dept_approver = caseworker(tree["dept"], Role.APPROVER, username="dept-approver")
    dept_case = case_in_state(S.PROCESSING, agency=tree["dept"], actor=dept_approver)
    office_case = case_in_state(
        S.PROCESSING, agency=office, actor=caseworker(office, Role.APPROVER, username="o-appr")
    )
    handler = caseworker(office, Role.HANDLER, username="office-handler")
    client = _client(handler)
    assert client.get(f"/api/v1/staff/cases/{dept_case.pk}/").status_code == 404
    body = {"agency": "city-finance", "filed_on": "2025-04-01", "summary": "逾期未答复"}
    for wrong in (office_case.pk, 999_999):
        response = client.post("/api/v1/staff/complaints/", {**body, "case": wrong}, format="json")
        assert response.status_code == 400, response.content
        assert list(response.json()["fields"]) == ["case"]
    response = client.post(
        "/api/v1/staff/complaints/", {**body, "case": dept_case.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["received_by"] == "city-office"
    assert dept_case.events.filter(kind="complaint_received").count() == 1
    registrar = _client(caseworker(tree["dept"], Role.REGISTRAR, username="dept-registrar"))
    for case_id in (dept_case.pk, 999_999):
        response = registrar.post(
            "/api/v1/staff/complaints/", {**body, "case": case_id}, format="json"
        )
        assert response.status_code == 403
    assert Complaint.objects.count() == 1
