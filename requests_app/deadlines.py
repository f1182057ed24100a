"""Working-day arithmetic over a Chinese calendar (docs/law.md, 'Working days'). Pure: no ORM,
no settings.

A 工作日 is a Monday-to-Friday that is not a statutory holiday, or a Saturday/Sunday declared a
make-up working day (调休上班). The calendar is data: the holidays, the make-up working days and
the years whose schedule is known (published by the State Council and loaded).

A known year is **published** (the State Council's notice: holidays and 调休) or
**provisional** (before the notice: the statutory holidays only, no 调休);
:meth:`WorkCalendar.provisional_in` tells the caller which provisional years a span touched, so
that a date computed across one is marked provisional.

A date in a year the calendar does not know at all is never guessed silently: the arithmetic
falls back to the plain weekend rule for it, and :meth:`WorkCalendar.missing_years` tells the
caller which years a span touched, so that the result is flagged. ``strict=True`` raises
:class:`MissingCalendarYear` instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

ONE_DAY = dt.timedelta(days=1)
SATURDAY = 5


class MissingCalendarYear(LookupError):
    """A date fell in a year whose holiday schedule is not loaded."""

    def __init__(self, years: Iterable[int]):
        self.years = sorted(set(years))
        super().__init__(
            "no working-day calendar loaded for "
            + ", ".join(str(y) for y in self.years)
            + " (load it with `manage.py load_calendar` or in the admin)"
        )


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays, make-up working days (调休), the years whose schedule is known, and which of
    those are provisional (statutory holidays only, the notice not yet published)."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    known_years: frozenset[int] = field(default_factory=frozenset)
    strict: bool = False
    provisional_years: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self):
        # Accept any iterable; keep the dataclass hashable and immutable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "provisional_years", frozenset(self.provisional_years))
        object.__setattr__(
            self, "known_years", frozenset(self.known_years) | self.provisional_years
        )
        overlap = self.holidays & self.workdays
        if overlap:
            raise ValueError(f"dates both holiday and working day: {sorted(overlap)}")

    # --- single days -------------------------------------------------------------------------
    def is_working_day(self, day: dt.date) -> bool:
        """A weekday that is not a holiday, or a declared make-up working day."""
        if self.strict and day.year not in self.known_years:
            raise MissingCalendarYear([day.year])
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < SATURDAY

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    # --- spans -----------------------------------------------------------------------------
    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself not counted).

        ``n == 0`` returns ``start``; a negative ``n`` counts backwards (the |n|-th working day
        before ``start``), which is how reminders "k working days before" a deadline are found.
        """
        if n == 0:
            return start
        step = ONE_DAY if n > 0 else -ONE_DAY
        remaining = abs(n)
        day = start
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def count_working_days(self, start: dt.date, end: dt.date) -> int:
        """The number of working days d with ``start < d <= end`` (0 when end <= start)."""
        if end <= start:
            return 0
        count = 0
        day = start
        while day < end:
            day += ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def working_days_in(self, start: dt.date, end: dt.date) -> set[dt.date]:
        """The working days d with ``start < d <= end``, as a set (for unions of intervals)."""
        days: set[dt.date] = set()
        day = start
        while day < end:
            day += ONE_DAY
            if self.is_working_day(day):
                days.add(day)
        return days

    def missing_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years touched by the span between the two dates (inclusive) that are not loaded."""
        if start.year == end.year:  # most spans (the clock asks for every date it adds)
            return [] if start.year in self.known_years else [start.year]
        low, high = sorted((start, end))
        return [y for y in range(low.year, high.year + 1) if y not in self.known_years]

    def provisional_in(self, start: dt.date, end: dt.date) -> list[int]:
        """Provisional years touched by the span between the two dates (inclusive)."""
        if start.year == end.year:
            return [start.year] if start.year in self.provisional_years else []
        low, high = sorted((start, end))
        return [y for y in range(low.year, high.year + 1) if y in self.provisional_years]

    def with_overrides(
        self,
        *,
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        known_years: Iterable[int] = (),
        provisional_years: Iterable[int] = (),
    ) -> WorkCalendar:
        """A calendar where the given dates override this one's (a local calendar on the
        national one): a local holiday removes a national make-up day and vice versa."""
        holidays = frozenset(holidays)
        workdays = frozenset(workdays)
        return WorkCalendar(
            holidays=(self.holidays - workdays) | holidays,
            workdays=(self.workdays - holidays) | workdays,
            known_years=self.known_years | frozenset(known_years),
            strict=self.strict,
            provisional_years=self.provisional_years | frozenset(provisional_years),
        )
