"""The history export from the caseworkers' admin: the case page shows the buttons to the
roles that may export (``templatetags.audit_tags``), and this view sends the file."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.http import content_disposition_header

from requests_app.selectors import case_visible

from .history import (
    CONTENT_TYPES,
    FORMATS,
    file_name,
    history_document,
    log_export,
    may_export_history,
    render,
)


def case_history_export(request, object_id: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404("没有这种导出格式。")
    if not request.user.is_superuser and getattr(request.user, "caseworker", None) is None:
        raise PermissionDenied
    case = case_visible(user=request.user).select_related("agency").filter(pk=object_id).first()
    if case is None:
        raise Http404("未找到该申请。")
    if not may_export_history(request.user):
        raise PermissionDenied
    document = history_document(case, exported_by=request.user)
    log_export(request.user, document, fmt, via="admin")
    response = HttpResponse(render(document, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, file_name(case, fmt))
    return response


def urls():
    return [
        path(
            "admin/requests_app/case/<int:object_id>/history-export/<slug:fmt>/",
            admin.site.admin_view(case_history_export),
            name="audit-case-history-export",
        )
    ]
