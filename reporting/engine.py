"""The annual report engine: every cell of a format from a few aggregate queries.

One function, :func:`compute_report`, serves every format. It asks the database for a small
*tally* of the cases in scope — counts of new, carried-in, concluded and carried-out cases
grouped by (applicant type, outcome, channel, extension) — plus one aggregate each for
reviews, lawsuits, complaints and fees. A format's rows are data (``reporting.formats``);
each cell is the sum of the tally entries its row's filters select. No case is loaded into
Python.

The counting rules (docs/reporting.md, 'Counting rules'), with the year [1 Jan, 31 Dec] and
the cutoff C (a moment; by default 31 Dec 23:59:59.999999 Asia/Shanghai). The date columns are
days, so a fact dated on day d is known at C when d ≤ C's local date; ``known_until`` is the
earlier of that date and 31 Dec:

- new (一): R in the year;
- carried in (二): R before 1 Jan and not concluded before 1 Jan;
- concluded (三): concluded in [1 Jan, known_until];
- carried out (四): R on or before 31 Dec and not concluded by known_until;
- an application withdrawn before its receipt (no R, or concluded before the R automatic
  confirmation fixed ahead: never received, 条例 Art 31) counts nowhere, in no measure;
- reviews and lawsuits (first instance): filed in the year, with the result known at C
  (decided after C's date ⇒ ``pending``); complaints: filed in the year; fees: the paid,
  unwaived fee notices paid in [1 Jan, known_until].

For every case in 一 + 二 exactly one of 三 and 四 holds, so the identity
一 + 二 = 三(七) + 四 holds per column unless the history has a hole (a case concluded with no
receipt date, or concluded before it was received); :func:`compute_report` checks it, and the
other identities, and says which failed and why. :func:`cell_queryset` returns the rows
behind any one cell, built from the same filters, so a number can be defended.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

from requests_app.models import Agency, Case, Complaint, FeeNotice, Lawsuit, Review

from .formats import FlatFormat, Format, TableFormat, format_for_year, get_format
from .formats.base import (
    APPLICANT_COLUMNS,
    RESULTS,
    TABLE3_COLUMN_LABELS,
    TABLE4_COLUMN_LABELS,
    TOTAL,
    Block,
    Measure,
    Row,
)

CASE_MEASURES = (Measure.NEW, Measure.CARRIED_IN, Measure.CONCLUDED, Measure.CARRIED_OUT)


class ReportInputError(ValueError):
    """Inputs that cannot make a report (unknown agency or format, a cutoff before the year)."""


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def default_cutoff(year: int) -> dt.datetime:
    """The end of the report year, local time: ``YEAR-12-31T23:59:59.999999+08:00``."""
    return dt.datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=local_zone())


@dataclass(frozen=True)
class Period:
    year: int
    cutoff: dt.datetime

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    @property
    def cutoff_date(self) -> dt.date:
        return self.cutoff.astimezone(local_zone()).date()

    @property
    def known_until(self) -> dt.date:
        return min(self.cutoff_date, self.end)


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report depends on; the same inputs give the same numbers."""

    year: int
    agency: Agency
    include_descendants: bool
    format: Format
    cutoff: dt.datetime

    @classmethod
    def build(
        cls,
        *,
        year: int,
        agency: Agency | str,
        include_descendants: bool = True,
        format: Format | str | None = None,
        cutoff: dt.datetime | None = None,
    ) -> ReportInputs:
        if not isinstance(year, int) or not 1990 <= year <= 9999:
            raise ReportInputError(f"年份无效 / invalid year: {year!r}")
        if isinstance(agency, str):
            try:
                agency = Agency.objects.get(code=agency)
            except Agency.DoesNotExist:
                raise ReportInputError(
                    f"机关代码不存在 / unknown agency code: {agency!r}"
                ) from None
        if format is None:
            format = format_for_year(year)
        elif isinstance(format, str):
            try:
                format = get_format(format)
            except ValueError as error:
                raise ReportInputError(str(error)) from None
        if cutoff is None:
            cutoff = default_cutoff(year)
        if cutoff.tzinfo is None:
            raise ReportInputError("截止时间须带时区 / the cutoff must carry a time zone")
        cutoff = cutoff.astimezone(local_zone())
        if cutoff.date() < dt.date(year, 1, 1):
            raise ReportInputError(
                f"截止时间早于报告年度 / the cutoff {cutoff.isoformat()} is before {year}"
            )
        return cls(year, agency, include_descendants, format, cutoff)

    @property
    def period(self) -> Period:
        return Period(self.year, self.cutoff)


# --- the filters: one Q per measure, used both by the aggregate and by cell_queryset ----------


def scope_q(agency: Agency, include_descendants: bool, prefix: str = "") -> Q:
    if include_descendants:
        return Q(**{f"{prefix}agency__path__startswith": agency.path})
    return Q(**{f"{prefix}agency_id": agency.pk})


# 条例 Art 31: an application withdrawn before its receipt — withdrawn from ``submitted`` (no
# R), or before the R that automatic confirmation fixed on the next working day (a day-off
# submission withdrawn before that day: concluded before R) — was never received. It counts
# nowhere in the report (not in 一, 三 or 四) and is no hole in the history. Written so that
# no part is NULL (``concluded_on`` is tested for NULL before it is compared): the same
# answer over a table's rows and over one case's values as constants (``case_measures``).
NEVER_RECEIVED = Q(outcome="withdrawn") & (
    Q(received_on__isnull=True)
    | Q(concluded_on__isnull=False) & Q(concluded_on__lt=F("received_on"))
)


def measure_q(measure: Measure, period: Period) -> Q:
    """The cases a case measure selects in ``period`` (the counting rules above)."""
    start, end, known = period.start, period.end, period.known_until
    open_after = Q(concluded_on__isnull=True)
    if measure == Measure.NEW:
        return Q(received_on__gte=start, received_on__lte=end) & ~NEVER_RECEIVED
    if measure == Measure.CARRIED_IN:
        # A case concluded before R is concluded before the year too: no NEVER_RECEIVED test.
        return Q(received_on__lt=start) & (open_after | Q(concluded_on__gte=start))
    if measure == Measure.CONCLUDED:
        return Q(concluded_on__gte=start, concluded_on__lte=known) & ~NEVER_RECEIVED
    if measure == Measure.CARRIED_OUT:
        return Q(received_on__lte=end) & (open_after | Q(concluded_on__gt=known)) & ~NEVER_RECEIVED
    raise ValueError(f"{measure} is not a case measure")


# The case columns ``measure_q`` reads, with their types (for ``case_measures``).
MEASURE_FIELDS = {"received_on": DateField(), "concluded_on": DateField(), "outcome": CharField()}


def any_measure_q(measures, period: Period) -> Q:
    """The cases any of ``measures`` selects in ``period``."""
    q = Q()
    for measure in measures:
        q |= measure_q(measure, period)
    return q


def case_measures(values: Mapping, period: Period, using: str = DEFAULT_DB_ALIAS) -> frozenset:
    """The case measures (一 new, 二 carried in, 三 concluded, 四 carried out) one case falls in
    during ``period``, by ``measure_q`` itself: one SELECT of the conditions over the case's
    values as constants (no table), so the values may be a case's as they were before a change.
    ``values`` holds ``received_on``, ``concluded_on`` and ``outcome``."""
    query = Query(None)
    for name, output_field in MEASURE_FIELDS.items():
        query.add_annotation(Value(values[name], output_field=output_field), name, select=False)
    for measure in CASE_MEASURES:
        query.add_annotation(
            ExpressionWrapper(measure_q(measure, period), output_field=BooleanField()),
            measure.value,
        )
    row = query.get_compiler(using=using).execute_sql(SINGLE)
    return frozenset(m for m, inside in zip(CASE_MEASURES, row, strict=True) if inside)


def row_case_q(row: Row) -> Q:
    """The part of a row's filter that narrows cases (outcome, channel, extension)."""
    q = Q()
    if row.outcomes is not None:
        q &= Q(outcome__in=sorted(row.outcomes))
    if row.channels is not None:
        q &= Q(channel__in=sorted(row.channels))
    if row.extended is not None:
        q &= Q(is_extended=row.extended)
    return q


def effective_result(period: Period):
    """A review's or lawsuit's result as known at the cutoff: decided later ⇒ pending."""
    return SqlCase(
        When(decided_on__gt=period.cutoff_date, then=Value("pending")),
        default=F("result"),
        output_field=CharField(),
    )


def result_q(result: str, period: Period) -> Q:
    later = Q(decided_on__gt=period.cutoff_date)
    if result == "pending":
        return later | Q(result="pending")
    return Q(result=result) & ~later


def _year_q(field_name: str, period: Period, *, until: dt.date | None = None) -> Q:
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lte": until or period.end})


def proceedings_queryset(model, inputs: ReportInputs, after_review: bool | None = None):
    period = inputs.period
    qs = model.objects.filter(
        scope_q(inputs.agency, inputs.include_descendants, "case__"), _year_q("filed_on", period)
    )
    if model is Lawsuit:
        # An appeal continues the same suit: count the first instance only.
        qs = qs.filter(appeal_of__isnull=True)
        if after_review is not None:
            qs = qs.filter(after_review=after_review)
    return qs


def complaints_queryset(inputs: ReportInputs) -> QuerySet:
    return Complaint.objects.filter(
        scope_q(inputs.agency, inputs.include_descendants), _year_q("filed_on", inputs.period)
    )


def fees_queryset(inputs: ReportInputs) -> QuerySet:
    period = inputs.period
    return FeeNotice.objects.filter(
        scope_q(inputs.agency, inputs.include_descendants, "case__"),
        _year_q("paid_on", period, until=period.known_until),
        waived=False,
    )


# --- the aggregate queries ---------------------------------------------------------------------

TallyKey = tuple[str, str, str, bool]  # (applicant_type, outcome, channel, is_extended)


@dataclass
class Tally:
    """Counts per (applicant type, outcome, channel, extension) for each case measure."""

    counts: dict[TallyKey, dict[str, int]] = field(default_factory=dict)
    # Concluded in the period but with no receipt date, or concluded before receipt.
    concluded_without_receipt: int = 0
    concluded_before_receipt: int = 0
    # Counts of any extra filters asked for, by applicant type.
    extra: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, measure: Measure, row: Row | None = None, applicant: str | None = None) -> int:
        n = 0
        for (applicant_type, outcome, channel, extended), values in self.counts.items():
            if applicant is not None and applicant_type != applicant:
                continue
            if row is not None:
                if row.outcomes is not None and outcome not in row.outcomes:
                    continue
                if row.channels is not None and channel not in row.channels:
                    continue
                if row.extended is not None and extended != row.extended:
                    continue
            n += values[measure]
        return n

    def add(self, other: Tally) -> None:
        """Add ``other``'s counts to this tally (a subtree's report from its agencies')."""
        for key, values in other.counts.items():
            mine = self.counts.get(key)
            if mine is None:
                self.counts[key] = dict(values)
            else:
                for name, n in values.items():
                    mine[name] = mine.get(name, 0) + n
        self.concluded_without_receipt += other.concluded_without_receipt
        self.concluded_before_receipt += other.concluded_before_receipt
        for name, by_type in other.extra.items():
            mine_extra = self.extra.setdefault(name, {})
            for applicant_type, n in by_type.items():
                mine_extra[applicant_type] = mine_extra.get(applicant_type, 0) + n

    def by_applicant(self, measure: Measure) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (applicant_type, *_), values in self.counts.items():
            out[applicant_type] += values[measure]
        return dict(out)


def case_tally(
    agency: Agency,
    include_descendants: bool,
    period: Period,
    measures=CASE_MEASURES,
    extra: dict[str, Q] | None = None,
    by_channel: bool = True,
    diagnose: bool = False,
) -> Tally:
    """One aggregate query over the cases in scope: COUNT(*) FILTER per measure (and per
    ``extra`` filter, counted by applicant type into ``Tally.extra``)."""
    tallies = _case_tallies(
        Case.objects.filter(scope_q(agency, include_descendants)),
        period,
        measures=measures,
        extra=extra or {},
        by_channel=by_channel,
        diagnose=diagnose,
        by_agency=False,
    )
    return tallies.get(None) or Tally(extra={name: {} for name in extra or {}})


def case_tallies_by_agency(
    root: Agency, period: Period, *, extra: dict[str, Q], by_channel: bool
) -> dict[int, Tally]:
    """:func:`case_tally` for every agency of ``root``'s subtree at once, each agency's own
    cases only (one aggregate query grouped by agency as well); :meth:`Tally.add` sums them."""
    return _case_tallies(
        Case.objects.filter(scope_q(root, True)),
        period,
        measures=CASE_MEASURES,
        extra=extra,
        by_channel=by_channel,
        diagnose=False,
        by_agency=True,
    )


def _case_tallies(
    qs, period: Period, *, measures, extra: dict[str, Q], by_channel, diagnose, by_agency
) -> dict:
    relevant = any_measure_q(measures, period)
    for q in extra.values():
        relevant |= q
    # COUNT(agency_id), not COUNT(id): agency_id is never null and is in the index of the
    # counted columns, so PostgreSQL can answer from that index alone.
    aggregates = {str(m): Count("agency", filter=measure_q(m, period)) for m in measures}
    aggregates.update({f"extra:{name}": Count("agency", filter=q) for name, q in extra.items()})
    if diagnose:
        concluded = measure_q(Measure.CONCLUDED, period)
        aggregates["no_receipt"] = Count("agency", filter=concluded & Q(received_on__isnull=True))
        aggregates["before_receipt"] = Count(
            "pk", filter=concluded & Q(received_on__gt=F("concluded_on"))
        )
    # Channel and extension split the tally only for the formats that show them.
    group = ["applicant_type", "outcome"] + (["channel", "is_extended"] if by_channel else [])
    if by_agency:
        group.append("agency_id")
    rows = qs.filter(relevant).order_by().values_list(*group).annotate(**aggregates)
    tallies: dict = {}
    names = list(aggregates)
    width = len(group)
    for row in rows:
        key = row[width - 1] if by_agency else None
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally(extra={name: {} for name in extra})
        applicant_type, outcome = row[0], row[1]
        channel, extended = (row[2], row[3]) if by_channel else (None, None)
        counted = dict(zip(names, row[width:], strict=True))
        tally.concluded_without_receipt += counted.pop("no_receipt", 0)
        tally.concluded_before_receipt += counted.pop("before_receipt", 0)
        for name in extra:
            by_type = tally.extra[name]
            by_type[applicant_type] = by_type.get(applicant_type, 0) + counted.pop(f"extra:{name}")
        for measure in CASE_MEASURES:
            counted.setdefault(str(measure), 0)
        tally.counts[(applicant_type, outcome, channel, extended)] = counted
    return tallies


def proceedings_tally(model, inputs: ReportInputs, *, by_agency: bool = False) -> dict:
    """Counts of reviews (or lawsuits) filed in the year by (after_review, result at cutoff);
    with ``by_agency``, those counts for each agency of the scope (its own cases)."""
    qs = proceedings_queryset(model, inputs).annotate(known_result=effective_result(inputs.period))
    group = ["known_result"]
    if model is Lawsuit:
        group.insert(0, "after_review")
    if by_agency:
        group.append("case__agency_id")
    out: dict = {}
    for row in qs.order_by().values(*group).annotate(n=Count("pk")):
        key = (row.get("after_review"), row["known_result"])
        if by_agency:
            out.setdefault(row["case__agency_id"], {})[key] = row["n"]
        else:
            out[key] = row["n"]
    return out


# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One identity checked on the report: its name, whether it holds, and why not."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class ReportResult:
    inputs: ReportInputs
    cells: dict
    checks: list[Check]
    # Numbers every report keeps beside its cells (section 六's fees, the complaints, and the
    # four case measures by applicant type, which legacy2014's table does not show).
    extras: dict

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_json(self) -> dict:
        """The report JSON (docs/reporting.md, 'The report JSON')."""
        return {
            "format": self.inputs.format.code,
            "year": self.inputs.year,
            "agency": self.inputs.agency.code,
            "include_descendants": self.inputs.include_descendants,
            "cutoff": self.inputs.cutoff.isoformat(),
            "cells": self.cells,
        }


def _money(amount: Decimal | None) -> str:
    return str((amount or Decimal("0")).quantize(Decimal("0.01")))


def _previous_carried_out(year: int) -> dict[str, Q]:
    """Last year's 四, by the same measure, counted in the same scan (二 = last year's 四)."""
    previous_period = Period(year - 1, default_cutoff(year - 1))
    return {"previous_carried_out": measure_q(Measure.CARRIED_OUT, previous_period)}


def compute_report(inputs: ReportInputs) -> ReportResult:
    """All cells of ``inputs.format`` plus the identity checks, in a few aggregate queries."""
    tally = case_tally(
        inputs.agency,
        inputs.include_descendants,
        inputs.period,
        extra=_previous_carried_out(inputs.year),
        by_channel=_needs_channel(inputs.format),
    )
    reviews = proceedings_tally(Review, inputs)
    lawsuits = proceedings_tally(Lawsuit, inputs)
    complaints = complaints_queryset(inputs).count()
    fees = fees_queryset(inputs).aggregate(total=Sum("amount_yuan"))["total"]
    return _report_result(inputs, tally, reviews, lawsuits, complaints, fees)


def compute_tree_reports(
    root: Agency | str,
    *,
    year: int,
    format: Format | str | None = None,
    cutoff: dt.datetime | None = None,
) -> dict[int, ReportResult]:
    """The report, with descendants, of every agency in ``root``'s subtree — what
    :func:`compute_report` gives for each, from one pass over the tree's cases (and one over
    each linked record) grouped by agency, each agency's numbers summed from its subtree's.
    The year-end run uses it: a city's reports for all its agencies cost about one report."""
    top = ReportInputs.build(year=year, agency=root, format=format, cutoff=cutoff)
    period = top.period
    tallies = case_tallies_by_agency(
        top.agency,
        period,
        extra=_previous_carried_out(year),
        by_channel=_needs_channel(top.format),
    )
    reviews = proceedings_tally(Review, top, by_agency=True)
    lawsuits = proceedings_tally(Lawsuit, top, by_agency=True)
    complaints = dict(
        complaints_queryset(top).order_by().values_list("agency_id").annotate(n=Count("pk"))
    )
    fees = dict(
        fees_queryset(top)
        .order_by()
        .values_list("case__agency_id")
        .annotate(total=Sum("amount_yuan"))
    )
    agencies = list(Agency.objects.subtree(top.agency).order_by("-depth", "path"))
    children: dict[int, list[int]] = defaultdict(list)
    for agency in agencies:
        if agency.parent_id is not None and agency.pk != top.agency.pk:
            children[agency.parent_id].append(agency.pk)
    results: dict[int, ReportResult] = {}
    sums: dict[int, tuple] = {}
    extra_names = list(_previous_carried_out(year))
    for agency in agencies:  # the deepest first: a parent adds its children's sums
        tally = Tally(extra={name: {} for name in extra_names})
        own_tally = tallies.get(agency.pk)
        if own_tally is not None:
            tally.add(own_tally)
        agency_reviews = Counter(reviews.get(agency.pk, {}))
        agency_lawsuits = Counter(lawsuits.get(agency.pk, {}))
        agency_complaints = complaints.get(agency.pk, 0)
        agency_fees = fees.get(agency.pk) or Decimal("0")
        for child in children.get(agency.pk, ()):
            child_tally, child_reviews, child_lawsuits, child_complaints, child_fees = sums[child]
            tally.add(child_tally)
            agency_reviews.update(child_reviews)
            agency_lawsuits.update(child_lawsuits)
            agency_complaints += child_complaints
            agency_fees += child_fees
        sums[agency.pk] = (tally, agency_reviews, agency_lawsuits, agency_complaints, agency_fees)
        inputs = ReportInputs(
            year=year,
            agency=agency,
            include_descendants=True,
            format=top.format,
            cutoff=top.cutoff,
        )
        results[agency.pk] = _report_result(
            inputs,
            tally,
            dict(agency_reviews),
            dict(agency_lawsuits),
            agency_complaints,
            agency_fees,
        )
    return results


def _report_result(inputs: ReportInputs, tally: Tally, reviews, lawsuits, complaints, fees):
    fmt = inputs.format
    fees = _money(fees)
    base = {str(m): _columns(tally.by_applicant(m)) for m in CASE_MEASURES}
    extras = {
        "fees_collected_yuan": fees,
        "complaints_total": complaints,
        "cases": base,
    }
    if isinstance(fmt, TableFormat):
        cells = _table_cells(fmt, tally, reviews, lawsuits)
        checks = _table_checks(fmt, cells)
    else:
        cells = _flat_cells(fmt, tally, reviews, lawsuits, complaints, fees)
        checks = _flat_checks(fmt, cells)
    balance = _balance_check(base, tally)
    if not balance.ok:
        # Say why: count the cases with holes (one more query, only when a check fails).
        diagnosis = case_tally(
            inputs.agency, inputs.include_descendants, inputs.period,
            measures=(Measure.CONCLUDED,), by_channel=False, diagnose=True,
        )  # fmt: skip
        balance = _balance_check(base, diagnosis)
    checks.insert(0, balance)
    checks.append(
        _carry_check(base["carried_in"], _columns(tally.extra["previous_carried_out"]), inputs.year)
    )
    return ReportResult(inputs=inputs, cells=cells, checks=checks, extras=extras)


def _needs_channel(fmt: Format) -> bool:
    rows = fmt.table3 if isinstance(fmt, TableFormat) else fmt.rows
    return any(r.channels is not None or r.extended is not None for r in rows)


def _columns(by_applicant: dict[str, int]) -> dict[str, int]:
    """Applicant columns plus ``total`` — the total counts every case, known type or not."""
    out = {col: by_applicant.get(col, 0) for col in APPLICANT_COLUMNS}
    out[TOTAL] = sum(by_applicant.values())
    return out


def _table_cells(fmt: TableFormat, tally: Tally, reviews, lawsuits) -> dict:
    table3: dict[str, dict[str, int]] = {}
    for row in fmt.table3:
        cols = {col: tally.total(row.measure, row, col) for col in APPLICANT_COLUMNS}
        cols[TOTAL] = tally.total(row.measure, row)
        table3[row.key] = cols
    table4: dict[str, dict[str, int]] = {}
    for block in fmt.table4:
        counts = _block_counts(block, reviews, lawsuits)
        cols = {result: counts.get(result, 0) for result in RESULTS}
        cols[TOTAL] = sum(counts.values())
        table4[block.key] = cols
    return {"table3": table3, "table4": table4}


def _block_counts(block: Block | Row, reviews, lawsuits) -> dict[str, int]:
    source = reviews if block.measure == Measure.REVIEW else lawsuits
    out: dict[str, int] = defaultdict(int)
    for (after_review, result), n in source.items():
        if block.after_review is not None and after_review != block.after_review:
            continue
        out[result] += n
    return dict(out)


def _flat_cells(fmt: FlatFormat, tally: Tally, reviews, lawsuits, complaints, fees) -> dict:
    cells: dict[str, int | str] = {}
    for row in fmt.rows:
        if row.measure in CASE_MEASURES:
            cells[row.key] = tally.total(row.measure, row)
        elif row.measure in (Measure.REVIEW, Measure.LITIGATION):
            counts = _block_counts(row, reviews, lawsuits)
            cells[row.key] = sum(
                n for result, n in counts.items() if row.results is None or result in row.results
            )
        elif row.measure == Measure.COMPLAINTS:
            cells[row.key] = complaints
        elif row.measure == Measure.FEES:
            cells[row.key] = fees
    return cells


# --- the identities ----------------------------------------------------------------------------


def _balance_check(base: dict, tally: Tally) -> Check:
    """一 + 二 = 三(七) + 四 for each column."""
    wrong = []
    for col in (*APPLICANT_COLUMNS, TOTAL):
        left = base["new"][col] + base["carried_in"][col]
        right = base["concluded"][col] + base["carried_out"][col]
        if left != right:
            wrong.append(
                f"{col}: {base['new'][col]}+{base['carried_in'][col]} ≠ "
                f"{base['concluded'][col]}+{base['carried_out'][col]}"
            )
    if not wrong:
        return Check("一+二=三(七)+四", True, "")
    reasons = []
    if tally.concluded_without_receipt:
        reasons.append(f"{tally.concluded_without_receipt} 件已办结申请没有收到日期(R)")
    if tally.concluded_before_receipt:
        reasons.append(f"{tally.concluded_before_receipt} 件申请的办结日期早于收到日期")
    if not reasons:
        reasons.append("有申请的收到日期在本年度、办结日期在本年度之前")
    return Check("一+二=三(七)+四", False, "；".join(wrong) + "。原因：" + "；".join(reasons))


def _carry_check(carried_in: dict[str, int], previous_out: dict[str, int], year: int) -> Check:
    """This year's 二 = last year's 四 (computed by the same engine)."""
    wrong = [
        f"{col}: {carried_in[col]} ≠ {previous_out[col]}"
        for col in (*APPLICANT_COLUMNS, TOTAL)
        if carried_in[col] != previous_out[col]
    ]
    return Check(
        f"二=上年({year - 1})四",
        not wrong,
        "；".join(wrong),
    )


def _sum_check(name: str, total: int, parts: Iterable[tuple[str, int]], why: str = "") -> Check:
    parts = list(parts)
    value = sum(n for _, n in parts)
    if total == value:
        return Check(name, True, "")
    listed = " + ".join(f"{k}({n})" for k, n in parts)
    return Check(name, False, f"{total} ≠ {listed} = {value}{('。' + why) if why else ''}")


def _table_checks(fmt: TableFormat, cells: dict) -> list[Check]:
    t3, t4 = cells["table3"], cells["table4"]
    checks = []
    # Named by the tables' printed labels: the office reads these (the admin's report page).
    for col in fmt.columns:
        checks.append(
            _sum_check(
                f"三(七)总计=各办理结果之和（{TABLE3_COLUMN_LABELS[col]}）",
                t3["concluded_total"][col],
                [(r.label, t3[r.key][col]) for r in fmt.outcome_rows],
                "有已办结申请没有办理结果或结果不在格式中",
            )
        )
    for row in fmt.table3:
        checks.append(
            _sum_check(
                f"总计=各申请人类型之和（{row.label}）",
                t3[row.key][TOTAL],
                [(TABLE3_COLUMN_LABELS[col], t3[row.key][col]) for col in APPLICANT_COLUMNS],
                "有申请的申请人类型不在表列中",
            )
        )
    for block in fmt.table4:
        checks.append(
            _sum_check(
                f"表四总计=各结果之和（{block.label}）",
                t4[block.key][TOTAL],
                [(TABLE4_COLUMN_LABELS[r], t4[block.key][r]) for r in RESULTS],
                "有复议或诉讼的结果不在表列中",
            )
        )
    return checks


def _flat_checks(fmt: FlatFormat, cells: dict) -> list[Check]:
    return [
        _sum_check(s.why, cells[s.total], [(fmt.row(p).label, cells[p]) for p in s.parts])
        for s in fmt.sums
    ]


# --- the rows behind a cell --------------------------------------------------------------------


def cell_queryset(inputs: ReportInputs, key: str, column: str = TOTAL) -> QuerySet:
    """The records counted in one cell: cases, reviews, lawsuits, complaints or fee notices.

    ``key`` is a row key (table 三 or legacy2014) or a table 四 block; ``column`` an
    applicant type, a result, or ``total``. ``queryset.count()`` equals the cell.
    """
    fmt = inputs.format
    period = inputs.period
    if isinstance(fmt, TableFormat):
        block = next((b for b in fmt.table4 if b.key == key), None)
        if block is not None:
            model = Review if block.measure == Measure.REVIEW else Lawsuit
            qs = proceedings_queryset(model, inputs, block.after_review)
            if column != TOTAL:
                _require(column in RESULTS, f"unknown column {column!r}")
                qs = qs.filter(result_q(column, period))
            return qs
        row = next((r for r in fmt.table3 if r.key == key), None)
        _require(row is not None, f"unknown row {key!r} in {fmt.code}")
        _require(column in fmt.columns, f"unknown column {column!r}")
    else:
        row = next((r for r in fmt.rows if r.key == key), None)
        _require(row is not None, f"unknown row {key!r} in {fmt.code}")
        _require(column == TOTAL, "legacy2014 has one column, 'total'")
    if row.measure in CASE_MEASURES:
        qs = Case.objects.filter(
            scope_q(inputs.agency, inputs.include_descendants),
            measure_q(row.measure, period),
            row_case_q(row),
        )
        if column != TOTAL:
            qs = qs.filter(applicant_type=column)
        return qs
    if row.measure in (Measure.REVIEW, Measure.LITIGATION):
        model = Review if row.measure == Measure.REVIEW else Lawsuit
        qs = proceedings_queryset(model, inputs)
        if row.results is not None:
            results = Q()
            for result in sorted(row.results):
                results |= result_q(result, period)
            qs = qs.filter(results)
        return qs
    if row.measure == Measure.COMPLAINTS:
        return complaints_queryset(inputs)
    return fees_queryset(inputs)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ReportInputError(message)
