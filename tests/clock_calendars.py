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
    2020: (
        _days(
            "2020-01-01",
            "2020-01-24/2020-02-02",  # extended to 2 February (国办发明电〔2020〕1号)
            "2020-04-04/2020-04-06",
            "2020-05-01/2020-05-05",
            "2020-06-25/2020-06-27",
            "2020-10-01/2020-10-08",
        ),
        _days("2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10"),
    ),
    2021: (
        _days(
            "2021-01-01/2021-01-03",
            "2021-02-11/2021-02-17",
            "2021-04-03/2021-04-05",
            "2021-05-01/2021-05-05",
            "2021-06-12/2021-06-14",
            "2021-09-19/2021-09-21",
            "2021-10-01/2021-10-07",
        ),
        _days(
            "2021-02-07",
            "2021-02-20",
            "2021-04-25",
            "2021-05-08",
            "2021-09-18",
            "2021-09-26",
            "2021-10-09",
        ),
    ),
    2022: (
        _days(
            "2022-01-01/2022-01-03",
            "2022-01-31/2022-02-06",
            "2022-04-03/2022-04-05",
            "2022-04-30/2022-05-04",
            "2022-06-03/2022-06-05",
            "2022-09-10/2022-09-12",
            "2022-10-01/2022-10-07",
        ),
        _days(
            "2022-01-29",
            "2022-01-30",
            "2022-04-02",
            "2022-04-24",
            "2022-05-07",
            "2022-10-08",
            "2022-10-09",
        ),
    ),
    2023: (
        _days(
            "2023-01-01/2023-01-02",  # the break began on 2022-12-31, a Saturday
            "2023-01-21/2023-01-27",
            "2023-04-05",
            "2023-04-29/2023-05-03",
            "2023-06-22/2023-06-24",
            "2023-09-29/2023-10-06",
        ),
        _days(
            "2023-01-28",
            "2023-01-29",
            "2023-04-23",
            "2023-05-06",
            "2023-06-25",
            "2023-10-07",
            "2023-10-08",
        ),
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


# Not a real notice: the State Council has not published 2027's arrangement (today is
# 2026-12-04). A plausible one, shaped like 2026's, for the tests of publishing a provisional
# year: every statutory holiday of 2027 plus 补假, bridging days and 调休 working weekends.
EXAMPLE_NOTICE_2027 = (
    _days(
        "2027-01-01/2027-01-03",
        "2027-02-05/2027-02-11",
        "2027-04-03/2027-04-05",
        "2027-05-01/2027-05-05",
        "2027-06-09",
        "2027-09-15",
        "2027-10-01/2027-10-07",
    ),
    _days("2027-02-20", "2027-04-25", "2027-09-26", "2027-10-09"),
)


def notice_file(path, notice=EXAMPLE_NOTICE_2027):
    """Write a notice as the CSV ``load_calendar --file`` and the admin read (weekday days off
    and the working weekends; a weekend day off needs no row)."""
    off, on = notice
    lines = ["date,kind,name"]
    lines += [f"{day.isoformat()},休,放假" for day in sorted(off) if day.weekday() < 5]
    lines += [f"{day.isoformat()},班,调休上班" for day in sorted(on)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
