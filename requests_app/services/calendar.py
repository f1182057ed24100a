"""Changes to the working-day calendar (DOMAIN.md §2): rows, whole years, and their effect.

Every change goes through these functions, which forget the cached calendars and move the
deadlines of the open cases the changed dates touch (``calendar_dates_changed``), recording
each moved due date as a ``due_changed`` event with the reason ``"calendar changed: ..."``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from requests_app.calendars import calendar_changed
from requests_app.models import Agency, CalendarDay, CalendarYear
from requests_app.services.clock import calendar_dates_changed

KIND_ALIASES = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "休息": CalendarDay.Kind.HOLIDAY,
    "假": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
    "上班": CalendarDay.Kind.WORKDAY,
    "调休上班": CalendarDay.Kind.WORKDAY,
}


@dataclass
class YearLoadResult:
    year: int
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    year_created: bool = False
    cases_moved: int = 0
    changed_dates: list[dt.date] = field(default_factory=list)


def _scope(agency: Agency | None) -> Q:
    return Q(agency__isnull=True) if agency is None else Q(agency=agency)


def _describe(agency: Agency | None, text: str) -> str:
    where = agency.code if agency is not None else "national"
    return f"{where} {text}"


def calendar_day_set(
    *, day: dt.date, kind: str, name: str = "", agency: Agency | None = None, actor=None
) -> tuple[CalendarDay, int]:
    """Create or change one exceptional date; returns the row and how many cases moved."""
    kind = KIND_ALIASES.get(kind, kind)
    with transaction.atomic():
        row, created = CalendarDay.objects.select_for_update().get_or_create(
            agency=agency, date=day, defaults={"kind": kind, "name": name}
        )
        if not created and (row.kind, row.name) != (kind, name):
            row.kind, row.name = kind, name
            row.save(update_fields=["kind", "name"])
        calendar_changed()
        moved = calendar_dates_changed(
            dates=[day],
            agency=agency,
            actor=actor,
            description=_describe(agency, f"{day.isoformat()} {kind} {name}".strip()),
        )
    return row, moved


def calendar_rows_changed(
    *, dates: Iterable[dt.date], agency: Agency | None, actor=None, description: str
) -> int:
    """After rows were written elsewhere (the admin's forms): forget caches, move deadlines."""
    calendar_changed()
    return calendar_dates_changed(
        dates=list(dates), agency=agency, actor=actor, description=_describe(agency, description)
    )


def calendar_day_delete(*, row: CalendarDay, actor=None) -> int:
    """Remove one exceptional date (the day reverts to the weekend rule)."""
    with transaction.atomic():
        day, agency, kind = row.date, row.agency, row.kind
        row.delete()
        return calendar_rows_changed(
            dates=[day], agency=agency, actor=actor, description=f"{day.isoformat()} {kind} removed"
        )


def calendar_year_load(
    *,
    year: int,
    holidays: Mapping[dt.date, str],
    workdays: Mapping[dt.date, str] | Iterable[dt.date],
    source: str,
    agency: Agency | None = None,
    replace: bool = False,
    actor=None,
) -> YearLoadResult:
    """Load a year's schedule: upsert its rows and mark the year known. Idempotent.

    With ``replace`` the year's rows become exactly the given ones (others of that year and
    scope are deleted). Raises ValueError for a date outside ``year`` or in both lists.
    """
    if not isinstance(workdays, Mapping):
        workdays = {d: "调休上班" for d in workdays}
    wanted: dict[dt.date, tuple[str, str]] = {}
    for day, name in holidays.items():
        wanted[day] = (CalendarDay.Kind.HOLIDAY, name or "")
    for day, name in workdays.items():
        if day in wanted:
            raise ValueError(f"{day} is both a holiday and a working day")
        wanted[day] = (CalendarDay.Kind.WORKDAY, name or "调休上班")
    outside = sorted(d for d in wanted if d.year != year)
    if outside:
        raise ValueError(f"dates outside {year}: {', '.join(d.isoformat() for d in outside)}")

    result = YearLoadResult(year=year)
    with transaction.atomic():
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(
                _scope(agency), date__year=year
            )
        }
        to_create, to_update = [], []
        for day, (kind, name) in sorted(wanted.items()):
            row = existing.get(day)
            if row is None:
                to_create.append(CalendarDay(agency=agency, date=day, kind=kind, name=name))
                result.changed_dates.append(day)
            elif (row.kind, row.name) != (kind, name):
                if row.kind != kind:
                    result.changed_dates.append(day)
                row.kind, row.name = kind, name
                to_update.append(row)
            else:
                result.unchanged += 1
        stale = [row for day, row in existing.items() if day not in wanted] if replace else []
        CalendarDay.objects.bulk_create(to_create)
        CalendarDay.objects.bulk_update(to_update, ["kind", "name"])
        if stale:
            CalendarDay.objects.filter(pk__in=[r.pk for r in stale]).delete()
            result.changed_dates.extend(r.date for r in stale)
        result.created, result.updated, result.deleted = len(to_create), len(to_update), len(stale)
        _, result.year_created = CalendarYear.objects.get_or_create(
            agency=agency, year=year, defaults={"source": source}
        )
        if result.year_created:
            # A year becoming known can move every provisional date in it.
            result.changed_dates.extend([dt.date(year, 1, 1), dt.date(year, 12, 31)])
        if result.changed_dates:
            result.cases_moved = calendar_rows_changed(
                dates=result.changed_dates,
                agency=agency,
                actor=actor,
                description=f"{year} schedule loaded from {source}",
            )
    return result


def calendar_year_remove(*, year_row: CalendarYear, actor=None) -> int:
    """Forget that a year is known (its dates become provisional and flagged again)."""
    with transaction.atomic():
        year, agency = year_row.year, year_row.agency
        year_row.delete()
        return calendar_rows_changed(
            dates=[dt.date(year, 1, 1), dt.date(year, 12, 31)],
            agency=agency,
            actor=actor,
            description=f"{year} schedule removed",
        )
