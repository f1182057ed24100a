"""The calendar as data: loading it, local calendars, storing each case's clock, and moving
open deadlines when the calendar changes (docs/clock.md, 'The calendar')."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.calendars import calendar_changed, calendar_for_agency, library_schedule
from requests_app.models import CalendarDay, CalendarYear, Case, CaseEvent, EventKind
from requests_app.services import cases as svc
from requests_app.services.calendar import calendar_day_delete, calendar_day_set
from requests_app.services.clock import case_clock_refresh
from tests.clock_calendars import (
    EXAMPLE_NOTICE_2027,
    at,
    case_received,
    d,
    load_official,
    notice_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    calendar_changed()
    yield
    calendar_changed()


@pytest.fixture
def fixed_today(monkeypatch):
    """Freeze the clock's "today" (the services' dates come from effective_at)."""

    def freeze(day: str):
        monkeypatch.setattr("requests_app.services.clock.clock_today", lambda: d(day))

    return freeze


def due_events(case):
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.DUE_CHANGED)
        .order_by("pk")
        .values_list("data", flat=True)
    )


# --- loading ------------------------------------------------------------------------------
def test_load_calendar_from_the_library_is_idempotent():
    out = io.StringIO()
    call_command("load_calendar", "--years", "2024", "2026", stdout=out)
    names_2024, work_2024 = library_schedule(2024)
    assert (
        CalendarDay.objects.filter(date__year=2024, kind="holiday").count() == len(names_2024) == 21
    )
    assert (
        CalendarDay.objects.filter(date__year=2024, kind="workday").count() == len(work_2024) == 8
    )
    assert CalendarDay.objects.filter(date__year=2026).count() == 22 + 6
    assert CalendarDay.objects.get(date=d("2024-02-04")).kind == "workday"
    assert CalendarDay.objects.get(date=d("2026-02-16")).name == "农历除夕"
    assert sorted(CalendarYear.objects.values_list("year", flat=True)) == [2024, 2026]
    assert "2024: 29 created, 0 updated, 0 deleted, 0 unchanged, year newly known" in out.getvalue()
    this_year = timezone.localdate().year
    missing = [y for y in range(2024, this_year + 2) if y not in (2024, 2026)]
    assert f"missing calendar years: {', '.join(map(str, missing))}" in out.getvalue()

    again = io.StringIO()
    call_command("load_calendar", "--years", "2024", "2026", stdout=again)
    assert "2024: 0 created, 0 updated, 0 deleted, 29 unchanged" in again.getvalue()
    assert CalendarDay.objects.count() == 29 + 28
    assert CalendarYear.objects.count() == 2


def test_load_calendar_from_a_file_for_a_new_year(tmp_path):
    path = notice_file(tmp_path / "2027.csv")
    out = io.StringIO()
    call_command("load_calendar", "--file", str(path), stdout=out)
    assert "2027: 21 created, 0 updated, 0 deleted, 0 unchanged, year newly known" in out.getvalue()
    year = CalendarYear.objects.get(year=2027, agency=None)
    assert (year.source, year.status) == ("2027.csv", "published")
    off, on = EXAMPLE_NOTICE_2027
    assert dict(CalendarDay.objects.filter(date__year=2027).values_list("date", "kind")) == {
        **{day: "holiday" for day in off if day.weekday() < 5},
        **{day: "workday" for day in on},
    }
    # --replace makes the year exactly the file: a row the file no longer lists goes.
    path.write_text(
        path.read_text(encoding="utf-8").replace("2027-02-10,休,放假\n", ""), encoding="utf-8"
    )
    call_command("load_calendar", "--file", str(path), "--replace", stdout=io.StringIO())
    assert not CalendarDay.objects.filter(date=d("2027-02-10")).exists()
    assert CalendarDay.objects.filter(date__year=2027).count() == 20


def test_load_calendar_rejects_a_bad_row(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        '{"days": [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2027-13-01", "kind": "holiday"}]}'
    )
    with pytest.raises(CommandError, match="row 2: bad date"):
        call_command("load_calendar", "--file", str(path), stdout=io.StringIO())
    assert CalendarDay.objects.count() == 0
    assert CalendarYear.objects.count() == 0


def test_local_calendar_overrides_the_national_one(tree):
    load_official(2024)
    district, street, city = tree["district"], tree["street"], tree["city"]
    # A local holiday on the national 调休 Saturday, and a local make-up day on a national holiday.
    calendar_day_set(day=d("2024-10-12"), kind="holiday", name="地方节日", agency=district)
    calendar_day_set(day=d("2024-10-07"), kind="workday", name="地方调休", agency=district)
    for agency in (district, street):
        cal = calendar_for_agency(agency)
        assert cal.is_working_day(d("2024-10-12")) is False
        assert cal.is_working_day(d("2024-10-07")) is True
    for agency in (city, tree["other"], None):
        cal = calendar_for_agency(agency)
        assert cal.is_working_day(d("2024-10-12")) is True
        assert cal.is_working_day(d("2024-10-07")) is False
    assert calendar_for_agency(street).known_years == frozenset({2024})


def test_calendar_cache_follows_changes():
    load_official(2024)
    assert calendar_for_agency(None).is_working_day(d("2024-10-21")) is True
    calendar_day_set(day=d("2024-10-21"), kind="holiday", name="临时休假")
    assert calendar_for_agency(None).is_working_day(d("2024-10-21")) is False
    calendar_day_delete(row=CalendarDay.objects.get(date=d("2024-10-21")))
    assert calendar_for_agency(None).is_working_day(d("2024-10-21")) is True


# --- storing the clock -------------------------------------------------------------------
def test_each_action_stores_the_clock_and_records_due_changes(office, handler, fixed_today):
    load_official(2024)
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    assert (case.received_on, case.reply_due_on, case.supplement_notice_due_on) == (
        d("2024-09-25"),
        d("2024-10-28"),
        d("2024-10-10"),
    )
    assert case.next_action_on == d("2024-09-27")
    assert case.clock["reply"]["due_on"] == "2024-10-28"
    assert due_events(case) == [
        {
            "field": "reply_due_on",
            "previous": None,
            "new": "2024-10-28",
            "reason": "confirm_receipt",
        },
        {
            "field": "supplement_notice_due_on",
            "previous": None,
            "new": "2024-10-10",
            "reason": "confirm_receipt",
        },
    ]

    fixed_today("2024-09-27")
    case = svc.case_request_supplement(
        case=case, actor=handler, items="请写明文号", effective_at=at("2024-09-27")
    )
    assert case.reply_due_on is None  # Art 30: stopped until R′
    assert case.supplement_due_on == d("2024-10-23")
    assert case.next_action_on == d("2024-10-24")  # the closure, the day after the period
    assert due_events(case)[2:] == [
        {
            "field": "reply_due_on",
            "previous": "2024-10-28",
            "new": None,
            "reason": "request_supplement",
        },
        {
            "field": "supplement_due_on",
            "previous": None,
            "new": "2024-10-23",
            "reason": "request_supplement",
        },
    ]

    fixed_today("2024-10-15")
    case = svc.case_receive_supplement(
        case=case, actor=handler, received_on=d("2024-10-15"), effective_at=at("2024-10-15")
    )
    case.refresh_from_db()
    assert case.restarted_on == d("2024-10-15")
    assert case.reply_due_on == d("2024-11-12")
    assert due_events(case)[4:] == [
        {
            "field": "reply_due_on",
            "previous": None,
            "new": "2024-11-12",
            "reason": "receive_supplement",
        },
    ]
    # Refreshing again changes nothing and writes nothing.
    assert case_clock_refresh(case=case, reason="again") == []


def test_concluding_sets_the_on_time_facts(office, handler, approver, fixed_today):
    load_official(2024)
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome="disclosed", effective_at=at("2024-10-28")
    )
    case = svc.case_approve(case=case, actor=approver, effective_at=at("2024-10-29"))
    case = svc.case_serve_reply(case=case, actor=handler, effective_at=at("2024-10-30"))
    case.refresh_from_db()
    assert (case.concluded_on, case.timeliness, case.working_days_late) == (
        d("2024-10-30"),
        "late",
        2,
    )
    assert case.next_action_on is None
    assert case.clock["timeliness"] == {
        "concluded_on": "2024-10-30",
        "value": "late",
        "working_days_late": 2,
    }


def test_missing_year_is_flagged_until_loaded(office, handler, fixed_today):
    load_official(2024)
    fixed_today("2024-12-20")
    case = case_received(office, handler, "2024-12-20")
    assert case.reply_due_on == d("2025-01-17")  # provisional: weekends only in 2025
    assert case.clock["missing_years"] == [2025]
    load_official(2025)
    case.refresh_from_db()
    assert case.reply_due_on == d("2025-01-20")
    assert case.clock["missing_years"] == []
    assert due_events(case)[-1] == {
        "field": "reply_due_on",
        "previous": "2025-01-17",
        "new": "2025-01-20",
        "reason": "calendar changed: national 2025 schedule loaded from 国务院办公厅通知",
    }


# --- calendar changes move open deadlines --------------------------------------------------
def _cases(office, handler, n, received_on="2024-09-25"):
    return [case_received(office, handler, received_on) for _ in range(n)]


def test_a_new_holiday_moves_the_open_deadlines_it_touches(office, handler, approver, fixed_today):
    load_official(2024)
    fixed_today("2024-09-25")
    touched = _cases(office, handler, 3)
    concluded = case_received(office, handler, "2024-09-25")
    concluded = svc.case_withdraw(case=concluded, actor=handler, effective_at=at("2024-10-08"))
    fixed_today("2024-11-01")
    later = case_received(office, handler, "2024-11-01")  # R after the new holiday
    later_due = later.reply_due_on

    _, moved = calendar_day_set(day=d("2024-10-21"), kind="holiday", name="临时休假")
    assert moved == 3
    for case in touched:
        case.refresh_from_db()
        assert case.reply_due_on == d("2024-10-29")
        assert due_events(case)[-1] == {
            "field": "reply_due_on",
            "previous": "2024-10-28",
            "new": "2024-10-29",
            "reason": "calendar changed: national 2024-10-21 holiday 临时休假",
        }
    concluded_events = len(due_events(concluded))
    concluded.refresh_from_db()
    assert concluded.reply_due_on == d("2024-10-28")
    assert len(due_events(concluded)) == concluded_events
    later.refresh_from_db()
    assert later.reply_due_on == later_due


def test_local_holiday_moves_only_that_subtree(tree, handler, fixed_today):
    from tests.factories import caseworker

    load_official(2024)
    fixed_today("2024-09-25")
    office_case = case_received(tree["office"], handler, "2024-09-25")
    street_worker = caseworker(tree["street"], "handler")
    street_case = case_received(tree["street"], street_worker, "2024-09-25")
    calendar_day_set(day=d("2024-10-21"), kind="holiday", name="区庆", agency=tree["district"])
    office_case.refresh_from_db()
    street_case.refresh_from_db()
    assert office_case.reply_due_on == d("2024-10-28")
    assert street_case.reply_due_on == d("2024-10-29")


def test_recompute_is_bulk(office, handler, fixed_today):
    load_official(2024)
    fixed_today("2024-09-25")
    _cases(office, handler, 2)
    with CaptureQueriesContext(connection) as small:
        calendar_day_set(day=d("2024-10-21"), kind="holiday", name="甲")
    _cases(office, handler, 8)
    with CaptureQueriesContext(connection) as large:
        calendar_day_set(day=d("2024-10-22"), kind="holiday", name="乙")
    assert Case.objects.filter(reply_due_on=d("2024-10-30")).count() == 10
    assert len(large.captured_queries) == len(small.captured_queries)


def test_admin_save_moves_deadlines(client, office, handler, fixed_today):
    from django.contrib.auth import get_user_model

    load_official(2024)
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pass-123456")
    client.force_login(admin)
    response = client.post(
        "/admin/requests_app/calendarday/add/",
        {"date": "2024-10-21", "kind": "holiday", "name": "临时休假", "agency": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.reply_due_on == d("2024-10-29")
    row = CalendarDay.objects.get(date=d("2024-10-21"))
    response = client.post(f"/admin/requests_app/calendarday/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.reply_due_on == d("2024-10-28")
    assert [e["reason"] for e in due_events(case)[-2:]] == [
        "calendar changed: national 2024-10-21 holiday 临时休假",
        "calendar changed: national 2024-10-21 holiday removed",
    ]


def test_admin_calendar_is_read_only_for_handlers(client, handler):
    client.force_login(handler)
    assert client.get("/admin/requests_app/calendarday/").status_code == 200
    assert client.get("/admin/requests_app/calendarday/add/").status_code == 403
