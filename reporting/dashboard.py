"""The office's figures by month: one place for the dashboards' numbers and the cases behind them.

A dashboard covers one calendar year of an agency (or its subtree), month by month. Every
figure is a filter over the same date columns the annual report counts by, built from the
report engine's own rules (``measure_q`` with a month as the period), so a month's "received"
adds up to the report's 一 and a month's "concluded" to its 三(七):

- **received**: R in the month (report 一, never-received withdrawals left out);
- **concluded**: concluded in the month, up to today (report 三);
- **open**: received by the month's end and not concluded by then (the month's 四);
- **overdue**: open at the month's end (today, for the current month) with the reply due date
  already past;
- **on time**: concluded in the month without lateness (按时 or 延期后按时);
- **on-time rate**: on time ÷ (concluded + overdue) — an overdue case left open lowers the
  rate as much as one concluded late, so holding cases back cannot raise it;
- **working days to reply**: for the cases concluded in the month with a reply (a timeliness
  fact), the working days from the receipt date (R′ after 补正) to the conclusion, counted on
  each agency's own calendar; the median and the 90th percentile;
- **outcome mix**: the concluded cases by the report's result groups (三(一) … 三(六));
- **per handler**: the same figures for each handler over the year, for an office head.

:func:`metric_q` is the filter of every figure; :func:`metric_cases` returns the cases behind
one bar or point, so the drill-down lists exactly the cases counted.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.models import Agency, CalendarDay, CalendarYear, Case

from .engine import NEVER_RECEIVED, local_zone, measure_q, scope_q
from .formats import get_format
from .formats.base import Measure

METRICS: dict[str, str] = {
    "received": "新收申请",
    "concluded": "办结",
    "open": "月末未办结",
    "overdue": "月末逾期未办结",
    "on_time": "按时办结",
}
ON_TIME_VALUES = ("on_time", "extended")
# The format whose result groups make the outcome mix (the one in force, gov2021).
MIX_FORMAT = "gov2021"


class DashboardInputError(ValueError):
    """Inputs that cannot make a dashboard (a month outside the year, an unknown figure)."""


@dataclass(frozen=True)
class Month:
    """A month as a report period: ``measure_q`` reads ``start``, ``end`` and ``known_until``."""

    year: int
    month: int
    today: dt.date

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, pycalendar.monthrange(self.year, self.month)[1])

    @property
    def known_until(self) -> dt.date:
        return min(self.end, self.today)

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def started(self) -> bool:
        return self.start <= self.today


def today() -> dt.date:
    return timezone.now().astimezone(local_zone()).date()


def months_of(year: int, on: dt.date | None = None) -> list[Month]:
    on = on or today()
    return [Month(year, m, on) for m in range(1, 13)]


def metric_q(metric: str, month: Month) -> Q:
    """The cases one figure of one month counts (the module docstring's definitions)."""
    if metric == "received":
        return measure_q(Measure.NEW, month)
    if metric == "concluded":
        return measure_q(Measure.CONCLUDED, month)
    if metric == "open":
        return measure_q(Measure.CARRIED_OUT, month) & Q(received_on__isnull=False)
    if metric == "overdue":
        return metric_q("open", month) & Q(reply_due_on__lt=month.known_until)
    if metric == "on_time":
        return metric_q("concluded", month) & Q(timeliness__in=ON_TIME_VALUES)
    raise DashboardInputError(f"没有这项指标：{metric}")


def scope_cases(agency: Agency, include_descendants: bool) -> QuerySet[Case]:
    return Case.objects.filter(scope_q(agency, include_descendants))


@dataclass
class MonthFigures:
    month: str
    received: int = 0
    concluded: int = 0
    open: int = 0
    overdue: int = 0
    on_time: int = 0
    median_days: float | None = None
    p90_days: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.concluded + self.overdue)


@dataclass
class HandlerFigures:
    handler_id: int | None
    name: str
    concluded: int = 0
    on_time: int = 0
    open: int = 0
    overdue: int = 0
    median_days: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.concluded + self.overdue)


@dataclass
class Dashboard:
    agency: Agency
    include_descendants: bool
    year: int
    months: list[MonthFigures]
    outcome_mix: list[dict]
    handlers: list[HandlerFigures] = field(default_factory=list)

    @property
    def totals(self) -> MonthFigures:
        year = MonthFigures(str(self.year))
        for m in self.months:
            year.received += m.received
            year.concluded += m.concluded
            year.on_time += m.on_time
        # Open and overdue are states at a moment: the year's are those of its last month.
        last = self.months[-1] if self.months else None
        if last is not None:
            year.open, year.overdue = last.open, last.overdue
        return year


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def percentile(distribution: dict[int, int], fraction: float) -> float | None:
    """The nearest-rank percentile of a {value: count} distribution."""
    total = sum(distribution.values())
    if not total:
        return None
    rank = max(1, -(-total * fraction // 1))  # ceil(total * fraction), at least 1
    seen = 0
    for value in sorted(distribution):
        seen += distribution[value]
        if seen >= rank:
            return float(value)
    return float(max(distribution))


def median(distribution: dict[int, int]) -> float | None:
    """The median (the mean of the two middle values for an even count)."""
    total = sum(distribution.values())
    if not total:
        return None
    values = sorted(distribution)
    wanted = [(total - 1) // 2, total // 2]
    found, seen = [], 0
    for value in values:
        n = distribution[value]
        for i in wanted[len(found) :]:
            if seen <= i < seen + n:
                found.append(value)
        seen += n
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def _calendar_keys(agency: Agency, include_descendants: bool) -> tuple[dict[int, Agency], Q]:
    """The agencies in scope whose calendar is not the national one (they, or an ancestor, have
    calendar rows of their own), and the Q that selects their cases. Cases of every other
    agency share the national calendar and are counted together."""
    in_scope = list(Agency.objects.subtree(agency)) if include_descendants else [agency]
    local_paths = set(
        CalendarDay.objects.filter(agency__isnull=False).values_list("agency__path", flat=True)
    ) | set(
        CalendarYear.objects.filter(agency__isnull=False).values_list("agency__path", flat=True)
    )
    local = {
        a.pk: a
        for a in in_scope
        if local_paths and any(p in local_paths for p in a.ancestors_and_self_paths())
    }
    return local, Q(agency_id__in=sorted(local))


def _working_days(
    agency: Agency, include_descendants: bool, concluded: Q, by: str
) -> dict[object, dict[int, int]]:
    """{month label or handler id: {working days: count}} for the replied cases ``concluded``
    selects. The database groups by (calendar, start, conclusion[, handler]) so no case is
    loaded: a year has a few thousand distinct date pairs per calendar."""
    local, local_q = _calendar_keys(agency, include_descendants)
    calendar_key = SqlCase(
        When(local_q, then=F("agency_id")), default=Value(0), output_field=IntegerField()
    )
    group = ["calendar_key", "start", "concluded_on"] + (["handler_id"] if by == "handler" else [])
    rows = (
        scope_cases(agency, include_descendants)
        .filter(concluded)
        .exclude(timeliness="")
        .annotate(start=Coalesce("restarted_on", "received_on"), calendar_key=calendar_key)
        .order_by()
        .values_list(*group)
        .annotate(n=Count("*"))
    )
    rows = [row for row in rows if row[1] is not None and row[2] is not None and row[2] >= row[1]]
    spans: dict[int, tuple[dt.date, dt.date]] = {}
    for key, start, end, *_rest in rows:
        low, high = spans.get(key, (start, end))
        spans[key] = (min(low, start), max(high, end))
    counters = {
        key: _WorkingDayCounter(calendar_for_agency(local[key] if key else None), *span)
        for key, span in spans.items()
    }
    out: dict[object, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        key, start, end, n = row[0], row[1], row[2], row[-1]
        days = counters[key].count(start, end)
        out[row[3] if by == "handler" else f"{end.year}-{end.month:02d}"][days] += n
    return out


class _WorkingDayCounter:
    """``calendar.count_working_days`` for many date pairs within [low, high]: the running
    count of working days from ``low`` is built once, so each pair is one subtraction."""

    def __init__(self, calendar, low: dt.date, high: dt.date):
        self.low = low
        running, counts, day = 0, [0], low
        while day < high:
            day += dt.timedelta(days=1)
            running += calendar.is_working_day(day)
            counts.append(running)
        self.counts = counts

    def count(self, start: dt.date, end: dt.date) -> int:
        """The working days d with ``start < d <= end``."""
        if end <= start:
            return 0
        return self.counts[(end - self.low).days] - self.counts[(start - self.low).days]


# Month buckets of the grouped pass: 0 = before the year, 1–12, 13 = not yet (or never).
BEFORE, NOT_YET = 0, 13


def _bucket(field_name: str, year: int, until: dt.date, vendor: str, shift: int = 0) -> SqlCase:
    """The month within ``year`` of the date column ``field_name`` plus ``shift`` days (1–12),
    BEFORE for dates before the year, NOT_YET after ``until`` or NULL. The month boundaries
    are moved by ``shift`` rather than the column (a date plus an interval is a timestamp,
    compared and bucketed row by row at many times the cost). On PostgreSQL, ``width_bucket``
    over the months' first days: one binary search a row, which the planner costs as one
    call (a ladder of thirteen comparisons makes it give up the index for a sorted scan);
    elsewhere the same as a CASE ladder."""
    moved = dt.timedelta(days=shift)
    firsts = [dt.date(year, m, 1) - moved for m in range(1, 13)]
    last = until - moved
    if vendor == "postgresql":
        return SqlCase(
            When(**{f"{field_name}__gt": last}, then=Value(NOT_YET)),
            default=Coalesce(
                Func(
                    F(field_name),
                    function="width_bucket",
                    template="%(function)s(%(expressions)s, '{%(firsts)s}'::date[])",
                    firsts=",".join(first.isoformat() for first in firsts),
                    output_field=IntegerField(),
                ),
                Value(NOT_YET),
            ),
            output_field=IntegerField(),
        )
    return SqlCase(
        When(**{f"{field_name}__isnull": True}, then=Value(NOT_YET)),
        When(**{f"{field_name}__gt": last}, then=Value(NOT_YET)),
        *(
            When(**{f"{field_name}__lt": first}, then=Value(month))
            for month, first in enumerate(firsts)
        ),
        default=Value(12),
        output_field=IntegerField(),
    )


def _year_groups(cases: QuerySet[Case], months: list[Month]) -> list[tuple]:
    """The cases of the year grouped by (month of R, of the conclusion, of the day the reply
    became overdue — its due date + 1, on time, outcome): every month's figures and the
    outcome mix are sums over these groups. One statement of two parts, each a range of the
    covering index ``case_concluded_columns`` (agency, conclusion date), so PostgreSQL reads
    neither the wide rows nor the cases concluded before the year: the cases concluded from
    the year's first day on (received by the year's end, or concluded in the year so far —
    the mix), and the cases still open that were received by the year's end."""
    year, on = months[0].year, months[0].today
    end = dt.date(year, 12, 31)
    until = min(end, on)
    vendor = connections[cases.db].vendor
    received = Q(received_on__isnull=False, received_on__lte=end)

    def grouped(part: Q) -> QuerySet:
        return (
            cases.filter(part & ~NEVER_RECEIVED)
            .annotate(
                r=_bucket("received_on", year, end, vendor),
                c=_bucket("concluded_on", year, until, vendor),
                d=_bucket("reply_due_on", year, until, vendor, shift=1),
                on_time=SqlCase(
                    When(timeliness__in=ON_TIME_VALUES, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
            .order_by()
            .values_list("r", "c", "d", "on_time", "outcome")
            .annotate(n=Count("*"))
        )

    concluded = Q(concluded_on__gte=dt.date(year, 1, 1)) & (received | Q(concluded_on__lte=until))
    still_open = Q(concluded_on__isnull=True) & received
    return list(grouped(concluded).union(grouped(still_open), all=True))


def _month_counts(groups: list[tuple], months: list[Month]) -> list[dict[str, int]]:
    """Every month's received, concluded, open, overdue and on-time counts from the year's
    groups (:func:`_year_groups`). A conclusion of the year dated before a receipt after the
    year (r = NOT_YET) counts as concluded, as in the report's 三, and nowhere else."""
    counted: dict[tuple[int, int, int, int], int] = defaultdict(int)
    for r, c, d, on_time, _outcome, n in groups:
        counted[r, c, d, on_time] += n
    out = []
    for m in months:
        k = m.month
        figures = dict.fromkeys(METRICS, 0)
        if m.started:
            for (r, c, d, on_time), n in counted.items():
                if r == k:
                    figures["received"] += n
                if c == k:
                    figures["concluded"] += n
                    figures["on_time"] += n * on_time
                if r <= k < c:
                    figures["open"] += n
                    if d <= k:
                        figures["overdue"] += n
        out.append(figures)
    return out


def build_dashboard(
    agency: Agency,
    *,
    year: int,
    include_descendants: bool = True,
    per_handler: bool = False,
    on: dt.date | None = None,
) -> Dashboard:
    """Every figure of one agency's (or subtree's) year: one grouped statement for the monthly
    counts and the outcome mix, one for the working days (two more with the handlers)."""
    months = months_of(year, on)
    started = [m for m in months if m.started]
    cases = scope_cases(agency, include_descendants)
    figures = [MonthFigures(m.label) for m in months]
    groups = _year_groups(cases, months) if started else []
    for row, counted in zip(figures, _month_counts(groups, months), strict=True):
        for metric, value in counted.items():
            setattr(row, metric, value)
    days = (
        _working_days(agency, include_descendants, year_q("concluded", months), by="month")
        if started
        else {}
    )
    for row in figures:
        dist = days.get(row.month, {})
        row.median_days, row.p90_days = median(dist), percentile(dist, 0.9)
    dashboard = Dashboard(
        agency=agency,
        include_descendants=include_descendants,
        year=year,
        months=figures,
        outcome_mix=_outcome_mix(groups, started),
    )
    if per_handler:
        dashboard.handlers = _handlers(agency, include_descendants, cases, months)
    return dashboard


def year_q(metric: str, months: list[Month]) -> Q:
    """A figure over the whole year: received, concluded and on time over the months so far
    (the report's own measures with the year as the period); open and overdue at the end of
    the last month begun."""
    started = [m for m in months if m.started]
    if not started:
        return Q(pk__in=[])
    last = started[-1]
    if metric in ("open", "overdue"):
        return metric_q(metric, last)
    year = Month(last.year, 1, last.today)
    span = _Span(start=year.start, end=last.end, known_until=last.known_until)
    if metric == "received":
        return measure_q(Measure.NEW, span)
    if metric == "concluded":
        return measure_q(Measure.CONCLUDED, span)
    if metric == "on_time":
        return measure_q(Measure.CONCLUDED, span) & Q(timeliness__in=ON_TIME_VALUES)
    raise DashboardInputError(f"没有这项指标：{metric}")


@dataclass(frozen=True)
class _Span:
    """Months 1..n of a year as one period for ``measure_q``."""

    start: dt.date
    end: dt.date
    known_until: dt.date


def mix_groups() -> list[tuple[str, str, frozenset[str]]]:
    """(key, label, outcomes) for each result group of table 三, in the table's order."""
    fmt = get_format(MIX_FORMAT)
    groups: dict[str, tuple[str, str, set[str]]] = {}
    for row in fmt.outcome_rows:
        if row.key == "concluded_total":
            continue
        label = (row.group or row.label).split("（区分处理")[0]
        key, _, found = groups.setdefault(label, (row.key, label, set()))
        found.update(row.outcomes)
    return [(key, label, frozenset(found)) for key, label, found in groups.values()]


def mix_q(group_key: str) -> Q:
    for key, _label, outcomes in mix_groups():
        if key == group_key:
            return Q(outcome__in=sorted(outcomes))
    raise DashboardInputError(f"没有这个结果分类：{group_key}")


def _outcome_mix(groups: list[tuple], started: list[Month]) -> list[dict]:
    """The year's conclusions so far (``year_q("concluded")``: the groups concluded in months
    1–12) by the result groups of table 三."""
    if not started:
        return []
    by_outcome: dict[str, int] = defaultdict(int)
    for _r, c, _d, _on_time, outcome, n in groups:
        if BEFORE < c < NOT_YET:
            by_outcome[outcome] += n
    return [
        {"key": key, "label": label, "count": sum(by_outcome[o] for o in outcomes)}
        for key, label, outcomes in mix_groups()
    ]


def _handlers(agency, include_descendants, cases, months) -> list[HandlerFigures]:
    started = [m for m in months if m.started]
    if not started:
        return []
    aggregates = {metric: Count("agency", filter=year_q(metric, months)) for metric in METRICS}
    aggregates.pop("received")
    rows = (
        cases.filter(Q(handler__isnull=False))
        .order_by()
        .values_list("handler_id", "handler__username", "handler__last_name", "handler__first_name")
        .annotate(**aggregates)
    )
    days = _working_days(agency, include_descendants, year_q("concluded", months), by="handler")
    out = []
    for handler_id, username, last_name, first_name, *values in rows:
        figures = dict(zip(aggregates, values, strict=True))
        if not any(figures.values()):
            continue
        name = f"{last_name}{first_name}".strip() or username
        out.append(
            HandlerFigures(
                handler_id=handler_id,
                name=name,
                median_days=median(days.get(handler_id, {})),
                **figures,
            )
        )
    out.sort(key=lambda h: (-h.concluded - h.open, h.name))
    return out


def metric_cases(
    agency: Agency,
    *,
    include_descendants: bool,
    year: int,
    metric: str,
    month: int | None = None,
    group: str | None = None,
    handler_id: int | None = None,
    on: dt.date | None = None,
) -> QuerySet[Case]:
    """The cases behind one figure: a month's bar or point, a year total, an outcome group,
    a handler's row — the same filters as :func:`build_dashboard`."""
    months = months_of(year, on)
    if month is not None:
        if not 1 <= month <= 12:
            raise DashboardInputError(f"月份无效：{month}")
        q = metric_q(metric, months[month - 1])
    else:
        if metric not in METRICS:
            raise DashboardInputError(f"没有这项指标：{metric}")
        q = year_q(metric, months)
    if group is not None:
        q &= mix_q(group)
    if handler_id is not None:
        q &= Q(handler_id=handler_id)
    return (
        scope_cases(agency, include_descendants)
        .filter(q)
        .select_related("agency")
        .order_by("received_on", "pk")
    )


__all__ = [
    "METRICS",
    "Dashboard",
    "DashboardInputError",
    "build_dashboard",
    "metric_cases",
    "metric_q",
]
