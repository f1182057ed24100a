"""The admin for a case's legal life: 行政复议, 行政诉讼, 投诉举报, 收费通知, 文书 (with their
templates) and 重复申请 flags.

Every caseworker reads the records of the cases they may see (``legal_selectors``). Records
are written by the services, from the staff API and from the actions here: 复议/诉讼 lists are
read-only (with the due dates and results), scoped by the selectors and linked to the case
page, whose panels hold the buttons for each step (``admin/legal.py``); a letter can also be
served from its list (today, by post), and templates are edited by administrators through
``letter_template_save``, which checks the placeholders.

投诉举报 are received by a supervising office about a subordinate agency (Arts 47, 51), often
about no case the office sees, or no case at all: so the 投诉举报 list has its own 登记投诉举报
page (``complaint_receive``) for whoever may record complaints for an office, and each
complaint's page a 处理投诉举报 form (``complaint_handle``) for its receiving office. Both use
the case page's forms (``legal.ComplaintReceiveForm``, ``legal.ComplaintHandleForm``) and
outcomes; nothing here saves a model.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Value
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from requests_app.legal_selectors import (
    complaint_list,
    fee_notice_list,
    lawsuit_list,
    letter_list,
    letter_template_list,
    repeat_flags,
    review_list,
)
from requests_app.letters.facts import FIELDS
from requests_app.models import (
    Agency,
    Case,
    Complaint,
    FeeNotice,
    Lawsuit,
    Letter,
    LetterTemplate,
    RepeatCheck,
    Review,
)
from requests_app.permissions import visible_cases_filter
from requests_app.services.errors import ServiceError
from requests_app.services.letters import (
    letter_serve,
    letter_template_check,
    letter_template_save,
)
from requests_app.services.proceedings import (
    complaint_handle,
    complaint_receive,
    complaint_receiving_offices,
    complaint_subjects,
    may_record_complaints,
)

from .access import CaseworkerAccessMixin, is_administrator
from .agencies import administered_agencies
from .legal import LEGAL_ACTIONS, ComplaintHandleForm, ComplaintReceiveForm
from .submit import run_service


class ReadOnlyLegalAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    """A list scoped by its selector (what the user may see), each row linked to its case
    page, where the 复议与诉讼 / 投诉举报 / 信息处理费 / 文书 panels take the next step."""

    selector = None
    list_per_page = 50

    def get_queryset(self, request):
        return type(self).selector(user=request.user)

    @admin.display(description="申请", ordering="case__tracking_number")
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:requests_app_case_change", args=[obj.case_id]),
            obj.case.tracking_number,
        )

    def get_readonly_fields(self, request, obj=None):
        # A caseworker is shown by name, not as a link to the user admin (superusers only).
        return [
            _person_display(f) if _is_user_field(f) else f.name
            for f in self.model._meta.fields
            if f.name != "id"
        ]

    def get_exclude(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if _is_user_field(f)]


def _is_user_field(field) -> bool:
    return field.is_relation and field.related_model is get_user_model()


def _person_display(field):
    @admin.display(description=field.verbose_name)
    def person(obj):
        user = getattr(obj, field.name)
        return (user.get_full_name() or user.get_username()) if user else "—"

    person.__name__ = field.name
    return person


@admin.register(Review)
class ReviewAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(review_list)
    list_display = (
        "case_link",
        "review_body",
        "filed_on",
        "law",
        "decision_due_on",
        "answer_due_on",
        "answered_on",
        "decision",
        "result",
    )
    list_filter = ("result", "law", "simplified")
    search_fields = ("case__tracking_number", "review_body")
    date_hierarchy = "filed_on"


@admin.register(Lawsuit)
class LawsuitAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(lawsuit_list)
    list_display = (
        "case_link",
        "court",
        "filed_on",
        "instance",
        "after_review",
        "judgment_due_on",
        "defense_due_on",
        "defense_submitted_on",
        "judgment",
        "result",
    )
    list_filter = ("result", "after_review", "instance")
    search_fields = ("case__tracking_number", "court")
    date_hierarchy = "filed_on"


# --- 投诉举报 -------------------------------------------------------------------------------------
class ComplaintRecordForm(ComplaintReceiveForm):
    """登记投诉举报 from the 投诉举报 list: an agency the chosen office supervises, and, if the
    complaint is about one of its applications, that application's 申请编号. The office is
    entitled to name a case of the agency it supervises, whether or not it may open it."""

    agency = forms.ModelChoiceField(label="被投诉机关", queryset=Agency.objects.none())
    case = forms.CharField(
        label="申请编号",
        max_length=32,
        required=False,
        help_text="投诉举报涉及被投诉机关的某件申请时填写；留空为不涉及具体申请。",
    )
    service_fields = (*ComplaintReceiveForm.service_fields, "agency", "case")
    field_order = ("received_by", "agency", "kind", "complainant", "filed_on", "summary", "case")

    def __init__(self, *args, offices: list[Agency], **kwargs):
        self.offices = offices
        super().__init__(*args, case=None, **kwargs)
        subjects = complaint_subjects(offices)
        self.fields["agency"].queryset = Agency.objects.filter(pk__in=[a.pk for a in subjects])
        self.order_fields(self.field_order)

    def receiving_offices(self) -> list[Agency]:
        return self.offices

    def clean_case(self) -> str:
        return self.cleaned_data.get("case", "").strip().upper()

    def clean(self):
        # Whether the office supervises the agency is the service's check; its refusal comes
        # back on the agency field (``run_service``).
        data = super().clean()
        agency = data.get("agency")
        number = data.get("case")
        data["case"] = None
        if number and agency is not None:
            # Unknown and another agency's number read alike: nothing is told about others.
            data["case"] = Case.objects.filter(tracking_number=number, agency=agency).first()
            if data["case"] is None:
                self.add_error("case", f"{agency.name}没有申请编号为 {number} 的申请。")
        return data


# Who may handle a complaint, and when: the case page's own rule (the receiving office's
# people, ``may_receive_complaints``; not yet handled), which takes no case.
HANDLE = LEGAL_ACTIONS["complaint_handle"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(complaint_list)
    list_display = (
        "agency",
        "received_by",
        "kind",
        "filed_on",
        "case_link",
        "handled_on",
        "result",
    )
    list_filter = ("kind",)
    search_fields = ("complainant", "summary", "case__tracking_number")
    date_hierarchy = "filed_on"
    fields = (
        "agency",
        "received_by",
        "kind",
        "filed_on",
        "complainant",
        "summary",
        "case_link",
        "handled_on",
        "result",
        "is_substantiated",
    )
    change_list_template = "admin/requests_app/complaint/change_list.html"
    change_form_template = "admin/requests_app/complaint/change_form.html"

    def get_queryset(self, request):
        # Whether the user may open the complaint's case travels with each row: a supervising
        # office sees complaints about cases it does not see.
        condition = visible_cases_filter(request.user, prefix="case__")
        if condition is None:
            visible = Value(False)
        elif not condition:
            visible = Value(True)
        else:
            visible = ExpressionWrapper(condition, output_field=BooleanField())
        return super().get_queryset(request).annotate(case_is_visible=visible)

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="申请", ordering="case__tracking_number")
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        if not getattr(obj, "case_is_visible", False):
            return obj.case.tracking_number
        return super().case_link(obj)

    def has_add_permission(self, request) -> bool:
        return may_record_complaints(request.user)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/handle/",
                wrap(self.handle_view),
                name="requests_app_complaint_handle",
            ),
            *super().get_urls(),
        ]

    def _visible_complaint(self, request, object_id) -> Complaint:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            pk = int(unquote(object_id))
        except ValueError as exc:
            raise Http404("未找到该投诉举报。") from exc
        found = self.get_queryset(request).filter(pk=pk).first() if 0 < pk < 2**63 else None
        if found is None:
            raise Http404("未找到该投诉举报。")
        return found

    def _render_form(self, request, form, *, title: str, complaint=None, back_url: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            "form": form,
            "complaint": complaint,
            "back_url": back_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/requests_app/complaint/action_form.html", context)

    # --- 登记投诉举报 ----------------------------------------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        """登记投诉举报 (``complaint_receive``) for an office the user may record for, about an
        agency it supervises, optionally one of that agency's cases named by 申请编号."""
        offices = complaint_receiving_offices(request.user)
        if not offices:
            raise PermissionDenied
        changelist_url = reverse("admin:requests_app_complaint_changelist")
        if request.method == "POST":
            form = ComplaintRecordForm(request.POST, user=request.user, offices=offices)
            if form.is_valid():
                done = run_service(
                    request,
                    form,
                    lambda f: complaint_receive(actor=request.user, **f.service_kwargs()),
                    label="登记投诉举报",
                    back_url=changelist_url,
                    done_url=lambda c: reverse("admin:requests_app_complaint_change", args=[c.pk]),
                )
                if done is not None:
                    return done
        else:
            form = ComplaintRecordForm(user=request.user, offices=offices)
        return self._render_form(request, form, title="登记投诉举报", back_url=changelist_url)

    # --- the complaint's page and 处理投诉举报 -------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self._visible_complaint(request, object_id)
        context = {
            **(extra_context or {}),
            "complaint": complaint,
            "handle_url": reverse("admin:requests_app_complaint_handle", args=[complaint.pk]),
        }
        if HANDLE.allowed(request.user, None, complaint) and HANDLE.applies(
            request.user, None, complaint
        ):
            form = ComplaintHandleForm(case=None, user=request.user, target=complaint)
            context.update(handle_form=form, media=self.media + form.media)
        return super().change_view(request, object_id, form_url, context)

    def handle_view(self, request, object_id):
        """处理投诉举报 (``complaint_handle``), for the receiving office only (403 for others);
        a complaint already handled is refused with the service's message."""
        complaint = self._visible_complaint(request, object_id)
        if not HANDLE.allowed(request.user, None, complaint):
            raise PermissionDenied
        change_url = reverse("admin:requests_app_complaint_change", args=[complaint.pk])
        if request.method == "POST":
            form = ComplaintHandleForm(request.POST, case=None, user=request.user, target=complaint)
            if form.is_valid():
                done = run_service(
                    request,
                    form,
                    lambda f: complaint_handle(
                        complaint=complaint, actor=request.user, **f.service_kwargs()
                    ),
                    label="处理投诉举报",
                    back_url=change_url,
                )
                if done is not None:
                    return done
        elif not HANDLE.applies(request.user, None, complaint):
            messages.error(request, "该投诉举报已处理。")
            return redirect(change_url)
        else:
            form = ComplaintHandleForm(case=None, user=request.user, target=complaint)
        return self._render_form(
            request, form, title="处理投诉举报", complaint=complaint, back_url=change_url
        )


@admin.register(FeeNotice)
class FeeNoticeAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(fee_notice_list)
    list_display = ("case_link", "method", "amount_yuan", "issued_on", "paid_on", "waived", "shown")
    list_filter = ("method", "waived")
    search_fields = ("case__tracking_number",)

    @admin.display(description="计算过程")
    def shown(self, obj):
        return (obj.computation or {}).get("text", "")


@admin.register(Letter)
class LetterAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(letter_list)
    list_display = ("number", "title", "case_link", "addressee", "drafted_at", "served_on", "files")
    list_filter = ("kind",)
    search_fields = ("number", "case__tracking_number", "addressee")
    actions = ["serve_today_by_post"]

    @admin.display(description="文件")
    def files(self, obj):
        def url(fmt: str) -> str:
            return reverse("admin:requests_app_case_letter_file", args=[obj.case_id, obj.pk, fmt])

        return format_html('<a href="{}">PDF</a> · <a href="{}">DOCX</a>', url("pdf"), url("docx"))

    # The letter's text is read in its PDF or DOCX (the "files" links), not as the stored
    # content and file paths.
    HIDDEN = ("content", "pdf", "docx")

    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in super().get_readonly_fields(request, obj) if f not in self.HIDDEN]
        fields = ["service_method_label" if f == "service_method" else f for f in fields]
        return [*fields, "files"]

    def get_exclude(self, request, obj=None):
        return [*super().get_exclude(request, obj), *self.HIDDEN, "service_method"]

    @admin.display(description="送达方式")
    def service_method_label(self, obj):
        from requests_app.services.letters import SERVICE_METHODS

        return SERVICE_METHODS.get(obj.service_method, obj.service_method) or "—"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="今日邮寄送达所选文书（答复书即送达答复）")
    def serve_today_by_post(self, request, queryset):
        done = 0
        for letter in queryset.select_related("case"):
            try:
                letter_serve(
                    letter=letter,
                    actor=request.user,
                    served_on=timezone.localdate(),
                    method="post",
                )
                done += 1
            except ServiceError as error:
                messages.error(request, f"{letter.number}：{error.message}")
        if done:
            messages.success(request, f"已记录 {done} 件文书送达。")


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = (
            "agency",
            "kind",
            "letterhead",
            "number_pattern",
            "contact_block",
            "title",
            "body",
        )

    def clean(self):
        cleaned = super().clean()
        probe = LetterTemplate(
            **{name: cleaned.get(name) or "" for name in ("number_pattern", "title", "body")}
        )
        try:
            letter_template_check(probe)
        except ServiceError as error:
            raise forms.ValidationError(error.message) from error
        return cleaned


@admin.register(LetterTemplate)
class LetterTemplateAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    form = LetterTemplateForm
    list_display = ("agency", "kind", "title", "number_pattern", "updated_at")
    list_filter = ("kind",)
    fields = ("agency", "kind", "letterhead", "number_pattern", "contact_block", "title", "body")

    def get_queryset(self, request):
        return letter_template_list(user=request.user)

    def has_add_permission(self, request) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return is_administrator(request.user)
        return administered_agencies(request.user).filter(pk=obj.agency_id).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency":
            kwargs["queryset"] = administered_agencies(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "body" in form.base_fields:
            form.base_fields["body"].help_text = "可用字段：" + "、".join(
                f"{{{name}}}{label}" for name, label in FIELDS.items()
            )
        return form

    def save_model(self, request, obj, form, change):
        letter_template_save(template=obj, actor=request.user)


@admin.register(RepeatCheck)
class RepeatCheckAdmin(ReadOnlyLegalAdmin):
    selector = staticmethod(repeat_flags)
    list_display = ("case_link", "repeats", "similarity", "checked_at")
    search_fields = ("case__tracking_number",)
