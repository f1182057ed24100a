"""The case list and the case page. Nothing on the page saves the model: every change is an
action button whose form posts to ``action_view``, which calls the matching service with the
version the caseworker saw (docs/architecture.md, 'The one path of a write')."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Q, Value
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from requests_app import selectors, workbench
from requests_app.clock import PROVISIONAL_MARK, provisional_years_of
from requests_app.legal_selectors import letter_list
from requests_app.masking import mask_address, mask_email, mask_id_number, mask_phone
from requests_app.models import Agency, Case, EventKind, Notification
from requests_app.permissions import (
    agencies_visible,
    agency_writable,
    can_view_personal_data,
    role_allows,
)
from requests_app.review import release_current
from requests_app.services.cases import (
    ACTIONS,
    case_abandonment_refusal,
    case_available_actions,
)
from requests_app.services.errors import (
    CaseNotFound,
    InvalidInput,
    ServiceError,
)
from requests_app.services.fees import fee_compute_for_case
from requests_app.services.intake import case_intake
from requests_app.workbench import DUE_SOON_DAYS, due_q, due_soon_limit

from . import lists
from . import records as records_admin
from . import records_tasks as records_tasks_admin
from .access import CaseworkerAccessMixin
from .display import clock_sections, event_rows
from .forms import ACTION_FORMS, IntakeForm
from .legal import LEGAL_ACTIONS, LETTER_CONTENT_TYPES, legal_panels, legal_target
from .submit import invalid_on_field, run_service

audit_log = logging.getLogger("requests_app.audit")

RECEIPT_SESSION_KEY = "requests_app_intake_receipt"

# Actions that are not the case's main line of work: shown after the others, less prominent.
SECONDARY_ACTIONS = ("assign", "note", "withdraw")
BUTTON_LABELS = {"note": "添加备注", "assign": "指定/更换承办人", "record_search": "登记检索记录"}


def format_date(day: dt.date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else "—"


def format_due(case: Case, field: str) -> str:
    """A due date, with "（暂定）" when it was computed on a provisional calendar year."""
    day = getattr(case, field)
    if day and provisional_years_of(case.clock, field):
        return format_date(day) + PROVISIONAL_MARK
    return format_date(day)


def _due_display(field: str, label: str):
    @admin.display(description=label, ordering=field)
    def show(self, case):
        # Localized like the other date fields of the page, plus the provisional mark.
        day = getattr(case, field)
        if day is None:
            return "—"
        mark = PROVISIONAL_MARK if provisional_years_of(case.clock, field) else ""
        return formats.localize(day) + mark

    return show


def action_label(action: str) -> str:
    return BUTTON_LABELS.get(action) or str(EventKind(action).label)


def submit_label(label: str) -> str:
    """The form's submit button: "确认" + the action, unless the action already says it
    (确认接收, 确认缴费, 确定延迟答复期限 — never "确认确认接收")."""
    return label if label.startswith(("确认", "确定")) else f"确认{label}"


def available_actions(case: Case, user) -> list[str]:
    """Exactly the actions ``user`` may take on ``case`` now (``case_available_actions``), in
    the order of the buttons."""
    names = case_available_actions(case=case, user=user)
    ordered = [name for name in ACTIONS if name in names and name not in SECONDARY_ACTIONS]
    return ordered + [name for name in SECONDARY_ACTIONS if name in names]


def intake_agencies(user) -> list[Agency]:
    """The agencies ``user`` may register counter applications for."""
    if not role_allows(user, "intake"):
        return []
    return [agency for agency in agencies_visible(user).agencies() if agency_writable(user, agency)]


# --- list filters -------------------------------------------------------------------------------
class MyCasesFilter(admin.SimpleListFilter):
    title = "我的案件"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "我承办的")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(handler=request.user)
        return queryset


class DueFilter(admin.SimpleListFilter):
    title = "答复期限"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("attention", f"已逾期或 {DUE_SOON_DAYS} 个工作日内到期"),
            ("overdue", "已逾期"),
            ("soon", f"{DUE_SOON_DAYS} 个工作日内到期"),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("attention", "overdue", "soon"):
            return queryset.filter(due_q(self.value(), request.user))
        return queryset


class TodoFilter(admin.SimpleListFilter):
    """The workbench's items (``requests_app.workbench``): the list shows exactly the cases
    the workbench counted."""

    title = "工作台事项"
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return [(item.key, item.label) for item in workbench.items_for(request.user)]

    def queryset(self, request, queryset):
        item = workbench.BY_KEY.get(self.value() or "")
        if item is None:
            return queryset
        return item.narrow(queryset, request.user)


class AgencyFilter(admin.SimpleListFilter):
    """Only the agencies the user sees; choosing one includes its subtree."""

    title = "受理机关"
    parameter_name = "agency"

    def lookups(self, request, model_admin):
        agencies = agencies_visible(request.user).agencies().only("pk", "name", "depth")
        if len(agencies) <= 1:
            return []
        top = min(a.depth for a in agencies)
        return [(str(a.pk), "　" * (a.depth - top) + a.name) for a in agencies]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # "=ID" is that agency alone (the workbench's per-agency counts link so).
        exact = self.value().startswith("=")
        pk = self.value().removeprefix("=")
        if not pk.isdigit():
            return queryset.none()
        agency = agencies_visible(request.user).agencies().filter(pk=pk).first()
        if agency is None:
            return queryset.none()
        if exact:
            return queryset.filter(agency=agency)
        return queryset.filter(agency__path__startswith=agency.path)


# --- the admin ------------------------------------------------------------------------------------
@admin.register(Case)
class CaseAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    list_display = (
        "tracking_number",
        "applicant_column",
        "state_column",
        "received_column",
        "due_column",
        "handler_column",
        "agency",
    )
    list_display_links = ("tracking_number",)
    list_filter = (
        TodoFilter,
        MyCasesFilter,
        "state",
        DueFilter,
        AgencyFilter,
        "channel",
        "applicant_type",
        "outcome",
    )
    search_fields = ("tracking_number",)  # shows the box; the search itself is below
    search_help_text = "按申请编号、申请人姓名（开头部分）或联系电话查找"
    list_select_related = ("agency", "handler")
    list_per_page = 50
    actions = lists.BULK_ACTIONS
    show_full_result_count = False

    personal_fields = ("id_number_display", "phone_display", "email_display", "address_display")
    fieldsets = (
        (
            "申请人",
            {
                "fields": (
                    ("applicant_type", "applicant_name"),
                    ("id_type", "id_number_display"),
                    ("phone_display", "email_display"),
                    ("address_display", "postal_code"),
                    ("legal_representative", "contact_person"),
                )
            },
        ),
        (
            "申请内容",
            {
                "fields": (
                    "description",
                    ("document_number", "purpose"),
                    ("information_form", "delivery_method"),
                    ("channel", "submitted_at", "received_on"),
                )
            },
        ),
        (
            "办理情况",
            {
                "fields": (
                    ("tracking_number", "agency", "handler_column"),
                    "state",
                    ("draft_outcome", "draft_legal_basis"),
                    ("outcome", "legal_basis"),
                    ("supplement_requested", "is_extended"),
                    ("replied_on", "concluded_on"),
                    ("timeliness", "working_days_late"),
                )
            },
        ),
        (
            "期限",
            {
                "fields": (
                    ("restarted_on", "reply_due_display"),
                    ("supplement_notice_due_display", "supplement_due_display"),
                    ("fee_due_display", "consultation_due_display"),
                )
            },
        ),
    )
    due_fields = (
        "reply_due_display",
        "supplement_notice_due_display",
        "supplement_due_display",
        "fee_due_display",
        "consultation_due_display",
    )
    readonly_fields = (*personal_fields, *due_fields, "handler_column")

    # --- scope ----------------------------------------------------------------------------
    def get_queryset(self, request):
        # The user's right to see personal data travels with each row, so that the display
        # methods (which get only the object) need no per-request state on this singleton.
        return (
            selectors.case_visible(user=request.user)
            .select_related("agency", "handler")
            .annotate(
                show_personal_data=Value(
                    can_view_personal_data(request.user), output_field=BooleanField()
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(tracking_number=term.upper()) | Q(applicant_name__startswith=term) | Q(phone=term)
        return queryset.filter(match), False

    # --- columns --------------------------------------------------------------------------
    @admin.display(description="申请人", ordering="applicant_name")
    def applicant_column(self, case):
        phone = case.phone if self._personal(case) else mask_phone(case.phone)
        if not phone:
            return case.applicant_name
        return format_html('{}<br><span class="quiet">{}</span>', case.applicant_name, phone)

    @admin.display(description="状态", ordering="state")
    def state_column(self, case):
        return format_html(
            '<span class="case-state case-state-{}">{}</span>', case.state, case.get_state_display()
        )

    @admin.display(description="收到日期", ordering="received_on")
    def received_column(self, case):
        return format_date(case.received_on)

    @admin.display(description="答复期限", ordering="reply_due_on")
    def due_column(self, case):
        if case.reply_due_on is None:
            return "—"
        today = timezone.localdate()
        if case.is_open and case.reply_due_on < today:
            return format_html(
                '<strong class="case-overdue">{}<br>（已逾期）</strong>',
                format_date(case.reply_due_on),
            )
        if case.is_open and case.reply_due_on <= due_soon_limit(case.agency):
            return format_html(
                '<span class="case-due-soon">{}</span>', format_due(case, "reply_due_on")
            )
        return format_due(case, "reply_due_on")

    # The 期限 fieldset: each due date with its provisional mark.
    reply_due_display = _due_display("reply_due_on", "答复期限")
    supplement_notice_due_display = _due_display("supplement_notice_due_on", "补正告知期限")
    supplement_due_display = _due_display("supplement_due_on", "申请人补正期限")
    fee_due_display = _due_display("fee_due_on", "缴费期限")
    consultation_due_display = _due_display("consultation_due_on", "征求意见期限")

    @admin.display(description="承办人", ordering="handler__username")
    def handler_column(self, case):
        if case.handler is None:
            return "—"
        return case.handler.get_full_name() or case.handler.get_username()

    # --- personal data, masked unless the user may see it ------------------------------------
    def _personal(self, case) -> bool:
        return bool(getattr(case, "show_personal_data", False))

    def _show(self, case, value: str, mask) -> str:
        if not value:
            return "—"
        return value if self._personal(case) else mask(value)

    @admin.display(description="证件号码")
    def id_number_display(self, case):
        return self._show(case, case.id_number, mask_id_number)

    @admin.display(description="联系电话")
    def phone_display(self, case):
        return self._show(case, case.phone, mask_phone)

    @admin.display(description="电子邮箱")
    def email_display(self, case):
        return self._show(case, case.email, mask_email)

    @admin.display(description="通讯地址")
    def address_display(self, case):
        return self._show(case, case.address, mask_address)

    def get_list_display(self, request):
        # The agency column only helps those who see more than one agency.
        if agencies_visible(request.user).agencies().count() > 1:
            return self.list_display
        return tuple(name for name in self.list_display if name != "agency")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_intake": bool(intake_agencies(request.user)),
            "intake_url": reverse("admin:requests_app_case_intake"),
            "filter_query": lists.filter_query(request.GET),
            "save_filter_url": reverse("admin:requests_app_case_save_filter"),
        }
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        return lists.offered_bulk_actions(request, super().get_actions(request))

    # --- the case page ------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if case is not None:
            context.update(self.case_context(request, case))
            if can_view_personal_data(request.user):
                audit_log.info(
                    "full record viewed: case=%s user=%s", case.tracking_number, request.user.pk
                )
        return super().change_view(request, object_id, form_url, context)

    def case_context(self, request, case: Case) -> dict:
        events = case.events.select_related("actor").order_by("effective_at", "pk")
        receipt = request.session.get(RECEIPT_SESSION_KEY)
        if receipt and receipt.get("case") == case.pk:
            del request.session[RECEIPT_SESSION_KEY]  # the access code is shown once
        else:
            receipt = None
        return {
            "case": case,
            "case_actions": [
                {
                    "name": name,
                    "label": action_label(name),
                    "url": reverse("admin:requests_app_case_act", args=[case.pk, name]),
                    "secondary": name in SECONDARY_ACTIONS,
                }
                for name in available_actions(case, request.user)
            ],
            "legal": legal_panels(case, request.user),
            "attachments": [
                {
                    "item": item,
                    "url": reverse(
                        "admin:requests_app_case_attachment_file", args=[case.pk, item.pk]
                    )
                    if can_view_personal_data(request.user)
                    else "",
                }
                for item in case.attachments.all()
            ],
            # The text messages to the applicant and what the gateway said (never the number).
            "sms": list(
                case.notifications.filter(channel=Notification.Channel.SMS).order_by(
                    "created_at", "pk"
                )
            ),
            "records_panel": records_admin.records_panel(case, request.user),
            "tasks_panel": records_tasks_admin.tasks_panel(case, request.user),
            "history": event_rows(events),
            "clock_sections": clock_sections(case.clock or {}),
            "reply_due_mark": (
                PROVISIONAL_MARK if provisional_years_of(case.clock, "reply_due_on") else ""
            ),
            "receipt": receipt,
            "is_overdue": bool(
                case.is_open and case.reply_due_on and case.reply_due_on < timezone.localdate()
            ),
        }

    def history_view(self, request, object_id, extra_context=None):
        # The case's history is its CaseEvent rows, on the case page (not admin LogEntry).
        return redirect(
            reverse("admin:requests_app_case_change", args=[unquote(object_id)]) + "#case-history"
        )

    # --- actions --------------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("intake/", wrap(self.intake_view), name="requests_app_case_intake"),
            path(
                "<int:object_id>/act/<slug:action>/",
                wrap(self.action_view),
                name="requests_app_case_act",
            ),
            path(
                "<int:object_id>/act/<slug:action>/<int:target_id>/",
                wrap(self.action_view),
                name="requests_app_case_act_on",
            ),
            path(
                "<int:object_id>/letters/<int:letter_id>/<str:fmt>/",
                wrap(self.letter_file_view),
                name="requests_app_case_letter_file",
            ),
            *lists.list_urls(self),
            path(
                "<int:object_id>/attachments/<int:attachment_id>/",
                wrap(self.attachment_file_view),
                name="requests_app_case_attachment_file",
            ),
            *records_admin.urls(self.admin_site),
            *records_tasks_admin.case_urls(self.admin_site),
            *super().get_urls(),
        ]

    def _visible_case(self, request, object_id) -> Case:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            return selectors.case_get(user=request.user, pk=int(object_id))
        except (CaseNotFound, ValueError) as exc:
            raise Http404("未找到该申请。") from exc

    def action_view(self, request, object_id, action, target_id=None):
        case = self._visible_case(request, object_id)
        if action in LEGAL_ACTIONS:
            return self.legal_action_view(request, case, LEGAL_ACTIONS[action], target_id)
        form_class = ACTION_FORMS.get(action)
        if form_class is None or action not in ACTIONS or target_id is not None:
            raise Http404("没有这个操作。")
        label = action_label(action)
        # An abandonment before the applicant's period ends: say until when (Arts 30, 42).
        refusal = case_abandonment_refusal(case=case, action=action)
        extra = {}
        if action == "approve":
            # The approver reads the release copy the reply rests on before signing.
            extra["release"] = release_current(case)
        return self._action_form(
            request,
            case,
            label=label,
            form=lambda data=None: form_class(
                data, request.FILES or None, case=case, user=request.user
            ),
            run=lambda form: run_action(case=case, action=action, form=form, actor=request.user),
            offered=action in available_actions(case, request.user),
            not_offered=refusal.message if refusal is not None else None,
            extra=extra,
        )

    def legal_action_view(self, request, case: Case, action, target_id):
        """A button of the 复议与诉讼, 投诉举报, 信息处理费 or 文书 panels: the same form page
        and outcomes as the case's own actions; a user whose role may not take it gets 403."""
        target = legal_target(action, request.user, case, target_id)
        if not action.allowed(request.user, case, target):
            raise PermissionDenied
        extra = {"target": target}

        def form(data=None):
            return action.form(data, case=case, user=request.user, target=target)

        def run(form):
            version = form.cleaned_data["expected_version"]
            return action.run(case, target, form, request.user, version)

        if request.method == "POST" and "_compute" in request.POST:
            # 计算信息处理费: show the computation of the pure rules, write nothing.
            bound = form(request.POST)
            if bound.is_valid():
                try:
                    extra["computation"] = fee_compute_for_case(
                        case=case,
                        method=bound.cleaned_data["method"],
                        pages=bound.cleaned_data.get("pages"),
                    )
                except InvalidInput as exc:
                    invalid_on_field(bound, exc)
            return self._render_action_form(request, case, action.label, bound, extra)
        return self._action_form(
            request,
            case,
            label=action.label,
            form=form,
            run=run,
            offered=action.applies(request.user, case, target),
            extra=extra,
        )

    def _action_form(
        self, request, case, *, label, form, run, offered, extra=None, not_offered=None
    ):
        """GET: the action's form (if the action is offered now; otherwise ``not_offered``, or
        a general message, on the case page); POST: the service with the version the page
        showed; success, conflicts and refusals back on the case page."""
        change_url = reverse("admin:requests_app_case_change", args=[case.pk])
        if request.method == "POST":
            bound = form(request.POST)
            if bound.is_valid():
                done = run_service(request, bound, run, label=label, back_url=change_url)
                if done is not None:
                    return done
        else:
            if not offered:
                messages.error(request, not_offered or f"当前不能对该申请执行“{label}”。")
                return redirect(change_url)
            bound = form()
        return self._render_action_form(request, case, label, bound, extra or {})

    def _render_action_form(self, request, case, label, form, extra):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "case": case,
            "title": f"{label}：{case.tracking_number}",
            "subtitle": None,
            "action_label": label,
            "submit_label": submit_label(label),
            "form": form,
            "media": self.media + form.media,
            "change_url": reverse("admin:requests_app_case_change", args=[case.pk]),
            **extra,
        }
        return TemplateResponse(request, "admin/requests_app/case/action_form.html", context)

    def attachment_file_view(self, request, object_id, attachment_id):
        """下载申请人材料: the applicant's identity document, 授权委托书 or 补正 file — personal
        data, so only for users who may see it in full, and every download is logged."""
        case = self._visible_case(request, object_id)
        if not can_view_personal_data(request.user):
            raise PermissionDenied
        item = case.attachments.filter(pk=attachment_id).first()
        if item is None:
            raise Http404("未找到该材料。")
        audit_log.info(
            "attachment downloaded: case=%s attachment=%s user=%s",
            case.tracking_number,
            item.pk,
            request.user.pk,
        )
        return FileResponse(
            item.file.open("rb"),
            as_attachment=True,
            filename=f"{case.tracking_number}-{item.kind}-{item.pk}.{item.content_kind}",
        )

    def letter_file_view(self, request, object_id, letter_id, fmt):
        """下载文书: the stored PDF or DOCX of one of the case's letters."""
        case = self._visible_case(request, object_id)
        if fmt not in LETTER_CONTENT_TYPES:
            raise Http404("未找到该文书。")
        letter = letter_list(user=request.user, case=case).filter(pk=letter_id).first()
        field = getattr(letter, fmt, None) if letter is not None else None
        if not field:
            raise Http404("未找到该文书。")
        return FileResponse(
            field.open("rb"),
            as_attachment=True,
            filename=f"{letter.number}{letter.title}.{fmt}",
            content_type=LETTER_CONTENT_TYPES[fmt],
        )

    # --- counter work -------------------------------------------------------------------------
    def intake_view(self, request):
        agencies = intake_agencies(request.user)
        if not agencies:
            raise PermissionDenied
        agency_qs = Agency.objects.filter(pk__in=[a.pk for a in agencies])
        if request.method == "POST":
            form = IntakeForm(request.POST, agencies=agency_qs)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    case, code = case_intake(
                        actor=request.user,
                        agency=data["agency"],
                        channel=data["channel"],
                        fields=form.case_fields(),
                        received_on=data.get("received_on"),
                        effective_at=data.get("effective_at"),
                    )
                except InvalidInput as exc:
                    invalid_on_field(form, exc)
                except ServiceError as exc:
                    messages.error(request, exc.message)
                else:
                    request.session[RECEIPT_SESSION_KEY] = {
                        "case": case.pk,
                        "tracking_number": case.tracking_number,
                        "access_code": code,
                    }
                    messages.success(request, f"已登记申请 {case.tracking_number}。")
                    return redirect(reverse("admin:requests_app_case_change", args=[case.pk]))
        else:
            form = IntakeForm(agencies=agency_qs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "登记当面/书面申请",
            "subtitle": None,
            "form": form,
            "sections": [
                {"title": title, "fields": [form[name] for name in names]}
                for title, names in IntakeForm.sections
            ],
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/requests_app/case/intake_form.html", context)


def run_action(*, case: Case, action: str, form, actor) -> Case:
    """Call the action's service with the form's data and the version the user saw."""
    service = ACTIONS[action]
    # Every action's service takes the version and checks it under the row lock.
    return service(
        case=case,
        actor=actor,
        expected_version=form.cleaned_data["expected_version"],
        **form.service_kwargs(),
    )
