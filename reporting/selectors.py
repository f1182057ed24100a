"""Reads of annual reports, scoped to what the user may see (``reporting.permissions``); the
admin and the staff API use them alike. Another agency's report is "not found", exactly like
one that does not exist."""

from __future__ import annotations

from django.db.models import QuerySet

from requests_app.models import Agency, Case
from requests_app.permissions import agencies_visible, visible_cases_filter

from .engine import ReportInputError, ReportInputs, cell_queryset
from .formats import Format, TableFormat
from .formats.base import TABLE3_COLUMN_LABELS, TABLE4_COLUMN_LABELS, TOTAL
from .models import AnnualReport
from .services import ReportNotFound, report_inputs

MAX_PK = 2**63 - 1


def report_list(*, user) -> QuerySet[AnnualReport]:
    """The frozen reports ``user`` sees, newest year first."""
    return (
        AnnualReport.objects.filter(agency__in=agencies_visible(user).agencies())
        .select_related("agency", "generated_by", "published_by")
        .order_by("-year", "agency__path", "format", "-include_descendants")
    )


def report_get(*, user, pk: int) -> AnnualReport:
    """One report ``user`` sees; raises ReportNotFound otherwise."""
    if not isinstance(pk, int) or not 0 < pk <= MAX_PK:
        raise ReportNotFound("未找到该年度报告。", "No such report.")
    report = report_list(user=user).filter(pk=pk).first()
    if report is None:
        raise ReportNotFound("未找到该年度报告。", "No such report.")
    return report


def report_agency_get(*, user, code: str) -> Agency:
    """The agency ``code`` when ``user`` may see its reports; raises ReportNotFound otherwise
    (an agency out of sight answers as one that does not exist)."""
    agency = Agency.objects.filter(code=code).first()
    if agency is None or agency not in agencies_visible(user):
        raise ReportNotFound(
            f"机关代码不存在或无权查看：{code}", f"Unknown agency, or not yours to see: {code}"
        )
    return agency


def cell_records(inputs: ReportInputs, key: str, column: str) -> QuerySet:
    """The records counted in one cell, in a stable order, with what a list shows."""
    qs = cell_queryset(inputs, key, column)
    if qs.model is Case:
        return qs.select_related("agency").order_by("received_on", "pk")
    related = ["case"] if hasattr(qs.model, "case") else []
    if hasattr(qs.model, "agency"):
        related.append("agency")
    return qs.select_related(*related).order_by("pk")


def report_cell_records(report: AnnualReport, key: str, column: str) -> QuerySet:
    return cell_records(report_inputs(report), key, column)


def visible_case_ids(user, case_ids) -> set[int]:
    """Which of ``case_ids`` ``user`` may open (a cell may count cases of subordinate agencies
    that the user sees in the report but may not open one by one)."""
    scope = visible_cases_filter(user)
    if scope is None:
        return set()
    return set(Case.objects.filter(scope, pk__in=list(case_ids)).values_list("pk", flat=True))


def cell_info(report_format: Format, cells: dict | None, key: str, column: str) -> dict:
    """A cell's table, labels and value in ``cells`` (``None`` without cells); raises
    ReportInputError for a cell the format does not have."""
    if isinstance(report_format, TableFormat):
        block = next((b for b in report_format.table4 if b.key == key), None)
        if block is not None:
            if column not in report_format.table4_columns:
                raise ReportInputError(f"unknown column {column!r}")
            return {
                "table": "table4",
                "row_label": block.label,
                "column_label": TABLE4_COLUMN_LABELS[column],
                "value": None if cells is None else cells["table4"][key][column],
            }
        row = next((r for r in report_format.table3 if r.key == key), None)
        if row is None or column not in report_format.columns:
            raise ReportInputError(f"unknown cell {key!r}/{column!r} in {report_format.code}")
        return {
            "table": "table3",
            "row_label": row.label,
            "column_label": TABLE3_COLUMN_LABELS[column],
            "value": None if cells is None else cells["table3"][key][column],
        }
    row = next((r for r in report_format.rows if r.key == key), None)
    if row is None or column != TOTAL:
        raise ReportInputError(f"unknown cell {key!r}/{column!r} in {report_format.code}")
    return {
        "table": report_format.code,
        "row_label": row.label,
        "column_label": "统计数",
        "value": None if cells is None else cells[key],
    }
