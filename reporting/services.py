"""The only code that writes annual reports: generate, regenerate and compare, review,
publish, and flag as stale when a counted case changes after publication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from requests_app.models import Agency, Case
from requests_app.services.errors import ActionForbidden, ServiceError

from .engine import (
    CASE_MEASURES,
    Period,
    ReportInputs,
    ReportResult,
    any_measure_q,
    case_measures,
    compute_report,
    scope_q,
)
from .formats import Format, TableFormat, get_format
from .formats.base import Measure
from .models import AnnualReport, ReportStatus
from .permissions import may_act_on_agency


class ReportLocked(ServiceError):
    """The report is published: its numbers and text no longer change."""

    status = 409
    code = "report_locked"


class ReportForbidden(ActionForbidden):
    """The user's role or agency does not allow this step on this report."""


class ReportNotFound(ServiceError):
    """No such report, or one of an agency the user may not see."""

    status = 404
    code = "not_found"


ACTION_LABELS = {
    "generate": ("生成年度报告", "generate a report"),
    "regenerate": ("重新生成年度报告", "regenerate a report"),
    "edit_text": ("修改年度报告文字部分", "edit a report's text"),
    "mark_reviewed": ("审核年度报告", "mark a report reviewed"),
    "publish": ("发布年度报告", "publish a report"),
}


def _require_permission(actor, action: str, agency: Agency) -> None:
    """Raise ReportForbidden unless ``actor`` may take ``action`` for ``agency``'s report
    (``reporting.permissions``; ``None`` is the system)."""
    if not may_act_on_agency(actor, action, agency):
        zh, en = ACTION_LABELS[action]
        raise ReportForbidden(
            f"您的角色不能{zh}（{agency.name}）。", f"Your role may not {en} for {agency.code}."
        )


def _locked(report: AnnualReport, what: str, what_en: str) -> ReportLocked:
    return ReportLocked(
        f"{report} 已发布，不能{what}。", f"The report is published and locked: cannot {what_en}."
    )


def report_inputs(report: AnnualReport) -> ReportInputs:
    return ReportInputs.build(
        year=report.year,
        agency=report.agency,
        include_descendants=report.include_descendants,
        format=report.format,
        cutoff=report.cutoff,
    )


def _previous_frozen_check(result: ReportResult) -> dict | None:
    """二 against the carried-out figures stored in last year's *published* report."""
    inputs = result.inputs
    previous = (
        AnnualReport.objects.filter(
            agency=inputs.agency,
            year=inputs.year - 1,
            include_descendants=inputs.include_descendants,
            status=ReportStatus.PUBLISHED,
        )
        .order_by("-published_at")
        .first()
    )
    if previous is None:
        return None
    stored = previous.extras.get("cases", {}).get("carried_out", {})
    now = result.extras["cases"]["carried_in"]
    wrong = [f"{col}: {now[col]} ≠ {stored.get(col)}" for col in now if now[col] != stored.get(col)]
    return {
        "name": f"二=已发布的{inputs.year - 1}年度报告四",
        "ok": not wrong,
        "detail": "；".join(wrong) + ("（上年报告发布后有申请被更改）" if wrong else ""),
    }


def _checks(result: ReportResult) -> list[dict]:
    checks = [c.as_dict() for c in result.checks]
    frozen = _previous_frozen_check(result)
    if frozen is not None:
        checks.append(frozen)
    return checks


@transaction.atomic
def report_generate(
    *,
    agency: Agency,
    year: int,
    format: Format | str | None = None,
    include_descendants: bool = True,
    cutoff: dt.datetime | None = None,
    actor=None,
    result: ReportResult | None = None,
) -> AnnualReport:
    """Compute and store a report; an unpublished report with the same inputs is replaced.
    ``result`` is the report already computed for these inputs (the year-end run computes a
    whole tree's at once, ``engine.compute_tree_reports``).

    Raises ReportForbidden when ``actor`` may not generate for ``agency``, ReportLocked when
    the same report is already published (regenerate to compare), ReportInputError for bad
    inputs.
    """
    inputs = ReportInputs.build(
        year=year,
        agency=agency,
        include_descendants=include_descendants,
        format=format,
        cutoff=cutoff,
    )
    _require_permission(actor, "generate", inputs.agency)
    if result is None:
        result = compute_report(inputs)
    elif (
        result.inputs.agency.pk,
        result.inputs.year,
        result.inputs.format.code,
        result.inputs.include_descendants,
        result.inputs.cutoff,
    ) != (inputs.agency.pk, year, inputs.format.code, include_descendants, inputs.cutoff):
        raise ValueError("the result given was computed for other inputs")
    report = (
        AnnualReport.objects.select_for_update()
        .filter(
            agency=inputs.agency,
            year=year,
            format=inputs.format.code,
            include_descendants=include_descendants,
        )
        .first()
    )
    if report is not None and report.is_published:
        raise _locked(report, "覆盖", "overwrite it")
    if report is None:
        report = AnnualReport(
            agency=inputs.agency,
            year=year,
            format=inputs.format.code,
            include_descendants=include_descendants,
        )
    report.cutoff = inputs.cutoff
    report.cells = result.cells
    report.checks = _checks(result)
    report.extras = result.extras
    report.fees_collected_yuan = Decimal(result.extras["fees_collected_yuan"])
    report.generated_at = timezone.now()
    report.generated_by = actor
    report.status = ReportStatus.GENERATED
    report.reviewed_at = None
    report.reviewed_by = None
    report.is_stale = False
    report.stale_since = None
    report.stale_reasons = []
    report.save()
    return report


def flatten_cells(cells: dict, prefix: str = "") -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for key, value in cells.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_cells(value, path + "."))
        else:
            out[path] = value
    return out


@dataclass(frozen=True)
class CellChange:
    cell: str
    stored: int | str | None
    current: int | str | None


def report_compare(report: AnnualReport) -> tuple[ReportResult, list[CellChange]]:
    """Recompute the report with its stored inputs and list every cell that differs."""
    result = compute_report(report_inputs(report))
    old, new = flatten_cells(report.cells), flatten_cells(result.cells)
    # The format's own order (the fresh result's): PostgreSQL's jsonb does not keep the
    # stored cells' key order.
    order = list(new) + [cell for cell in old if cell not in new]
    changes = [
        CellChange(cell, old.get(cell), new.get(cell))
        for cell in order
        if old.get(cell) != new.get(cell)
    ]
    return result, changes


@transaction.atomic
def report_regenerate(*, report: AnnualReport, actor=None) -> list[CellChange]:
    """Recompute with the stored inputs; store the new cells unless published. Returns the
    cell-by-cell differences (for a published report, only the comparison: nothing is
    written). Raises ReportForbidden when ``actor`` may not regenerate."""
    report = AnnualReport.objects.select_for_update().select_related("agency").get(pk=report.pk)
    _require_permission(actor, "regenerate", report.agency)
    result, changes = report_compare(report)
    if report.is_published:
        return changes
    report.cells = result.cells
    report.checks = _checks(result)
    report.extras = result.extras
    report.fees_collected_yuan = Decimal(result.extras["fees_collected_yuan"])
    report.generated_at = timezone.now()
    report.generated_by = actor
    report.is_stale = False
    report.stale_since = None
    report.stale_reasons = []
    report.save()
    return changes


TEXT_FIELDS = (
    "overview",
    "proactive_figures",
    "proactive_text",
    "problems_and_improvements",
    "other_matters",
    "fees_collected_yuan",
)


@transaction.atomic
def report_update_text(*, report: AnnualReport, actor=None, **sections) -> AnnualReport:
    """Edit the office's text sections. Raises ReportForbidden when ``actor`` may not edit,
    ReportLocked once published, ValueError for a name that is not a text section."""
    report = AnnualReport.objects.select_for_update().select_related("agency").get(pk=report.pk)
    _require_permission(actor, "edit_text", report.agency)
    if report.is_published:
        raise _locked(report, "修改", "edit it")
    unknown = set(sections) - set(TEXT_FIELDS)
    if unknown:
        raise ValueError(f"not text sections: {sorted(unknown)}")
    for name, value in sections.items():
        setattr(report, name, value)
    report.save(update_fields=list(sections))
    return report


@transaction.atomic
def report_mark_reviewed(*, report: AnnualReport, actor=None) -> AnnualReport:
    """Mark the report reviewed. Raises ReportForbidden (not an approver or administrator of
    the agency) or ReportLocked (already published)."""
    report = AnnualReport.objects.select_for_update().select_related("agency").get(pk=report.pk)
    _require_permission(actor, "mark_reviewed", report.agency)
    if report.is_published:
        raise _locked(report, "再审核", "review it again")
    report.status = ReportStatus.REVIEWED
    report.reviewed_at = timezone.now()
    report.reviewed_by = actor
    report.save(update_fields=["status", "reviewed_at", "reviewed_by"])
    return report


@transaction.atomic
def report_publish(*, report: AnnualReport, actor=None) -> AnnualReport:
    """Publish and lock. Publishing twice is a no-op. Raises ReportForbidden unless
    ``actor`` is an approver or administrator of the report's agency."""
    report = AnnualReport.objects.select_for_update().select_related("agency").get(pk=report.pk)
    _require_permission(actor, "publish", report.agency)
    if report.is_published:
        return report
    report.status = ReportStatus.PUBLISHED
    report.published_at = timezone.now()
    report.published_by = actor
    if report.reviewed_at is None:
        report.reviewed_at = report.published_at
        report.reviewed_by = actor
    report.save(
        update_fields=["status", "published_at", "published_by", "reviewed_at", "reviewed_by"]
    )
    return report


def _years_counted(received_on: dt.date | None, concluded_on: dt.date | None) -> set[int]:
    """Every report year a case appears in: received, carried over, or concluded."""
    if received_on is None:
        return {concluded_on.year} if concluded_on else set()
    last = concluded_on.year if concluded_on else timezone.localdate().year
    return set(range(received_on.year, max(last, received_on.year) + 1))


# The case columns the engine counts by (reporting.engine: tally and cell filters).
COUNTED_FIELDS = (
    "agency_id", "received_on", "concluded_on", "outcome", "applicant_type", "channel",
    "is_extended",
)  # fmt: skip


def _counted_as(values: dict, report: AnnualReport, paths: dict[int, str]) -> tuple | None:
    """What one case adds to ``report``'s cells (``None``: nothing): the measures the engine
    counts it in (``engine.case_measures``, which runs ``measure_q``), its outcome when it is
    concluded, its applicant column, and its channel and extension where the report's format
    has rows that count by them."""
    path = paths.get(values["agency_id"], "")
    in_scope = (
        path.startswith(report.agency.path)
        if report.include_descendants
        else values["agency_id"] == report.agency_id
    )
    if not in_scope:
        return None
    measures = case_measures(values, Period(report.year, report.cutoff))
    if not measures:
        return None
    rows = _format_rows(report.format)
    return (
        measures,
        values["outcome"] if Measure.CONCLUDED in measures else None,
        values["applicant_type"],
        values["channel"] if any(r.channels is not None for r in rows) else None,
        values["is_extended"] if any(r.extended is not None for r in rows) else None,
    )


def _format_rows(code: str) -> tuple:
    fmt = get_format(code)
    return fmt.table3 if isinstance(fmt, TableFormat) else fmt.rows


def reports_mark_stale_for_case(
    case: Case, *, reason: str = "", before: dict | None = None, **signal_kwargs
) -> list[int]:
    """Flag every published report that counts ``case`` as stale; returns their ids.

    Call it (or connect it as a signal receiver: it accepts ``sender``/``signal``) whenever a
    service changes a case. It looks at both the case as passed and the row as stored, so
    it may be called before or after the change is saved. With ``before`` (the case's column
    values before the change, as ``requests_app.signals.case_changed`` sends them) only the
    reports whose numbers the change moves are flagged: a carried-over case replied after
    last year's cutoff leaves last year's report as it was; a reopened one does not. Reports
    not yet published are left alone: they are simply regenerated.
    """
    years = _years_counted(case.received_on, case.concluded_on)
    agency_ids = {case.agency_id}
    if before is not None:  # a receiver after the save: the instance is the stored row
        years |= _years_counted(before.get("received_on"), before.get("concluded_on"))
        agency_ids.add(before.get("agency_id"))
    elif case.pk:
        stored = (
            Case.objects.filter(pk=case.pk)
            .values("received_on", "concluded_on", "agency_id")
            .first()
        )
        if stored:
            years |= _years_counted(stored["received_on"], stored["concluded_on"])
            agency_ids.add(stored["agency_id"])
    if not years:
        return []
    if agency_ids == {case.agency_id}:
        agencies = [case.agency]  # loaded with the case by the services (select_related)
    else:
        agencies = list(Agency.objects.filter(pk__in=agency_ids))
    paths = {agency.pk: agency.path for agency in agencies}
    now = timezone.now()
    note = {
        "case": case.tracking_number,
        "case_id": case.pk,
        "at": now.isoformat(),
        "reason": reason or "申请在报告发布后发生变更",
    }
    after = {name: getattr(case, name) for name in COUNTED_FIELDS}
    marked = []
    with transaction.atomic():
        for report in _published_reports_over(agencies, years).select_for_update(of=("self",)):
            if before is not None and _counted_as(before, report, paths) == _counted_as(
                after, report, paths
            ):
                continue
            _flag_stale(report, [*report.stale_reasons, note], now)
            marked.append(report.pk)
    return marked


def case_changed_mark_stale(
    sender, *, case: Case, event, actor=None, before: dict | None = None, **kwargs
) -> list[int]:
    """Receiver of ``requests_app.signals.case_changed``: flag the published reports the
    change moves and, when there are any, have ``requests_app`` record it on the case (a
    ``changed_after_publication`` event naming the reports). Returns the flagged ids."""
    from requests_app.models import EventKind
    from requests_app.services.history import case_record_change_after_publication

    if event.kind == EventKind.CHANGED_AFTER_PUBLICATION:
        return []
    reason = str(EventKind(event.kind).label)
    flagged = reports_mark_stale_for_case(case, reason=reason, before=before)
    if flagged:
        case_record_change_after_publication(
            case=case, actor=actor, report_ids=flagged, cause=event
        )
    return flagged


def cases_imported_mark_stale(
    sender, *, cases, source: str = "", run: str = "", **kwargs
) -> list[int]:
    """Receiver of ``requests_app.signals.cases_imported``: flag every published report that
    counts any of the imported ``cases`` (saved, in the caller's transaction) stale, with one
    note per report and import run (``run``): the file, and how many of its cases the report
    counts (a later batch of the same run adds to the note). Which cases a report counts is
    the engine's own rule (``measure_q``: 一 to 四 of the report's period, in its scope), one
    query over the batch for each published report whose scope holds one of the batch's
    agencies. Returns the flagged report ids."""
    years: set[int] = set()
    for case in cases:
        years |= _years_counted(case.received_on, case.concluded_on)
    if not years:
        return []
    ids = [case.pk for case in cases]
    agencies = list(Agency.objects.filter(pk__in={case.agency_id for case in cases}))
    marked = []
    with transaction.atomic():
        reports = _published_reports_over(agencies, years).select_for_update(of=("self",))
        now = timezone.now()
        for report in reports:
            counted = list(
                Case.objects.filter(pk__in=ids)
                .filter(scope_q(report.agency, report.include_descendants), _counted_q(report))
                .order_by("pk")
                .values_list("pk", "tracking_number")
            )
            if not counted:
                continue
            notes = list(report.stale_reasons)
            note = next((n for n in notes if run and n.get("import_run") == run), None)
            if note is None:
                first_id, first_number = counted[0]
                note = {"import_run": run, "source": source, "cases": 0,
                        "case": first_number, "case_id": first_id, "at": now.isoformat()}  # fmt: skip
                notes.append(note)
            note["cases"] += len(counted)
            note["reason"] = f"导入历史申请（{source or '导入'}，{note['cases']} 件计入本报告）"
            _flag_stale(report, notes, now)
            marked.append(report.pk)
    return marked


def _published_reports_over(agencies, years: set[int]):
    """The published reports of ``years`` whose scope holds any of ``agencies``: each one's
    own, and those of a tree above it. In the order of their ids, which is the order both
    stale paths lock them in (two orders could deadlock a case's change and an import)."""
    scope = Q()
    for agency in agencies:
        scope |= Q(agency_id=agency.pk, include_descendants=False)
        scope |= Q(include_descendants=True, agency__path__in=agency.ancestors_and_self_paths())
    return (
        AnnualReport.objects.select_related("agency")
        .filter(scope, status=ReportStatus.PUBLISHED, year__in=sorted(years))
        .order_by("pk")
    )


def _flag_stale(report: AnnualReport, notes: list[dict], now) -> None:
    """Store ``report``'s notes and flag it stale (since ``now``, if it was not already)."""
    report.stale_reasons = notes
    if not report.is_stale:
        report.is_stale = True
        report.stale_since = now
    report.save(update_fields=["is_stale", "stale_since", "stale_reasons"])


def _counted_q(report: AnnualReport) -> Q:
    """The cases the report's period counts in any of 一 to 四."""
    return any_measure_q(CASE_MEASURES, Period(report.year, report.cutoff))
