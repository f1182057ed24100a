"""Provisional calendar years (issue 11 §1, docs/clock.md): a year whose State Council notice is
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


def test_load_calendar_still_gives_every_published_year_2019_to_2026_exactly(today):
    """With the refusal rule and provisional years in place, what load_calendar loads for the
    published years is still, day by day, the State Council's arrangement (OFFICIAL, by hand)."""
    import datetime as dt

    from tests.clock_calendars import official_calendar

    today("2026-12-04")
    years = [str(y) for y in range(2019, 2027)]
    call_command("load_calendar", "--years", *years, stdout=io.StringIO())
    assert set(CalendarYear.objects.values_list("year", "status")) == {
        (y, "published") for y in range(2019, 2027)
    }
    loaded, official = calendar_for_agency(None), official_calendar(*range(2019, 2027))
    day = dt.date(2019, 1, 1)
    while day.year < 2027:
        assert loaded.is_working_day(day) is official.is_working_day(day), day
        day += dt.timedelta(days=1)
    assert loaded.provisional_years == frozenset()


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
    with pytest.raises(CalendarRefused, match="2027 年已公布安排，不能改回暂定年度"):
        calendar_year_load(
            year=2027,
            holidays=statutory_holidays(2027),
            workdays={},
            source="x",
            status=CalendarYear.Status.PROVISIONAL,
        )
    assert CalendarYear.objects.get(agency=None, year=2027).status == "published"


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


# --- every provisional date says so, wherever it is shown ------------------------------------
def _applicant_case(office, handler):
    """An online application received 2026-12-04, with its access code."""
    from requests_app.services.intake import case_submit
    from tests.factories import application_fields

    case, code = case_submit(
        agency=office, fields=application_fields(), submitted_at=at("2026-12-04", hour=9)
    )
    case = svc.case_confirm_receipt(
        case=case, actor=handler, received_on=d("2026-12-04"), effective_at=at("2026-12-04")
    )
    return svc.case_start_processing(case=case, actor=handler, effective_at=at("2026-12-04")), code


def _shown(client, handler, case, code):
    """What the admin page, the admin list, the staff API and the public API show."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    root = get_user_model().objects.create_superuser(
        f"root{CaseEvent.objects.count()}", "root@example.com", "pass-123456"
    )
    client.force_login(root)
    page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    listing = client.get("/admin/requests_app/case/").content.decode()
    staff = APIClient()
    staff.force_authenticate(handler)
    detail = staff.get(f"/api/v1/staff/cases/{case.pk}/").json()
    rows = staff.get("/api/v1/staff/cases/").json()["results"]
    public = APIClient().post(
        "/api/v1/applications/track/",
        {"tracking_number": case.tracking_number, "access_code": code},
        format="json",
    )
    return page, listing, detail, rows, public.json()


CLAUSE = "（该日期按法定节假日计算，2027年放假安排公布后可能调整）"


def test_every_provisional_date_says_so_until_the_notice_is_loaded(
    client, office, handler, approver, today, tmp_path, settings
):
    from requests_app.admin.display import clock_sections
    from requests_app.models import Notification
    from requests_app.services.letters import letter_draft

    settings.MEDIA_ROOT = str(tmp_path / "media")
    today("2026-12-04")
    load_official(2026)
    calendar_year_provisional(year=2027)
    case, code = _applicant_case(office, handler)
    assert case.reply_due_on == d("2027-01-04")

    # The deadline explanation: the reply is marked, the 补正 notice (in 2026) is not.
    titles = [section["title"] for section in clock_sections(case.clock)]
    assert "答复期限：2027-01-04（暂定）" in titles
    assert "补正告知期限：2026-12-15" in titles
    warning = next(s for s in clock_sections(case.clock) if s["title"].startswith("暂定期限"))
    assert warning["title"] == "暂定期限：2027 年放假安排尚未公布"
    assert warning["lines"][0] == (
        "答复期限按《全国年节及纪念日放假办法》规定的法定节假日计算，未计调休；"
    )

    page, listing, detail, rows, public = _shown(client, handler, case, code)
    assert "<strong>2027年1月4日（暂定）</strong>" in page  # the summary line
    assert '<div class="readonly">2027年1月4日（暂定）</div>' in page  # the 期限 fields
    assert '<div class="readonly">2026年12月15日</div>' in page  # 补正告知期限: in 2026
    assert "暂定期限：2027 年放假安排尚未公布" in page
    assert "2027-01-04（暂定）" in listing
    assert detail["due_provisional"] is True
    assert detail["clock"]["provisional_due"] == {"reply_due_on": [2027]}
    assert next(r for r in rows if r["id"] == case.pk)["due_provisional"] is True
    assert (public["reply_due_on"], public["due_provisional"]) == ("2027-01-04", True)

    # The applicant's e-mail and letter carry the clause beside the date.
    mail = Notification.objects.get(case=case, channel="email", subject__contains="已收到")
    assert f"本机关将在 2027-01-04{CLAUSE} 前答复。" in mail.body
    receipt = letter_draft(case=case, actor=approver, kind="registration_receipt")
    assert f"在2027年1月4日{CLAUSE}前作出答复" in "".join(receipt.content["paragraphs"])

    # The notice is loaded: no mark anywhere, and the next letter has no clause.
    call_command("load_calendar", "--file", str(notice_file(tmp_path / "2027.csv")))
    case.refresh_from_db()
    assert case.reply_due_on == d("2027-01-04")
    assert not any("暂定" in s["title"] for s in clock_sections(case.clock))
    page, listing, detail, rows, public = _shown(client, handler, case, code)
    assert "<strong>2027年1月4日</strong>" in page
    assert "暂定" not in page.split('id="case-history"')[0]
    assert detail["due_provisional"] is False
    assert next(r for r in rows if r["id"] == case.pk)["due_provisional"] is False
    assert public["due_provisional"] is False
    again = letter_draft(case=case, actor=approver, kind="registration_receipt")
    paragraphs = "".join(again.content["paragraphs"])
    assert "在2027年1月4日前作出答复" in paragraphs
    assert "放假安排" not in paragraphs


# --- the admin's calendar pages -------------------------------------------------------------
@pytest.fixture
def root_client(client):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", "pass-123456")
    client.force_login(root)
    return client


YEAR_ADD = "/admin/requests_app/calendaryear/add/"


def _errors(response) -> str:
    from django.utils.html import strip_tags

    return strip_tags(response.content.decode())


def test_the_admin_adds_a_year_provisional_or_published_never_empty(root_client, tmp_path):
    # Published from the library: it has no 2027 notice, so it is refused, nothing stored.
    response = root_client.post(YEAR_ADD, {"year": "2027", "arrangement": "library"})
    assert response.status_code == 200
    assert "holidays 库尚无 2027 年国务院办公厅的安排" in _errors(response)
    # Published from a file that lacks statutory holidays: refused with the days it lacks.
    partial = tmp_path / "partial.csv"
    partial.write_text("date,kind,name\n2027-01-01,休,元旦\n", encoding="utf-8")
    with partial.open("rb") as upload:
        response = root_client.post(
            YEAR_ADD, {"year": "2027", "arrangement": "file", "notice_file": upload}
        )
    assert response.status_code == 200
    assert "2027 年的安排缺少法定节假日：2027-02-05 农历除夕、2027-02-08 春节" in _errors(response)
    # No file at all: refused too. (The old form stored an empty known year here.)
    response = root_client.post(YEAR_ADD, {"year": "2027", "arrangement": "file"})
    assert "请选择通知安排文件" in _errors(response)
    assert not CalendarYear.objects.exists()
    assert not CalendarDay.objects.exists()

    # Provisional: the statutory holidays, nothing else.
    response = root_client.post(YEAR_ADD, {"year": "2027", "arrangement": "provisional"})
    assert response.status_code == 302, _errors(response)[:3000]
    year = CalendarYear.objects.get(agency=None, year=2027)
    assert (year.status, year.source) == (
        "provisional",
        "《全国年节及纪念日放假办法》（法定节假日，暂定）",
    )
    assert dict(CalendarDay.objects.values_list("date", "name")) == statutory_holidays(2027)

    # Its change page loads the notice from a file: the year becomes published.
    change = f"/admin/requests_app/calendaryear/{year.pk}/change/"
    assert (
        "暂定：按《全国年节及纪念日放假办法》载入法定节假日"
        in root_client.get(change).content.decode()
    )
    with notice_file(tmp_path / "2027.csv").open("rb") as upload:
        response = root_client.post(
            change, {"source": "", "arrangement": "file", "notice_file": upload}
        )
    assert response.status_code == 302, _errors(response)[:3000]
    year.refresh_from_db()
    assert (year.status, year.source) == ("published", "2027.csv")
    assert CalendarDay.objects.get(date=d("2027-02-20")).kind == "workday"
    # A published year cannot be turned back into a provisional one.
    response = root_client.post(change, {"source": "", "arrangement": "provisional"})
    assert response.status_code == 200
    year.refresh_from_db()
    assert year.status == "published"


def test_the_admin_refuses_to_take_a_statutory_holiday_out(root_client):
    calendar_year_provisional(year=2027)
    new_year = CalendarDay.objects.get(date=d("2027-01-01"))
    change = f"/admin/requests_app/calendarday/{new_year.pk}/change/"
    response = root_client.post(
        change, {"date": "2027-01-01", "kind": "workday", "name": "上班", "agency": ""}
    )
    assert response.status_code == 200
    assert "2027-01-01 是法定节假日（元旦，《全国年节及纪念日放假办法》）" in _errors(response)
    response = root_client.post(
        "/admin/requests_app/calendarday/add/",
        {"date": "2027-02-20", "kind": "workday", "name": "调休上班", "agency": ""},
    )
    assert "2027 年为暂定年度" in _errors(response)

    response = root_client.post(
        f"/admin/requests_app/calendarday/{new_year.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "未删除：2027-01-01 是法定节假日" in _errors(response)
    response = root_client.post(
        "/admin/requests_app/calendarday/",
        {"action": "delete_selected_days", "_selected_action": [new_year.pk], "post": "yes"},
        follow=True,
    )
    assert "未删除任何日期：2027-01-01 是法定节假日" in _errors(response)
    assert CalendarDay.objects.get(date=d("2027-01-01")).kind == "holiday"
    assert CalendarDay.objects.filter(date__year=2027).count() == 13
    # A statutory holiday on a weekend needs no row: removing that one is allowed.
    saturday = CalendarDay.objects.get(date=d("2027-05-01"))
    response = root_client.post(
        f"/admin/requests_app/calendarday/{saturday.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(date=d("2027-05-01")).exists()


# --- the pure clock: which dates are marked ------------------------------------------------
def test_the_clock_marks_exactly_the_dates_computed_across_a_provisional_year():
    from requests_app.clock import ClockEvent, ClockRules, compute_clock, provisional_clause
    from tests.clock_calendars import official_calendar

    calendar = official_calendar(2026).with_overrides(
        holidays=statutory_holidays(2027), provisional_years={2027}
    )

    def clock(*events):
        return compute_clock(
            received_on=d("2026-12-04"),
            state="awaiting_fee" if events else "processing",
            events=list(events),
            calendar=calendar,
            rules=ClockRules(),
        )

    plain = clock()
    assert (plain.reply_due_on, plain.supplement_notice_due_on) == (
        d("2027-01-04"),
        d("2026-12-15"),
    )
    assert plain.provisional == {"reply_due_on": (2027,)}
    assert plain.missing_years == ()

    fee = clock(ClockEvent("issue_fee_notice", d("2026-12-21")))
    # 20 working days after 12-21, 2027-01-01 not counted.
    assert fee.fee_due_on == d("2027-01-19")
    assert fee.provisional == {"reply_due_on": (2027,), "fee_due_on": (2027,)}
    assert fee.explanation["provisional_due"] == {
        "reply_due_on": [2027],
        "fee_due_on": [2027],
    }

    fixed = compute_clock(
        received_on=d("2026-12-04"),
        state="processing",
        events=[ClockEvent("set_later_reply_date", d("2026-12-10"), {"reply_by": "2027-03-01"})],
        calendar=calendar,
        rules=ClockRules(),
    )
    assert fixed.reply_due_on == d("2027-03-01")
    assert fixed.provisional == {}  # a date the agency fixed (Art 35) is not computed

    assert provisional_clause([2027]) == CLAUSE
    assert provisional_clause([]) == ""


def test_the_caseworkers_reminder_says_the_deadline_is_provisional():
    from requests_app.clock import REMIND, Action
    from requests_app.models import Case
    from requests_app.services.sweep import _message

    action = Action(REMIND, "reply_due_on", d("2027-01-04"), d("2026-12-28"), 5)
    provisional = Case(tracking_number="GK1", clock={"provisional_due": {"reply_due_on": [2027]}})
    _, _, body = _message(provisional, action)
    assert body == f"申请 GK1 的答复期限为 2027-01-04{CLAUSE}，还有 5 个工作日，请及时办理。"
    _, _, body = _message(Case(tracking_number="GK1", clock={}), action)
    assert body == "申请 GK1 的答复期限为 2027-01-04，还有 5 个工作日，请及时办理。"
