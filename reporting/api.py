"""The staff API for annual reports (/api/v1/staff/reports/).

- ``GET computed/``: the report computed now for query parameters — the report JSON of
  docs/reporting.md (``format``, ``year``, ``agency``, ``include_descendants``, ``cutoff``,
  ``cells``), the same numbers as ``manage.py annual_report`` and the admin;
- ``GET computed/cells/KEY/COLUMN/``: the records counted in one cell of that report;
- ``GET /`` and ``GET ID/``: the frozen reports the user sees;
- ``POST generate/``: compute and store a report; ``POST ID/publish/``: publish and lock;
- ``GET ID/cells/KEY/COLUMN/``: the records counted now in one cell of a frozen report.

Reads go through ``reporting.selectors`` (a report or agency the user may not see is a 404,
like one that does not exist); writes through one service each of ``reporting.services``
(which checks the role: 403). Bad inputs are 400 with the field named.
"""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

from requests_app.api.common import error_responses
from requests_app.api.staff import CaseListPagination, StaffView

from .engine import ReportInputError, ReportInputs, compute_report
from .formats import FORMATS
from .models import AnnualReport, ReportStatus
from .selectors import (
    cell_info,
    cell_records,
    report_agency_get,
    report_get,
    report_list,
)
from .services import ReportNotFound, report_generate, report_inputs, report_publish

TAGS = ["staff reports"]
# The model's choices: one ``format`` enum in the schema for every serializer.
FORMAT_CHOICES = [(code, fmt.title) for code, fmt in FORMATS.items()]
MAX_PK = 2**63 - 1
CELLS_HELP = (
    "legacy2014：{KEY: n}（fees_collected_yuan 为字符串，元）；gov2019/gov2021："
    '{"table3": {ROW: {COLUMN: n}}, "table4": {BLOCK: {COLUMN: n}}}（见 docs/reporting.md）/ '
    "The cells, keyed by the format's rows and columns (docs/reporting.md)."
)


# --- inputs -----------------------------------------------------------------------------------
class _CutoffField(serializers.DateTimeField):
    """An ISO 8601 moment that carries its UTC offset (as ``annual_report --cutoff``)."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError(
                    "截止时间须带时区，例如 2019-01-31T23:59:59+08:00 / "
                    "the cutoff needs a UTC offset.",
                    code="naive",
                )
        moment = super().to_internal_value(value)
        if (
            not dt.datetime(1990, 1, 2, tzinfo=dt.UTC)
            <= moment
            <= dt.datetime(9999, 12, 30, tzinfo=dt.UTC)
        ):
            raise serializers.ValidationError("截止时间超出范围。", code="out_of_range")
        return moment


class ReportInputsInputSerializer(serializers.Serializer):
    """The inputs of a report: year, agency, format, descendants, cutoff."""

    year = serializers.IntegerField(min_value=1990, max_value=9999, help_text="报告年度 / Year")
    agency = serializers.CharField(max_length=100, help_text="机关代码 / Agency code")
    format = serializers.ChoiceField(
        choices=FORMAT_CHOICES,
        required=False,
        help_text="默认为该年度适用的格式 / Default: the format in force for the year.",
    )
    descendants = serializers.BooleanField(
        default=True, help_text="含下级机关 / Include subordinate agencies."
    )
    cutoff = _CutoffField(
        required=False,
        help_text="统计截止时间（带时区）；默认 YEAR-12-31T23:59:59.999999+08:00 / "
        "Cutoff with offset.",
    )

    def report_inputs(self, user) -> ReportInputs:
        """The validated inputs as ``ReportInputs``; 404 for an agency the user cannot see."""
        data = self.validated_data
        agency = report_agency_get(user=user, code=data["agency"])
        try:
            return ReportInputs.build(
                year=data["year"],
                agency=agency,
                include_descendants=data["descendants"],
                format=data.get("format"),
                cutoff=data.get("cutoff"),
            )
        except ReportInputError as error:  # the cutoff before the year
            raise ValidationError({"cutoff": [str(error)]}) from None


class ReportListFilterInputSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1990, max_value=9999, required=False)
    agency = serializers.CharField(max_length=100, required=False, help_text="机关代码")
    status = serializers.ChoiceField(choices=ReportStatus.choices, required=False)


# --- outputs ----------------------------------------------------------------------------------
class ReportContractOutputSerializer(serializers.Serializer):
    """The report JSON (docs/reporting.md, 'The report JSON')."""

    format = serializers.ChoiceField(choices=FORMAT_CHOICES)
    year = serializers.IntegerField()
    agency = serializers.CharField(help_text="机关代码 / Agency code")
    include_descendants = serializers.BooleanField()
    cutoff = serializers.DateTimeField()
    cells = serializers.JSONField(help_text=CELLS_HELP)


class ReportCheckOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)


class ReportSectionsOutputSerializer(serializers.Serializer):
    overview = serializers.CharField(help_text="一、总体情况")
    proactive_figures = serializers.JSONField(help_text="二、主动公开政府信息情况（数据）")
    proactive_text = serializers.CharField(help_text="二、主动公开政府信息情况（说明）")
    problems_and_improvements = serializers.CharField(help_text="五、存在的主要问题及改进情况")
    other_matters = serializers.CharField(help_text="六、其他需要报告的事项")
    fees_collected_yuan = serializers.DecimalField(max_digits=14, decimal_places=2)


class FrozenReportListOutputSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    failed_checks = serializers.SerializerMethodField()

    class Meta:
        model = AnnualReport
        fields = [
            "id",
            "agency",
            "agency_name",
            "year",
            "format",
            "include_descendants",
            "cutoff",
            "status",
            "is_stale",
            "failed_checks",
            "generated_at",
            "reviewed_at",
            "published_at",
        ]

    def get_failed_checks(self, report) -> int:
        return len(report.failed_checks)


class FrozenReportDetailOutputSerializer(FrozenReportListOutputSerializer):
    cells = serializers.JSONField(help_text=CELLS_HELP)
    checks = ReportCheckOutputSerializer(many=True)
    stale_reasons = serializers.JSONField()
    sections = serializers.SerializerMethodField()

    class Meta(FrozenReportListOutputSerializer.Meta):
        fields = [
            *FrozenReportListOutputSerializer.Meta.fields,
            "stale_since",
            "stale_reasons",
            "cells",
            "checks",
            "sections",
        ]

    @extend_schema_field(ReportSectionsOutputSerializer)
    def get_sections(self, report) -> dict:
        return ReportSectionsOutputSerializer(report).data


class CellRecordOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="记录编号 / The record's id (a case's for cases).")
    record_type = serializers.ChoiceField(
        choices=["case", "review", "lawsuit", "complaint", "fee_notice"]
    )
    case_id = serializers.IntegerField(allow_null=True)
    tracking_number = serializers.CharField(allow_null=True)


class CellOutputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="行（或表四栏目）键 / Row or block key.")
    column = serializers.CharField()
    row_label = serializers.CharField()
    column_label = serializers.CharField()
    value = serializers.JSONField(
        help_text="报告中的数字（冻结报告为保存的数字）/ The cell's number in the report."
    )
    count = serializers.IntegerField(
        help_text="当前计入的记录数 / How many records count in it now."
    )
    results = CellRecordOutputSerializer(many=True)


RECORD_TYPES = {
    "case": "case",
    "review": "review",
    "lawsuit": "lawsuit",
    "complaint": "complaint",
    "feenotice": "fee_notice",
}


def _record(record) -> dict:
    record_type = RECORD_TYPES[record._meta.model_name]
    if record_type == "case":
        return {
            "id": record.pk,
            "record_type": "case",
            "case_id": record.pk,
            "tracking_number": record.tracking_number,
        }
    case = record.case if record.case_id else None
    return {
        "id": record.pk,
        "record_type": record_type,
        "case_id": case.pk if case else None,
        "tracking_number": case.tracking_number if case else None,
    }


def _frozen(request, pk: int) -> AnnualReport:
    if pk > MAX_PK:
        raise ReportNotFound("未找到该年度报告。", "No such report.")
    return report_get(user=request.user, pk=pk)


def _cell_response(view, inputs: ReportInputs, cells: dict, key: str, column: str):
    try:
        info = cell_info(inputs.format, cells, key, column)
        queryset = cell_records(inputs, key, column)
    except (ReportInputError, KeyError):
        raise ReportNotFound(
            f"报告中没有这个数据格：{key}/{column}", f"No such cell: {key}/{column}"
        ) from None
    paginator = view.paginator
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return Response(
        {
            "key": key,
            "column": column,
            "row_label": info["row_label"],
            "column_label": info["column_label"],
            "value": info["value"],
            "count": paginator.count,
            "results": [_record(record) for record in page],
        }
    )


CELL_PARAMETERS = [
    OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, description="行键 / Row key"),
    OpenApiParameter(
        "column", OpenApiTypes.STR, OpenApiParameter.PATH, description="列键 / Column key"
    ),
]


# --- views ------------------------------------------------------------------------------------
class _ReportApiSettings:
    """DRF's settings, except that ``?format=`` is the report's format (as ``annual_report
    --format``), not DRF's renderer override (which would answer an unknown format with 404)."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class ReportContentNegotiation(DefaultContentNegotiation):
    settings = _ReportApiSettings()


class ReportView(StaffView):
    content_negotiation_class = ReportContentNegotiation


class ReportComputedView(ReportView):
    @extend_schema(
        operation_id="staff_reports_computed",
        summary="按条件计算年度报告 / The report computed now",
        description="年度报告 JSON（见 docs/reporting.md）/ The report JSON (docs/reporting.md).",
        tags=TAGS,
        parameters=[ReportInputsInputSerializer],
        responses={200: ReportContractOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        serializer = ReportInputsInputSerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        result = compute_report(serializer.report_inputs(request.user))
        return Response(result.as_json())


class ReportComputedCellView(ReportView, GenericAPIView):
    pagination_class = CaseListPagination

    @extend_schema(
        operation_id="staff_reports_computed_cell",
        summary="计入某数据格的记录（按条件计算）/ The records counted in one computed cell",
        tags=TAGS,
        parameters=[ReportInputsInputSerializer, *CELL_PARAMETERS],
        responses={200: CellOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, key: str, column: str):
        params = {
            k: v for k, v in request.query_params.dict().items() if k not in ("limit", "offset")
        }
        serializer = ReportInputsInputSerializer(data=params)
        serializer.is_valid(raise_exception=True)
        inputs = serializer.report_inputs(request.user)
        cells = compute_report(inputs).cells
        return _cell_response(self, inputs, cells, key, column)


class ReportListView(ReportView, GenericAPIView):
    pagination_class = CaseListPagination
    serializer_class = FrozenReportListOutputSerializer
    queryset = AnnualReport.objects.none()

    @extend_schema(
        operation_id="staff_reports_list",
        summary="已生成的年度报告 / Frozen reports",
        tags=TAGS,
        parameters=[ReportListFilterInputSerializer],
        responses={
            200: FrozenReportListOutputSerializer(many=True),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request):
        filters = ReportListFilterInputSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        queryset = report_list(user=request.user)
        if "year" in data:
            queryset = queryset.filter(year=data["year"])
        if "agency" in data:
            queryset = queryset.filter(agency__code=data["agency"])
        if "status" in data:
            queryset = queryset.filter(status=data["status"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(FrozenReportListOutputSerializer(page, many=True).data)


class ReportDetailView(ReportView):
    @extend_schema(
        operation_id="staff_reports_retrieve",
        summary="一份年度报告：数据、校验、文字部分 / One frozen report",
        tags=TAGS,
        responses={200: FrozenReportDetailOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(FrozenReportDetailOutputSerializer(_frozen(request, pk)).data)


class ReportGenerateView(ReportView):
    @extend_schema(
        operation_id="staff_reports_generate",
        summary="生成并保存年度报告 / Generate and store a report",
        description=(
            "同条件的未发布报告被替换；已发布的报告不被覆盖（409）。/ An unpublished report "
            "with the same inputs is replaced; a published one is locked (409)."
        ),
        tags=TAGS,
        request=ReportInputsInputSerializer,
        responses={
            201: FrozenReportDetailOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request):
        serializer = ReportInputsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs = serializer.report_inputs(request.user)
        report = report_generate(
            agency=inputs.agency,
            year=inputs.year,
            format=inputs.format,
            include_descendants=inputs.include_descendants,
            cutoff=inputs.cutoff,
            actor=request.user,
        )
        report = report_get(user=request.user, pk=report.pk)
        return Response(FrozenReportDetailOutputSerializer(report).data, status=201)


class ReportPublishView(ReportView):
    @extend_schema(
        operation_id="staff_reports_publish",
        summary="发布并锁定年度报告 / Publish and lock a report",
        description="审核人或管理员 / Approvers and administrators. Publishing twice is a no-op.",
        tags=TAGS,
        request=None,
        responses={
            200: FrozenReportDetailOutputSerializer,
            **error_responses(401, 403, 404),
        },
    )
    def post(self, request, pk: int):
        report = report_publish(report=_frozen(request, pk), actor=request.user)
        report = report_get(user=request.user, pk=report.pk)
        return Response(FrozenReportDetailOutputSerializer(report).data)


class ReportCellView(ReportView, GenericAPIView):
    pagination_class = CaseListPagination

    @extend_schema(
        operation_id="staff_reports_cell",
        summary="计入冻结报告某数据格的记录 / The records counted in one cell of a report",
        description=(
            "按报告保存的条件用当前数据查询；value 是报告中保存的数字，count 是当前计入的记录数，"
            "两者不同说明报告生成后数据有变更。/ Queried now with the report's stored inputs: "
            "`value` is the stored number, `count` the records counted now."
        ),
        tags=TAGS,
        parameters=CELL_PARAMETERS,
        responses={200: CellOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, pk: int, key: str, column: str):
        report = _frozen(request, pk)
        return _cell_response(self, report_inputs(report), report.cells, key, column)
