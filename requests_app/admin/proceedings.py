"""The admin for a case's legal life: 行政复议, 行政诉讼, 投诉举报, 收费通知, 文书 (with their
templates) and 重复申请 flags.

Every caseworker reads the records of the cases they may see (``legal_selectors``). Records
are written by the services, from the staff API and from the actions here: 复议/诉讼/投诉
lists are read-only (with the due dates and results), scoped by the selectors and linked to
the case page, whose panels hold the buttons for each step (``admin/legal.py``); a letter can
also be served from its list (today, by post), and templates are edited by administrators through
``letter_template_save``, which checks the placeholders.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
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
    Complaint,
    FeeNotice,
    Lawsuit,
    Letter,
    LetterTemplate,
    RepeatCheck,
    Review,
)
from requests_app.services.errors import ServiceError
from requests_app.services.letters import (
    letter_serve,
    letter_template_check,
    letter_template_save,
)

from .access import CaseworkerAccessMixin, is_administrator
from .agencies import administered_agencies


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
        return [f.name for f in self.model._meta.fields]


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
