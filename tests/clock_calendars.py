"""Official holiday schedules (国务院办公厅 notices), written out by hand for the clock tests.

Independent of the ``holidays`` library on purpose: the tests check the library's seed
against these, and the arithmetic against dates counted by hand from them.
"""

import datetime as dt

from requests_app.deadlines import WorkCalendar


def _span(first: str, last: str) -> set[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}


def _days(*items: str) -> set[dt.date]:
    found: set[dt.date] = set()
    for item in items:
        found |= _span(*item.split("/")) if "/" in item else {dt.date.fromisoformat(item)}
    return found


# Days off (every day of each break, weekends included) and 调休 working weekends.
OFFICIAL = {
    2018: (
        _days(
            "2018-01-01",
            "2018-02-15/2018-02-21",
            "2018-04-05/2018-04-07",
            "2018-04-29/2018-05-01",
            "2018-06-16/2018-06-18",
            "2018-09-22/2018-09-24",
            "2018-10-01/2018-10-07",
            "2018-12-30/2018-12-31",
        ),
        _days(
            "2018-02-11",
            "2018-02-24",
            "2018-04-08",
            "2018-04-28",
            "2018-09-29",
            "2018-09-30",
            "2018-12-29",
        ),
    ),
    2019: (
        _days(
            "2019-01-01",
            "2019-02-04/2019-02-10",
            "2019-04-05/2019-04-07",
            "2019-05-01/2019-05-04",
            "2019-06-07/2019-06-09",
            "2019-09-13/2019-09-15",
            "2019-10-01/2019-10-07",
        ),
        _days("2019-02-02", "2019-02-03", "2019-04-28", "2019-05-05", "2019-09-29", "2019-10-12"),
    ),
    2024: (
        _days(
            "2024-01-01",
            "2024-02-10/2024-02-17",
            "2024-04-04/2024-04-06",
            "2024-05-01/2024-05-05",
            "2024-06-10",
            "2024-09-15/2024-09-17",
            "2024-10-01/2024-10-07",
        ),
        _days(
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
        ),
    ),
    2025: (
        _days(
            "2025-01-01",
            "2025-01-28/2025-02-04",
            "2025-04-04/2025-04-06",
            "2025-05-01/2025-05-05",
            "2025-05-31/2025-06-02",
            "2025-10-01/2025-10-08",
        ),
        _days("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    ),
    2026: (
        _days(
            "2026-01-01/2026-01-03",
            "2026-02-15/2026-02-23",
            "2026-04-04/2026-04-06",
            "2026-05-01/2026-05-05",
            "2026-06-19/2026-06-21",
            "2026-09-25/2026-09-27",
            "2026-10-01/2026-10-07",
        ),
        _days("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"),
    ),
}


def official_calendar(*years: int, strict: bool = False) -> WorkCalendar:
    years = years or tuple(OFFICIAL)
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year in years:
        off, on = OFFICIAL[year]
        holidays |= off
        workdays |= on
    return WorkCalendar(holidays=holidays, workdays=workdays, known_years=years, strict=strict)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(day: str, hour: int = 10) -> dt.datetime:
    """An aware moment on ``day`` in Asia/Shanghai (for effective_at)."""
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(d(day), dt.time(hour)))


def load_official(*years: int, agency=None) -> None:
    """Load the hand-written schedules into the calendar tables through the service."""
    from requests_app.services.calendar import calendar_year_load

    for year in years:
        off, on = OFFICIAL[year]
        # Rows are exceptional dates only: weekend days inside a break need no row.
        holidays = {day: "假日" for day in off if day.weekday() < 5}
        calendar_year_load(
            year=year, holidays=holidays, workdays=on, source="国务院办公厅通知", agency=agency
        )


def case_received(agency, actor, received_on: str, *, state: str = "processing", **fields):
    """An online application received on ``received_on`` and taken to ``state`` by the
    services (registered or processing), with its events dated that day."""
    from requests_app.services import cases as svc
    from requests_app.services.intake import case_submit
    from tests.factories import application_fields

    moment = at(received_on)
    case, _ = case_submit(agency=agency, fields=application_fields(**fields), submitted_at=moment)
    case = svc.case_confirm_receipt(
        case=case, actor=actor, received_on=d(received_on), effective_at=moment
    )
    if state == "processing":
        case = svc.case_start_processing(case=case, actor=actor, effective_at=moment)
    return case
