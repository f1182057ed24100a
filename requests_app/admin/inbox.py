"""The inbox: the current user's in-app notifications (reminders, escalations, assignments).

Each user sees only their own rows; opening one or the bulk action marks it read.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils.html import format_html

from requests_app.models import Notification
from requests_app.services.notifications import notifications_mark_read

from .access import CaseworkerAccessMixin


class ReadFilter(admin.SimpleListFilter):
    title = "阅读状态"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("unread", "未读"), ("read", "已读")]

    def queryset(self, request, queryset):
        if self.value() == "unread":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    list_display = ("read_marker", "subject", "case_link", "kind", "created_at")
    list_display_links = ("subject",)
    list_filter = (ReadFilter,)
    search_fields = ("subject",)
    actions = ("mark_selected_read",)

    class Media:
        css = {"all": ["requests_app/admin.css"]}  # .unread: no inline style (CSP)

    fields = ("subject", "body", "case_link", "kind", "created_at", "read_at")
    readonly_fields = fields
    list_per_page = 50

    def get_queryset(self, request):
        return Notification.objects.filter(
            recipient=request.user, channel=Notification.Channel.INBOX
        ).select_related("case")

    @admin.display(description="", boolean=False)
    def read_marker(self, obj):
        return "" if obj.read_at else format_html('<strong class="unread">{}</strong>', "未读")

    @admin.display(description="申请")
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        url = reverse("admin:requests_app_case_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.tracking_number)

    @admin.action(description="标为已读")
    def mark_selected_read(self, request, queryset):
        count = notifications_mark_read(
            user=request.user, ids=list(queryset.values_list("pk", flat=True))
        )
        messages.success(request, f"已将 {count} 条通知标为已读。")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            notifications_mark_read(user=request.user, ids=[unquote(object_id)])
        return response

    def changelist_view(self, request, extra_context=None):
        unread = self.get_queryset(request).filter(read_at__isnull=True).count()
        extra_context = {**(extra_context or {}), "title": f"我的通知（未读 {unread} 条）"}
        return super().changelist_view(request, extra_context)
