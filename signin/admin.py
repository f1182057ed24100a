"""登录与令牌 in the admin: the lock-outs and lifting them; integration tokens."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages

from signin.models import ApiToken, OidcAssignment, SignInFailure
from signin.tokens import token_create, token_revoke


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
    fields = [
        "username_display",
        "ip_address_display",
        "user_agent_display",
        "path_display",
        "failures_display",
        "locked_display",
        "attempt_time_display",
    ]
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

    @admin.display(description="浏览器")
    def user_agent_display(self, obj):
        return obj.user_agent

    @admin.action(description="解锁所选（清除失败记录）", permissions=["delete"])
    def unlock(self, request, queryset):
        count, _ = queryset.delete()
        self.message_user(request, f"已解锁 {count} 条记录。", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApiTokenCreateForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        label="有效天数",
        min_value=1,
        max_value=3650,
        required=False,
        help_text="留空则按系统设置的有效天数。令牌只在保存后显示一次。",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]
        labels = {"user": "用户"}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's tokens; an administrator creates one for an integration (shown once) and
    revokes one by deleting it."""

    list_display = [
        "name",
        "user_display",
        "token_key_display",
        "created_display",
        "expiry_display",
    ]
    search_fields = ["name", "token_key", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "name",
        "user_display",
        "token_key_display",
        "created_display",
        "expiry_display",
    ]

    @admin.display(description="用户", ordering="user__username")
    def user_display(self, obj):
        return obj.user

    @admin.display(description="令牌开头", ordering="token_key")
    def token_key_display(self, obj):
        return f"{obj.token_key}…"

    @admin.display(description="创建时间", ordering="created")
    def created_display(self, obj):
        return obj.created

    @admin.display(description="到期时间", ordering="expiry")
    def expiry_display(self, obj):
        return obj.expiry or "不过期"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "expires_in_days"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, secret = token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data.get("expires_in_days"),
        )
        obj.pk = token.pk
        self.message_user(
            request,
            f"令牌已创建，仅此一次显示，请立即复制：{secret}",
            messages.WARNING,
        )

    def delete_model(self, request, obj):
        token_revoke(token=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            token_revoke(token=token, actor=request.user)

    def has_change_permission(self, request, obj=None):
        return False


# The admin's sign-in page offers the identity provider when one is configured.
admin.site.login_template = "signin/login.html"


@admin.register(OidcAssignment)
class OidcAssignmentAdmin(admin.ModelAdmin):
    list_display = ["match", "agency", "role", "can_view_personal_data", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["match", "agency__name", "agency__code"]
    autocomplete_fields = ["agency"]
