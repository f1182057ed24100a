"""Working-day arithmetic on real years (docs/law.md, 'Working days'): hand-counted dates and
properties."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.deadlines import MissingCalendarYear, WorkCalendar
from tests.clock_calendars import OFFICIAL, d, official_calendar

CAL = official_calendar()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 2018 Spring Festival: Feb 15-21 off, Sunday Feb 11 and Saturday Feb 24 worked.
        ("2018-02-14", 1, "2018-02-22"),
        ("2018-02-09", 1, "2018-02-11"),  # the 调休 Sunday is the first working day
        ("2018-02-09", 4, "2018-02-14"),
        ("2018-02-09", 5, "2018-02-22"),
        ("2018-02-09", 7, "2018-02-24"),  # a working Saturday
        ("2018-02-09", 8, "2018-02-26"),
        ("2018-02-09", 15, "2018-03-07"),  # the 2008 regulation's 15 days
        # 2018 National Day week: Sep 29-30 worked, Oct 1-7 off.
        ("2018-09-28", 1, "2018-09-29"),
        ("2018-09-28", 2, "2018-09-30"),
        ("2018-09-28", 3, "2018-10-08"),
        # The 2018/2019 boundary: Dec 29 (Sat) worked, Dec 30 - Jan 1 off.
        ("2018-12-28", 1, "2018-12-29"),
        ("2018-12-28", 2, "2019-01-02"),
        # 2024 Spring Festival: Feb 10-17 off, Sundays Feb 4 and Feb 18 worked.
        ("2024-02-02", 1, "2024-02-04"),
        ("2024-02-02", 7, "2024-02-18"),
        ("2024-02-02", 20, "2024-03-06"),
        # 2024 National Day: Sep 29 (Sun) and Oct 12 (Sat) worked.
        ("2024-09-25", 7, "2024-10-10"),
        ("2024-09-25", 9, "2024-10-12"),
        ("2024-09-25", 20, "2024-10-28"),
        # The 2024/2025 boundary and the 2025 Spring Festival (Jan 26, a Sunday, worked).
        ("2024-12-30", 2, "2025-01-02"),
        ("2024-12-30", 19, "2025-01-26"),
        ("2024-12-30", 20, "2025-01-27"),
        # 2026: Jan 1-3 off, Sunday Jan 4 worked; Spring Festival Feb 15-23 off, Feb 14/28 worked.
        ("2025-12-31", 1, "2026-01-04"),
        ("2026-02-12", 2, "2026-02-14"),
        ("2026-02-12", 3, "2026-02-24"),
        ("2026-02-12", 7, "2026-02-28"),
        ("2026-02-12", 20, "2026-03-18"),
        # Starting on a holiday or a weekend: the start is never counted.
        ("2024-10-01", 1, "2024-10-08"),
        ("2026-02-15", 1, "2026-02-24"),
        ("2024-06-08", 1, "2024-06-11"),  # Saturday before the Dragon Boat Monday
        ("2024-10-11", 0, "2024-10-11"),
    ],
)
def test_add_working_days_on_real_years(start, n, expected):
    assert CAL.add_working_days(d(start), n) == d(expected)
    assert CAL.count_working_days(d(start), d(expected)) == n


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2024-10-28", -5, "2024-10-21"),
        ("2024-10-28", -1, "2024-10-25"),
        ("2024-10-08", -1, "2024-09-30"),
        ("2024-10-08", -2, "2024-09-29"),  # back over the week to the 调休 Sunday
        ("2026-02-24", -1, "2026-02-14"),
        ("2019-01-02", -1, "2018-12-29"),
    ],
)
def test_subtracting_working_days(start, n, expected):
    assert CAL.add_working_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2018-02-09", "2018-02-28", 10),
        ("2024-09-30", "2024-10-07", 0),  # the whole National Day break
        # Sep 29 (Sun, worked), Sep 30, Oct 8, 9, 10, 11 and Oct 12 (Sat, worked).
        ("2024-09-27", "2024-10-13", 7),
        ("2024-10-10", "2024-10-10", 0),
        ("2024-10-11", "2024-10-10", 0),
        ("2024-12-31", "2025-01-01", 0),
        ("2018-12-28", "2019-01-02", 2),
        ("2026-02-13", "2026-02-28", 6),
    ],
)
def test_count_working_days(a, b, expected):
    assert CAL.count_working_days(d(a), d(b)) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2018-02-11", True),  # 调休 Sunday
        ("2018-02-15", False),
        ("2024-02-18", True),  # 调休 Sunday
        ("2024-02-17", False),  # a Saturday inside the break
        ("2024-10-12", True),  # 调休 Saturday
        ("2024-10-13", False),
        ("2026-01-04", True),
        ("2026-02-16", False),  # 除夕, a holiday since 2025
        ("2026-02-23", False),  # Monday, off
        ("2026-03-02", True),
        ("2025-05-31", False),
    ],
)
def test_is_working_day(day, expected):
    assert CAL.is_working_day(d(day)) is expected


def test_next_working_day():
    assert CAL.next_working_day(d("2024-09-30")) == d("2024-10-08")
    assert CAL.next_working_day(d("2024-10-11")) == d("2024-10-12")
    assert CAL.next_working_day(d("2018-12-29")) == d("2019-01-02")
    assert CAL.working_day_on_or_after(d("2024-10-12")) == d("2024-10-12")
    assert CAL.working_day_on_or_after(d("2024-10-13")) == d("2024-10-14")


def test_missing_years_are_reported_not_guessed():
    cal = official_calendar(2024)
    due = cal.add_working_days(d("2024-12-20"), 20)
    # Provisional date by the weekend rule only (2025's holidays are unknown to this calendar).
    assert due == d("2025-01-17")
    assert cal.missing_years(d("2024-12-20"), due) == [2025]
    assert cal.missing_years(d("2024-03-01"), d("2024-04-01")) == []
    strict = official_calendar(2024, strict=True)
    with pytest.raises(MissingCalendarYear) as raised:
        strict.add_working_days(d("2024-12-20"), 20)
    assert raised.value.years == [2025]
    assert "2025" in str(raised.value)


def test_local_overrides_win():
    local = CAL.with_overrides(holidays={d("2024-10-12")}, workdays={d("2024-10-07")})
    assert local.is_working_day(d("2024-10-12")) is False
    assert local.is_working_day(d("2024-10-07")) is True
    assert CAL.is_working_day(d("2024-10-12")) is True
    assert local.add_working_days(d("2024-09-30"), 1) == d("2024-10-07")


def test_a_date_cannot_be_both():
    with pytest.raises(ValueError):
        WorkCalendar(holidays={d("2024-10-12")}, workdays={d("2024-10-12")})


def test_official_schedules_agree_with_the_holidays_library():
    """The seed is right for the years tested: same weekdays off, same 调休 working weekends."""
    from requests_app.calendars import library_schedule

    for year, (off, on) in OFFICIAL.items():
        names, workdays = library_schedule(year)
        assert workdays == on, year
        assert {day for day in names if day.weekday() < 5} == {
            day for day in off if day.weekday() < 5
        }, year


# --- properties --------------------------------------------------------------------------------
dates = st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2026, 6, 30))
PROPERTY_CAL = official_calendar()


@settings(max_examples=400, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_results_are_working_days_and_count_back(start, n):
    due = PROPERTY_CAL.add_working_days(start, n)
    assert PROPERTY_CAL.is_working_day(due)
    assert PROPERTY_CAL.count_working_days(start, due) == n
    assert PROPERTY_CAL.count_working_days(start, due - dt.timedelta(days=1)) == n - 1
    assert PROPERTY_CAL.add_working_days(start, n + 1) > due


@settings(max_examples=300, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=40))
def test_subtraction_inverts_addition_on_working_days(start, n):
    start = PROPERTY_CAL.working_day_on_or_after(start)
    assert PROPERTY_CAL.add_working_days(PROPERTY_CAL.add_working_days(start, n), -n) == start


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates, c=dates)
def test_counting_is_additive(a, b, c):
    a, b, c = sorted((a, b, c))
    cal = PROPERTY_CAL
    assert cal.count_working_days(a, c) == cal.count_working_days(a, b) + cal.count_working_days(
        b, c
    )
    assert cal.count_working_days(a, c) == len(cal.working_days_in(a, c))
