"""The case list's tools: bulk actions, export of the current list, saved filters.

- **Bulk actions** (the list's action menu): 指定/更换承办人 (a page to choose the handler, then
  ``case_assign`` for each selected case) and 发送办理提醒 (``case_send_reminder``). Each case
  goes through its service — one event each, the same permission and state checks as on the
  case page; a case the service refuses is reported with its reason and the others go on.
- **Export** (导出当前列表): the rows of the list as it is filtered and searched now, as xlsx or
  CSV. ID number, phone, e-mail and address are masked unless the user's role may see personal
  data; an export with full personal data is logged in the audit log.
- **Saved filters** (我的筛选): the current filter under a name, listed on the workbench.
"""

from __future__ import annotations

import csv
import io
import logging
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from requests_app.choices import Role
from requests_app.masking import mask_address, mask_email, mask_id_number, mask_phone
from requests_app.models import Case, SavedFilter
from requests_app.permissions import can_view_personal_data, role_allows
from requests_app.services.cases import case_assign, case_send_reminder
from requests_app.services.errors import ServiceError

audit_log = logging.getLogger("requests_app.audit")
EXPORT_LIMIT = 50_000  # rows; a larger list is refused with the reason (narrow the filter)
# Query parameters that are not part of a filter: the page, the popup flags, errors.
NOT_FILTER = {"p", "e", "_popup", "_to_field", "o_export"}

COLUMNS = (
    ("tracking_number", "申请编号"),
    ("agency", "受理机关"),
    ("applicant_type", "申请人类型"),
    ("applicant_name", "申请人姓名/名称"),
    ("id_number", "证件号码"),
    ("phone", "联系电话"),
    ("email", "电子邮箱"),
    ("address", "通讯地址"),
    ("channel", "申请渠道"),
    ("description", "所需信息内容描述"),
    ("submitted_at", "提交时间"),
    ("received_on", "收到申请日期"),
    ("reply_due_on", "答复期限"),
    ("state", "状态"),
    ("handler", "承办人"),
    ("outcome", "办理结果"),
    ("concluded_on", "办结日期"),
    ("timeliness", "办理时效"),
)


def filter_query(params) -> str:
    """The list's query string without the page number and the like (what a filter is)."""
    return urlencode([(k, v) for k, v in params.items() if k not in NOT_FILTER])


def export_row(case: Case, full: bool) -> list:
    handler = case.handler
    return [
        case.tracking_number,
        case.agency.name,
        case.get_applicant_type_display(),
        case.applicant_name,
        case.id_number if full else mask_id_number(case.id_number),
        case.phone if full else mask_phone(case.phone),
        case.email if full else mask_email(case.email),
        case.address if full else mask_address(case.address),
        case.get_channel_display(),
        case.description,
        timezone.localtime(case.submitted_at).strftime("%Y-%m-%d %H:%M")
        if case.submitted_at
        else "",
        case.received_on.isoformat() if case.received_on else "",
        case.reply_due_on.isoformat() if case.reply_due_on else "",
        case.get_state_display(),
        (handler.get_full_name() or handler.get_username()) if handler else "",
        case.get_outcome_display() if case.outcome else "",
        case.concluded_on.isoformat() if case.concluded_on else "",
        case.get_timeliness_display() if case.timeliness else "",
    ]


def export_cases(cases, *, full: bool, fmt: str) -> bytes:
    header = [label for _key, label in COLUMNS]
    rows = (export_row(c, full) for c in cases)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            # A cell starting with = + - @ would be a formula in a spreadsheet: quote it.
            writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV right
    book = Workbook(write_only=True)
    sheet = book.create_sheet("公开申请")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- bulk actions --------------------------------------------------------------------------------
class BulkAssignForm(forms.Form):
    handler = forms.ModelChoiceField(label="承办人", queryset=get_user_model().objects.none())

    def __init__(self, *args, agency_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = (
            get_user_model()
            .objects.filter(
                is_active=True,
                caseworker__agency_id__in=agency_ids,
                caseworker__role__in=[Role.HANDLER, Role.APPROVER],
            )
            .select_related("caseworker__agency")
            .order_by("caseworker__agency__path", "username")
        )
        self.fields["handler"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.get_username()}（{u.caseworker.agency.name}"
            f"·{u.caseworker.get_role_display()}）"
        )


def _run_each(request, cases, label: str, call) -> None:
    """Call the service for each case; report how many went through and each refusal."""
    done, refused = 0, []
    for case in cases:
        try:
            call(case)
        except ServiceError as exc:
            refused.append(f"{case.tracking_number}：{exc.message}")
        else:
            done += 1
    if done:
        messages.success(request, f"{label}：已处理 {done} 件。")
    for line in refused:
        messages.warning(request, f"{label}未执行 — {line}")


def bulk_assign(model_admin, request, queryset):
    cases = list(queryset.select_related("agency"))
    agency_ids = {c.agency_id for c in cases}
    if "apply" in request.POST:
        form = BulkAssignForm(request.POST, agency_ids=agency_ids)
        if form.is_valid():
            handler = form.cleaned_data["handler"]
            _run_each(
                request,
                cases,
                "指定承办人",
                lambda case: case_assign(case=case, actor=request.user, handler=handler),
            )
            return None
    else:
        form = BulkAssignForm(agency_ids=agency_ids)
    return TemplateResponse(
        request,
        "admin/requests_app/case/bulk_assign.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": "指定/更换承办人",
            "subtitle": None,
            "form": form,
            "cases": cases,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


bulk_assign.short_description = "指定/更换承办人"


def bulk_remind(model_admin, request, queryset):
    _run_each(
        request,
        queryset.select_related("agency", "handler"),
        "发送办理提醒",
        lambda case: case_send_reminder(case=case, actor=request.user),
    )


bulk_remind.short_description = "向承办人发送办理提醒"

BULK_ACTIONS = (bulk_assign, bulk_remind)
# The permission each bulk action needs somewhere (the service checks it per case).
BULK_ACTION_PERMISSION = {"bulk_assign": "assign", "bulk_remind": "send_reminder"}


def offered_bulk_actions(request, actions: dict) -> dict:
    """Only the bulk actions the user's role may take on some case."""
    return {
        name: action
        for name, action in actions.items()
        if name not in BULK_ACTION_PERMISSION
        or role_allows(request.user, BULK_ACTION_PERMISSION[name])
    }


# --- export and saved filters: views of the case admin ------------------------------------------
def export_view(model_admin, request, fmt: str):
    if fmt not in CONTENT_TYPES:
        raise Http404("没有这种导出格式。")
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    changelist = model_admin.get_changelist_instance(request)
    cases = changelist.get_queryset(request).select_related("agency", "handler")
    count = cases.count()
    back = reverse("admin:requests_app_case_changelist") + "?" + filter_query(request.GET)
    if count > EXPORT_LIMIT:
        messages.error(
            request, f"当前列表有 {count} 件，超过导出上限 {EXPORT_LIMIT} 件，请先缩小筛选范围。"
        )
        return redirect(back)
    full = can_view_personal_data(request.user)
    data = export_cases(cases.iterator(chunk_size=2000), full=full, fmt=fmt)
    if full:
        audit_log.info(
            "personal data export user=%s rows=%d format=%s",
            request.user.get_username(),
            count,
            fmt,
        )
    name = f"公开申请-{timezone.localdate():%Y%m%d}.{fmt}"
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def save_filter_view(model_admin, request):
    if request.method != "POST" or not model_admin.has_view_permission(request):
        raise PermissionDenied
    name = (request.POST.get("name") or "").strip()[:60]
    query = filter_query(dict(parse_qsl(request.POST.get("query", ""))))[:1000]
    back = reverse("admin:requests_app_case_changelist") + (f"?{query}" if query else "")
    if not name:
        messages.error(request, "请为筛选起一个名称。")
        return redirect(back)
    try:
        with transaction.atomic():
            SavedFilter.objects.create(user=request.user, name=name, query=query)
    except IntegrityError:
        messages.error(request, f"已有名为“{name}”的筛选，请换一个名称。")
        return redirect(back)
    messages.success(request, f"已保存筛选“{name}”，可在工作台找到。")
    return redirect(back)


def delete_filter_view(model_admin, request, pk: int):
    if request.method != "POST":
        raise PermissionDenied
    deleted, _ = SavedFilter.objects.filter(user=request.user, pk=pk).delete()
    if not deleted:
        raise Http404("没有这个筛选。")
    messages.success(request, "已删除筛选。")
    return redirect(reverse("admin:index"))


def list_urls(model_admin) -> list:
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "export/<slug:fmt>/",
            wrap(lambda request, fmt: export_view(model_admin, request, fmt)),
            name="requests_app_case_export",
        ),
        path(
            "saved-filters/",
            wrap(lambda request: save_filter_view(model_admin, request)),
            name="requests_app_case_save_filter",
        ),
        path(
            "saved-filters/<int:pk>/delete/",
            wrap(lambda request, pk: delete_filter_view(model_admin, request, pk)),
            name="requests_app_case_delete_filter",
        ),
    ]
