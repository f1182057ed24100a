"""``GET /api/v1/staff/cases/<id>/history.csv`` and ``history.json``: a case's full history.

Auditors, approvers and administrators (superusers too) on the cases they see; another role
is a 403, a case the user cannot see a 404 (as in the rest of the staff API)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer

from requests_app.api.common import error_responses
from requests_app.api.staff import StaffView, visible_case_get

from .history import (
    CONTENT_TYPES,
    file_name,
    history_document,
    log_export,
    may_export_history,
    render,
)


class HistoryEventOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="顺序号，从 1 起 / Position, from 1.")
    event_id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True, help_text="空为系统 / null: the system.")
    actor_username = serializers.CharField(allow_blank=True)
    actor_label = serializers.CharField(allow_blank=True)
    recorded_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    from_state = serializers.CharField(allow_blank=True)
    from_state_label = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    to_state_label = serializers.CharField(allow_blank=True)
    data = serializers.DictField()
    reason = serializers.CharField(allow_blank=True)


class HistoryCaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    agency = serializers.CharField(help_text="机关代码 / Agency code.")
    state = serializers.CharField()
    version = serializers.IntegerField()


class HistoryOutputSerializer(serializers.Serializer):
    case = HistoryCaseOutputSerializer()
    exported_at = serializers.DateTimeField()
    exported_by = serializers.CharField()
    events = HistoryEventOutputSerializer(many=True)


def _renderer(fmt: str, media_type: str):
    class FileRenderer(BaseRenderer):
        # Lets a client ask for the file's own type; the view answers with the file itself.
        format = fmt

        def render(self, data, accepted_media_type=None, renderer_context=None):
            return data

    FileRenderer.media_type = media_type
    return FileRenderer


def _history_view(fmt: str):
    media_type = CONTENT_TYPES[fmt].split(";")[0]

    class View(StaffView):
        renderer_classes = (
            StaffView.renderer_classes
            if fmt == "json"
            else [*StaffView.renderer_classes, _renderer(fmt, media_type)]
        )

        @extend_schema(
            operation_id=f"staff_cases_history_{fmt}",
            summary=f"导出办理记录（{fmt.upper()}）/ Export a case's full history as {fmt.upper()}",
            description=(
                "审计员、审核人、管理员可导出其可见申请的全部办理记录：操作人、记录时间、发生时间、"
                "原状态、新状态、内容、说明。/ Auditors, approvers and administrators export every "
                "event of a case they see: actor, recorded and effective time, from/to state, "
                "data, reason. Each export is logged."
            ),
            tags=["staff audit"],
            responses={
                (200, media_type): OpenApiResponse(
                    HistoryOutputSerializer if fmt == "json" else OpenApiTypes.STR,
                    description="全部办理记录 / The full history.",
                ),
                **error_responses(401, 403, 404),
            },
        )
        def get(self, request, pk: int):
            case = visible_case_get(request, pk, with_history=False)
            if not may_export_history(request.user):
                raise PermissionDenied
            document = history_document(case, exported_by=request.user)
            log_export(request.user, document, fmt, via="api")
            response = HttpResponse(render(document, fmt), content_type=CONTENT_TYPES[fmt])
            response["Content-Disposition"] = content_disposition_header(True, file_name(case, fmt))
            return response

    View.__name__ = f"CaseHistory{fmt.title()}View"
    return View


CaseHistoryCsvView = _history_view("csv")
CaseHistoryJsonView = _history_view("json")


def urls():
    from django.urls import path

    return [
        path(
            "api/v1/staff/cases/<int:pk>/history.csv",
            CaseHistoryCsvView.as_view(),
            name="staff-case-history-csv",
        ),
        path(
            "api/v1/staff/cases/<int:pk>/history.json",
            CaseHistoryJsonView.as_view(),
            name="staff-case-history-json",
        ),
    ]
