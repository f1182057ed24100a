"""Changes to the working-day calendar (docs/clock.md): rows, whole years, and their effect.

Every change goes through these functions, which forget the cached calendars and move the
deadlines of the open cases the changed dates touch (``calendar_dates_changed``), recording
each moved due date as a ``due_changed`` event with the reason ``"calendar changed: ..."``.

A national year is either **provisional** (``calendar_year_provisional``: the statutory holidays
of 《全国年节及纪念日放假办法》, before the State Council's notice) or **published**
(``calendar_year_load``: the notice's days). Publishing a provisional year recomputes every
open case whose dates touch it. No change may leave a known national year without a statutory
holiday that falls on a weekday, nor add 调休 to a provisional year piecemeal
(``calendar_day_refusal`` says why): such a change raises :class:`CalendarRefused`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from requests_app.calendars import (
    LIBRARY_SOURCE,
    calendar_changed,
    library_schedule,
    statutory_holidays,
)
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


class CalendarFileError(ValueError):
    """A calendar file that cannot be read; the message names the row and the reason
    (``message_zh``: the same in Chinese, for the admin)."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message)
        self.message_zh = message_zh


def calendar_file_read(*, name: str, text: str) -> tuple[dict[int, tuple[dict, dict]], str]:
    """Parse a calendar file: {year: (holidays {date: name}, workdays {date: name})} and its
    source label. CSV columns ``date,kind,name`` (kind ``holiday``/``workday`` or 休/班);
    JSON a list of ``{"date", "kind", "name"}`` or ``{"source": ..., "days": [...]}``.
    Raises :class:`CalendarFileError` naming the bad row."""
    source = name
    if name.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarFileError(f"not JSON: {exc}", f"不是有效的 JSON：{exc}") from exc
        if isinstance(data, dict):
            source = str(data.get("source") or source)
            data = data.get("days", [])
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CalendarFileError(
                'expected a list of {"date", "kind", "name"} objects',
                "JSON 应为 {date, kind, name} 对象的列表",
            )
        rows = [(r.get("date"), r.get("kind"), r.get("name") or "") for r in data]
    else:
        reader = csv.DictReader(text.splitlines())
        missing = {"date", "kind"} - set(reader.fieldnames or [])
        if missing:
            columns = ", ".join(sorted(missing))
            raise CalendarFileError(f"missing columns {columns}", f"缺少列：{columns}")
        rows = [(r["date"], r["kind"], r.get("name") or "") for r in reader]
    years: dict[int, tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    for number, (raw_date, raw_kind, day_name) in enumerate(rows, start=1):
        try:
            day = dt.date.fromisoformat(str(raw_date).strip())
        except ValueError as exc:
            raise CalendarFileError(
                f"row {number}: bad date {raw_date!r}", f"第 {number} 行：日期 {raw_date!r} 无效"
            ) from exc
        kind = KIND_ALIASES.get(str(raw_kind).strip())
        if kind is None:
            raise CalendarFileError(
                f"row {number}: kind must be holiday/workday, not {raw_kind!r}",
                f"第 {number} 行：类型应为 休/班（holiday/workday），不是 {raw_kind!r}",
            )
        holidays, workdays = years[day.year]
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays)[day] = str(day_name).strip()
    return dict(years), source


LAW = "《全国年节及纪念日放假办法》"
PROVISIONAL_SOURCE = f"{LAW}（法定节假日，暂定）"


class CalendarRefused(ValueError):
    """A calendar change the law does not allow; the message (Chinese) says why."""


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
    status: str = CalendarYear.Status.PUBLISHED
    published_now: bool = False  # a provisional year became published
    kept_published: bool = False  # a provisional load found the year published: nothing done


def _weekday_statutory(year: int) -> dict[dt.date, str]:
    # A statutory holiday on a weekend needs no row (the notice gives its day off elsewhere).
    return {d: n for d, n in statutory_holidays(year).items() if d.weekday() < 5}


def statutory_gaps(year: int, kinds: Mapping[dt.date, str]) -> list[tuple[dt.date, str]]:
    """The statutory holidays on weekdays of ``year`` that ``kinds`` ({date: kind}, a national
    year's rows) does not keep as holidays, as (date, name)."""
    return [
        (day, name)
        for day, name in sorted(_weekday_statutory(year).items())
        if kinds.get(day) != CalendarDay.Kind.HOLIDAY
    ]


def _gaps_message(year: int, gaps: list[tuple[dt.date, str]]) -> str:
    days = "、".join(f"{day.isoformat()} {name}" for day, name in gaps)
    return (
        f"{year} 年的安排缺少法定节假日：{days}。按{LAW}这些日子放假，"
        "日历年度不能没有它们（如有误，请核对国务院办公厅通知）。"
    )


def calendar_year_refusal(
    *,
    year: int,
    holidays: Iterable[dt.date],
    workdays: Iterable[dt.date],
    agency: Agency | None = None,
    replace: bool = False,
) -> str | None:
    """Why loading these days as ``year``'s published schedule would be refused, or ``None``
    (the check ``calendar_year_load`` makes, for a form to show before saving)."""
    if agency is not None:
        return None
    final = {} if replace else dict(_national_kinds(year))
    final.update({day: CalendarDay.Kind.HOLIDAY for day in holidays})
    final.update({day: CalendarDay.Kind.WORKDAY for day in workdays})
    gaps = statutory_gaps(year, final)
    return _gaps_message(year, gaps) if gaps else None


def _national_kinds(year: int) -> dict[dt.date, str]:
    rows = CalendarDay.objects.filter(agency__isnull=True, date__year=year)
    return dict(rows.values_list("date", "kind"))


def calendar_day_refusal(
    *, day: dt.date, kind: str | None, agency: Agency | None = None
) -> str | None:
    """Why setting ``day`` to ``kind`` (``None``: removing its row) is refused, or ``None``.

    Only the national rows of a known year are guarded: a statutory holiday on a weekday stays
    a holiday; a provisional year holds the statutory holidays only (its 调休 come with the
    notice, loaded as a whole year, never day by day).
    """
    if agency is not None:
        return None
    year_row = CalendarYear.objects.filter(agency__isnull=True, year=day.year).first()
    if year_row is None:
        return None
    statutory = _weekday_statutory(day.year)
    if day in statutory and kind != CalendarDay.Kind.HOLIDAY:
        return (
            f"{day.isoformat()} 是法定节假日（{statutory[day]}，{LAW}），"
            f"{day.year} 年日历不能没有它。"
        )
    if year_row.is_provisional and day not in statutory_holidays(day.year):
        return (
            f"{day.year} 年为暂定年度（仅法定节假日，国务院办公厅尚未公布安排）："
            "调休与补假请在“已载入年度日历”中随通知整体载入（文件或 holidays 库），不能逐日录入。"
        )
    return None


def _scope(agency: Agency | None) -> Q:
    return Q(agency__isnull=True) if agency is None else Q(agency=agency)


def _describe(agency: Agency | None, text: str) -> str:
    where = agency.code if agency is not None else "national"
    return f"{where} {text}"


def calendar_day_set(
    *, day: dt.date, kind: str, name: str = "", agency: Agency | None = None, actor=None
) -> tuple[CalendarDay, int]:
    """Create or change one exceptional date; returns the row and how many cases moved.

    Raises :class:`CalendarRefused` (nothing written) when ``calendar_day_refusal`` objects."""
    kind = KIND_ALIASES.get(kind, kind)
    refusal = calendar_day_refusal(day=day, kind=kind, agency=agency)
    if refusal:
        raise CalendarRefused(refusal)
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
    """Remove one exceptional date (the day reverts to the weekend rule).

    Raises :class:`CalendarRefused` (nothing removed) when ``calendar_day_refusal`` objects."""
    refusal = calendar_day_refusal(day=row.date, kind=None, agency=row.agency)
    if refusal:
        raise CalendarRefused(refusal)
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
    status: str = CalendarYear.Status.PUBLISHED,
) -> YearLoadResult:
    """Load a year's schedule: upsert its rows and mark the year known. Idempotent.

    ``status`` is ``published`` (the notice; the default) or ``provisional`` (use
    ``calendar_year_provisional``). Loading a published schedule onto a provisional year turns it
    published and recomputes every open case whose dates touch the year (a ``due_changed``
    event on each case whose date moved). With ``replace`` the year's rows become exactly the
    given ones (others of that year and scope are deleted). Raises ValueError for a date
    outside ``year`` or in both lists, and :class:`CalendarRefused` when a national year would
    lack a statutory holiday; nothing is written then.
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

    result = YearLoadResult(year=year, status=status)
    with transaction.atomic():
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(
                _scope(agency), date__year=year
            )
        }
        if agency is None:
            final = {d: k for d, (k, _) in wanted.items()}
            if not replace:
                final = {**{d: r.kind for d, r in existing.items()}, **final}
            gaps = statutory_gaps(year, final)
            if gaps:
                raise CalendarRefused(_gaps_message(year, gaps))
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
        year_row, result.year_created = CalendarYear.objects.select_for_update().get_or_create(
            agency=agency, year=year, defaults={"source": source, "status": status}
        )
        if not result.year_created and year_row.status != status:
            if status == CalendarYear.Status.PROVISIONAL:
                raise CalendarRefused(f"{year} 年已公布安排，不能改回暂定年度。")
            result.published_now = status == CalendarYear.Status.PUBLISHED
            year_row.status, year_row.source = status, source
            year_row.save(update_fields=["status", "source"])
        if result.year_created or result.published_now:
            # A year becoming known, or published, can move (or unmark) every date in it.
            result.changed_dates.extend([dt.date(year, 1, 1), dt.date(year, 12, 31)])
        if result.changed_dates:
            what = "" if status == CalendarYear.Status.PUBLISHED else " provisional"
            result.cases_moved = calendar_rows_changed(
                dates=result.changed_dates,
                agency=agency,
                actor=actor,
                description=f"{year}{what} schedule loaded from {source}",
            )
    return result


def calendar_year_provisional(*, year: int, actor=None) -> YearLoadResult:
    """Make the national ``year`` known as provisional: its statutory holidays
    (``statutory_holidays``), no 调休. Idempotent; a published year is left as it is
    (``kept_published``) and no row is ever removed. The open cases whose dates touch the year
    are recomputed."""
    with transaction.atomic():
        existing = (
            CalendarYear.objects.select_for_update().filter(agency__isnull=True, year=year).first()
        )
        if existing is not None and not existing.is_provisional:
            return YearLoadResult(year=year, status=existing.status, kept_published=True)
        return calendar_year_load(
            year=year,
            holidays=statutory_holidays(year),
            workdays={},
            source=PROVISIONAL_SOURCE,
            actor=actor,
            status=CalendarYear.Status.PROVISIONAL,
        )


def calendar_years_refresh(
    *, years: Iterable[int], keep_published: bool = False, actor=None
) -> list[YearLoadResult]:
    """Load each national year from the ``holidays`` package: published when it has the
    year's notice, provisional (``calendar_year_provisional``) otherwise. With
    ``keep_published`` (the yearly beat run) a year already published is left as it is, so a
    notice an administrator loaded is never overwritten."""
    results = []
    for year in sorted(set(years)):
        row = CalendarYear.objects.filter(agency__isnull=True, year=year).first()
        if keep_published and row is not None and not row.is_provisional:
            results.append(YearLoadResult(year=year, status=row.status, kept_published=True))
            continue
        found = library_schedule(year)
        if found is None:
            results.append(calendar_year_provisional(year=year, actor=actor))
            continue
        names, workdays = found
        results.append(
            calendar_year_load(
                year=year,
                holidays=names,
                workdays={d: "调休上班" for d in workdays},
                source=LIBRARY_SOURCE,
                actor=actor,
            )
        )
    return results


def calendar_year_remove(*, year_row: CalendarYear, actor=None) -> int:
    """Forget that a year is known (its dates fall back to the weekend rule and are flagged as
    in a missing year again)."""
    with transaction.atomic():
        year, agency = year_row.year, year_row.agency
        year_row.delete()
        return calendar_rows_changed(
            dates=[dt.date(year, 1, 1), dt.date(year, 12, 31)],
            agency=agency,
            actor=actor,
            description=f"{year} schedule removed",
        )
