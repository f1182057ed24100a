"""Load the working-day calendar of an agency from the calendar rows (docs/clock.md).

An agency's calendar is the national one (rows without an agency) overridden by the rows of its
ancestors and then its own (a local holiday, or a local make-up working day): the deeper the
agency, the later it applies. Known years are the national years plus any year an ancestor
(or the agency) loaded for itself; a year is provisional when one of those rows is (before the
State Council's notice: statutory holidays only, see ``statutory_holidays``).

Calendars are cached in the process, keyed by the agency's path and a version number kept in
Django's cache; every write to the calendar rows bumps the version (``calendar_changed``), so
every process reloads on its next use.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading

from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from requests_app.deadlines import WorkCalendar
from requests_app.models import Agency, CalendarDay, CalendarYear

VERSION_KEY = "requests_app:calendar-version"
_lock = threading.Lock()
_cache: dict[tuple[str, object], WorkCalendar] = {}


def _version() -> object:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, 1)
            version = cache.get(VERSION_KEY, 1)
        return version
    except Exception:  # an unreachable cache server must not stop deadlines: no caching then
        return object()


def calendar_changed() -> None:
    """Forget every cached calendar, in this process and (through the cache) in all others."""
    with _lock:
        _cache.clear()
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)
    except Exception:  # noqa: S110 - the local clear above still applies
        pass


def _scope_paths(agency: Agency | None) -> list[str]:
    return agency.ancestors_and_self_paths() if agency is not None else []


def _build(agency: Agency | None) -> WorkCalendar:
    paths = _scope_paths(agency)
    scope = Q(agency__isnull=True)
    if paths:
        scope |= Q(agency__path__in=paths)
    rows = CalendarDay.objects.filter(scope).values_list("date", "kind", "agency__depth")
    # National first, then ancestors from the root down, then the agency: later rows win.
    by_date: dict = {}
    for day, kind, _depth in sorted(rows, key=lambda r: (-1 if r[2] is None else r[2], r[0])):
        by_date[day] = kind
    holidays = {d for d, k in by_date.items() if k == CalendarDay.Kind.HOLIDAY}
    workdays = {d for d, k in by_date.items() if k == CalendarDay.Kind.WORKDAY}
    years = set()
    provisional = set()
    for year, status in CalendarYear.objects.filter(scope).values_list("year", "status"):
        years.add(year)
        if status == CalendarYear.Status.PROVISIONAL:
            provisional.add(year)
    return WorkCalendar(
        holidays=holidays, workdays=workdays, known_years=years, provisional_years=provisional
    )


def calendar_for_agency(agency: Agency | None) -> WorkCalendar:
    """The working-day calendar that applies to ``agency`` (national when ``None``)."""
    key = (agency.path if agency is not None else "", _version())
    found = _cache.get(key)
    if found is None:
        found = _build(agency)
        with _lock:
            if len(_cache) > 1000:
                _cache.clear()
            _cache[key] = found
    return found


@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarYear)
def _calendar_row_changed(**kwargs) -> None:
    # Cache invalidation only; recomputing deadlines is the services' job
    # (requests_app.services.clock.calendar_dates_changed).
    calendar_changed()


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """{date: name} of the holidays the law itself fixes for ``year``, before any notice.

    《全国年节及纪念日放假办法》 (as amended in 2024, in force 2025-01-01, Art 2): 元旦 1 day,
    春节 4 days (农历除夕 to 正月初三), 清明节 1, 劳动节 2 (1–2 May), 端午节 1, 中秋节 1,
    国庆节 3 (1–3 October); earlier years follow the text then in force (the ``holidays``
    package knows each revision and the lunar dates). Only these days: a weekend holiday's
    day off (补假) and the 调休 are what the State Council's annual notice decides, so the
    package's observed days and the published special days are left out.
    """
    return dict(_statutory_holidays(year))


@functools.lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    from holidays.countries.china import China

    class StatutoryChina(China):
        def _populate_common_holidays(self):
            self.has_special_holidays = False  # the notices' own days: not the law's
            super()._populate_common_holidays()

    found = StatutoryChina(years=year, observed=False, language="zh_CN")
    return tuple(sorted((day, str(name)) for day, name in found.items() if day.year == year))


# The ``source`` of a year loaded from the holidays library, as the calendar page shows it.
LIBRARY_SOURCE = "内置节假日数据"


def library_schedule(year: int) -> tuple[dict, set] | None:
    """(holidays {date: name}, make-up working days) for ``year`` from the ``holidays`` library,
    or ``None`` when the library does not know that year's announced schedule."""
    import holidays

    calendar = holidays.China(years=year, language="zh_CN")
    workdays = {d for d in calendar.weekend_workdays if d.year == year}
    if not workdays:
        return None
    names = {d: str(name) for d, name in calendar.items() if d.year == year}
    return names, workdays
