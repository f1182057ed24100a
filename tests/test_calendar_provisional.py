"""Provisional calendar years (issue 11 §1, DOMAIN.md §2): a year whose State Council notice is
not yet published counts the statutory holidays of 《全国年节及纪念日放假办法》 and no 调休;
every date computed on it is marked; publishing the notice recomputes the open cases.

"Today" is pinned in every test that depends on it (the suite may run on any day).
"""

import io

import pytest
from django.core.management import CommandError, call_command

from requests_app.calendars import calendar_for_agency, statutory_holidays
from requests_app.models import CalendarDay, CalendarYear, CaseEvent, EventKind
from requests_app.services import cases as svc
from requests_app.services.calendar import (
    CalendarRefused,
    calendar_day_delete,
    calendar_day_set,
    calendar_year_load,
    calendar_year_provisional,
)
from tests.clock_calendars import (
    EXAMPLE_NOTICE_2027,
    OFFICIAL,
    at,
    case_received,
    d,
    load_official,
    notice_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    """Pin "now" (so the day the clock, the services' date checks, the commands and the tasks
    take as today) to 15:00 in Asia/Shanghai on ``day``."""

    def pin(day: str):
        moment = at(day, hour=15)
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return pin


def due_events(case):
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.DUE_CHANGED)
        .order_by("pk")
        .values_list("data", flat=True)
    )


# --- the law, computed ---------------------------------------------------------------------
def test_statutory_holidays_of_2027_are_the_law_and_nothing_else():
    # 2024 amendment, in force 2025-01-01: 元旦 1, 春节 4 (除夕–初三), 清明 1, 劳动节 2, 端午 1,
    # 中秋 1, 国庆 3 — 13 days; no 补假 (which weekday replaces a weekend holiday is the notice's).
    assert statutory_holidays(2027) == {
        d("2027-01-01"): "元旦",
        d("2027-02-05"): "农历除夕",
        d("2027-02-06"): "春节",
        d("2027-02-07"): "春节",
        d("2027-02-08"): "春节",
        d("2027-04-05"): "清明节",
        d("2027-05-01"): "劳动节",
        d("2027-05-02"): "劳动节",
        d("2027-06-09"): "端午节",
        d("2027-09-15"): "中秋节",
        d("2027-10-01"): "国庆节",
        d("2027-10-02"): "国庆节",
        d("2027-10-03"): "国庆节",
    }


@pytest.mark.parametrize("year", sorted(y for y in OFFICIAL if 2019 <= y <= 2026))
def test_every_published_year_keeps_its_statutory_weekday_holidays(year):
    """The refusal rule never refuses a real notice: every statutory holiday on a weekday was a
    day off in each published arrangement 2019–2026 (written out by hand in OFFICIAL)."""
    off, _ = OFFICIAL[year]
    weekday_statutory = {day for day in statutory_holidays(year) if day.weekday() < 5}
    assert weekday_statutory <= off


# --- 2027-01-01 ----------------------------------------------------------------------------
def test_new_years_day_2027_is_never_a_working_day(today, tmp_path):
    today("2026-12-04")
    out = io.StringIO()
    call_command("load_calendar", stdout=out)  # what a deployment and the demo run
    text = out.getvalue()
    assert "2026: 28 created" in text
    assert (
        "2027: 13 created, 0 updated, 0 deleted, 0 unchanged, year newly known "
        "(provisional: statutory holidays only, no published notice)" in text
    )
    assert "calendar complete through 2027" in text
    assert "provisional years (statutory holidays only, awaiting the notice): 2027" in text
    year = CalendarYear.objects.get(agency=None, year=2027)
    assert year.status == CalendarYear.Status.PROVISIONAL
    assert not CalendarDay.objects.filter(date__year=2027, kind="workday").exists()
    calendar = calendar_for_agency(None)
    assert calendar.provisional_years == frozenset({2027})
    assert calendar.is_working_day(d("2027-01-01")) is False
    assert calendar.is_working_day(d("2027-01-04")) is True

    # Nothing makes it a working day: not a day-by-day change, nor a removal...
    row = CalendarDay.objects.get(date=d("2027-01-01"))
    with pytest.raises(CalendarRefused, match="2027-01-01 是法定节假日（元旦"):
        calendar_day_set(day=d("2027-01-01"), kind="workday", name="上班")
    with pytest.raises(CalendarRefused, match="2027-01-01 是法定节假日"):
        calendar_day_delete(row=row)
    # ...nor 调休 typed into the provisional year day by day...
    with pytest.raises(CalendarRefused, match="2027 年为暂定年度"):
        calendar_day_set(day=d("2027-02-20"), kind="workday", name="调休上班")
    # ...nor a "published" notice that forgot it, when it would replace the year's days...
    path = notice_file(tmp_path / "2027.csv")
    path.write_text(
        path.read_text(encoding="utf-8").replace("2027-01-01,休,放假\n", ""), encoding="utf-8"
    )
    with pytest.raises(CommandError, match="2027 年的安排缺少法定节假日：2027-01-01 元旦"):
        call_command("load_calendar", "--file", str(path), "--replace", stdout=io.StringIO())
    assert CalendarDay.objects.get(date=d("2027-01-01")).kind == "holiday"
    assert CalendarYear.objects.get(agency=None, year=2027).status == "provisional"
    assert CalendarDay.objects.filter(date__year=2027).count() == 13
    # ...and loaded over the provisional year, the law's day stays.
    call_command("load_calendar", "--file", str(path), stdout=io.StringIO())
    assert CalendarYear.objects.get(agency=None, year=2027).status == "published"
    assert CalendarDay.objects.get(date=d("2027-01-01")).kind == "holiday"
    assert calendar_for_agency(None).is_working_day(d("2027-01-01")) is False


def test_an_empty_published_year_is_refused():
    with pytest.raises(CalendarRefused, match="2027 年的安排缺少法定节假日：2027-01-01 元旦、"):
        calendar_year_load(year=2027, holidays={}, workdays={}, source="管理员录入")
    assert not CalendarYear.objects.exists()
    assert not CalendarDay.objects.exists()


# --- a case received 2026-12-04 -------------------------------------------------------------
def test_a_case_received_2026_12_04_is_due_2027_01_04_provisional(office, handler, today):
    from requests_app.tasks import calendar_next_year_task

    today("2026-12-04")
    load_official(2026)
    assert calendar_next_year_task() == {
        "year": 2027,
        "status": "provisional",
        "cases_moved": 0,
        "provisional_open_cases": 0,
    }
    case = case_received(office, handler, "2026-12-04")
    assert case.reply_due_on == d("2027-01-04")  # 2027-01-01 (元旦, a Friday) is not counted
    assert case.supplement_notice_due_on == d("2026-12-15")
    assert case.clock["provisional_due"] == {"reply_due_on": [2027]}
    assert case.clock["provisional_years"] == [2027]
    assert case.clock["missing_years"] == []
    assert calendar_next_year_task()["provisional_open_cases"] == 1


def test_the_beat_loads_next_year_and_never_touches_a_published_one(today, tmp_path):
    from django.conf import settings

    from requests_app.tasks import calendar_next_year_task

    entry = settings.CELERY_BEAT_SCHEDULE["calendar-next-year"]
    assert entry["task"] == calendar_next_year_task.name == "requests_app.calendar_next_year"

    today("2026-12-04")
    call_command("load_calendar", "--file", str(notice_file(tmp_path / "2027.csv")))
    before = list(CalendarDay.objects.filter(date__year=2027).values_list("date", "kind", "name"))
    out = io.StringIO()
    call_command("load_calendar", "--next-year", stdout=out)
    assert "2027: published already, left as it is" in out.getvalue()
    assert calendar_next_year_task()["status"] == "published"
    after = list(CalendarDay.objects.filter(date__year=2027).values_list("date", "kind", "name"))
    assert after == before
    assert calendar_year_provisional(year=2027).kept_published is True


# --- publishing the notice ----------------------------------------------------------------
def test_publishing_2027_moves_exactly_the_affected_cases(
    office, handler, approver, today, tmp_path
):
    today("2026-11-02")
    load_official(2026)
    calendar_year_provisional(year=2027)
    inside_2026 = case_received(office, handler, "2026-11-02")
    today("2026-12-04")
    unmoved = case_received(office, handler, "2026-12-04")
    withdrawn = case_received(office, handler, "2026-12-04")
    withdrawn = svc.case_withdraw(case=withdrawn, actor=handler, effective_at=at("2026-12-10"))
    today("2026-12-18")
    extended = case_received(office, handler, "2026-12-18")
    extended = svc.case_extend(
        case=extended, actor=approver, days=20, reason="需调档", effective_at=at("2026-12-18")
    )
    assert (inside_2026.reply_due_on, unmoved.reply_due_on, extended.reply_due_on) == (
        d("2026-11-30"),
        d("2027-01-04"),
        d("2027-02-17"),  # provisional: 2027-02-05 and 02-08 (除夕, 初三) off, no 调休
    )
    assert inside_2026.clock["provisional_years"] == []
    events_before = {c.pk: len(due_events(c)) for c in (inside_2026, unmoved, withdrawn)}

    out = io.StringIO()
    call_command("load_calendar", "--file", str(notice_file(tmp_path / "2027.csv")), stdout=out)
    assert (
        "2027: 14 created, 7 updated, 0 deleted, 0 unchanged, now published; 1 open cases moved"
        in out.getvalue()
    )
    assert "0 open cases have dates in a provisional year" in out.getvalue()
    assert CalendarYear.objects.get(agency=None, year=2027).status == "published"

    extended.refresh_from_db()
    # Published: 02-05 to 02-11 off, Saturday 02-20 a working day.
    assert extended.reply_due_on == d("2027-02-20")
    assert due_events(extended)[-1] == {
        "field": "reply_due_on",
        "previous": "2027-02-17",
        "new": "2027-02-20",
        "reason": "calendar changed: national 2027 schedule loaded from 2027.csv",
    }
    assert extended.clock["provisional_years"] == []
    unmoved.refresh_from_db()
    assert unmoved.reply_due_on == d("2027-01-04")
    assert unmoved.clock["provisional_years"] == []  # no longer provisional, and no event
    for case in (inside_2026, unmoved, withdrawn):
        assert len(due_events(case)) == events_before[case.pk]
    withdrawn.refresh_from_db()
    assert withdrawn.clock["provisional_years"] == [2027]  # concluded: history, not recomputed


def test_the_example_notice_keeps_the_statutory_days():
    off, _ = EXAMPLE_NOTICE_2027
    assert set(statutory_holidays(2027)) <= off
