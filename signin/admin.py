"""登录与令牌 in the admin: the lock-outs, and lifting them."""

from django.conf import settings
from django.contrib import admin, messages

from signin.models import SignInFailure


class LockedOutFilter(admin.SimpleListFilter):
    title = "是否锁定"
    parameter_name = "locked_out"

    def lookups(self, request, model_admin):
        return [("yes", "已锁定"), ("no", "未锁定")]

    def queryset(self, request, queryset):
        limit = settings.AXES_FAILURE_LIMIT
        if self.value() == "yes":
            return queryset.filter(failures_since_start__gte=limit)
        if self.value() == "no":
            return queryset.filter(failures_since_start__lt=limit)
        return queryset


@admin.register(SignInFailure)
class SignInFailureAdmin(admin.ModelAdmin):
    list_display = [
        "username_display",
        "ip_address_display",
        "failures_display",
        "locked_display",
        "attempt_time_display",
        "path_display",
    ]
    list_filter = [LockedOutFilter]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["unlock"]
    fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start"]
    readonly_fields = fields

    @admin.display(description="用户名", ordering="username")
    def username_display(self, obj):
        return obj.username or "—"

    @admin.display(description="客户端地址", ordering="ip_address")
    def ip_address_display(self, obj):
        return obj.ip_address or "—"

    @admin.display(description="失败次数", ordering="failures_since_start")
    def failures_display(self, obj):
        return obj.failures_since_start

    @admin.display(description="已锁定", boolean=True)
    def locked_display(self, obj):
        return obj.is_locked_out

    @admin.display(description="最近失败时间", ordering="attempt_time")
    def attempt_time_display(self, obj):
        return obj.attempt_time

    @admin.display(description="登录入口", ordering="path_info")
    def path_display(self, obj):
        return obj.path_info

    @admin.action(description="解锁所选（清除失败记录）", permissions=["delete"])
    def unlock(self, request, queryset):
        count, _ = queryset.delete()
        self.message_user(request, f"已解锁 {count} 条记录。", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
