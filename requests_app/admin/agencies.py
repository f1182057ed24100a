"""Agencies (the tree) and caseworkers (who belongs where, in which role).

Every caseworker reads these; superusers and administrators change them, an administrator only
within the subtree of their own agency. A new caseworker is created here together with the
login account (is_staff on, so the admin lets them in; what they see follows the role).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from requests_app.choices import Role
from requests_app.models import Agency, Caseworker
from requests_app.permissions import agencies_visible, caseworker_of

from .access import AdministratorWriteMixin, is_administrator

User = get_user_model()


def administered_agencies(user):
    """The agencies ``user`` may change: all for a superuser, the subtree for an administrator."""
    if user.is_superuser:
        return Agency.objects.all()
    worker = caseworker_of(user)
    if worker is not None and worker.role == Role.ADMINISTRATOR:
        return Agency.objects.subtree(worker.agency)
    return Agency.objects.none()


def _administers(user, agency) -> bool:
    return agency is not None and administered_agencies(user).filter(pk=agency.pk).exists()


@admin.register(Agency)
class AgencyAdmin(AdministratorWriteMixin, admin.ModelAdmin):
    list_display = ("tree_name", "code", "kind", "phone", "office_name")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    list_per_page = 100
    fieldsets = (
        ("机关", {"fields": ("name", "code", "kind", "parent")}),
        (
            "联系信息（告知书落款）",
            {
                "fields": (
                    "office_name",
                    "address",
                    ("postal_code", "phone"),
                    ("email", "website"),
                    "review_body",
                    "court",
                )
            },
        ),
        ("公开指南（申请人页面）", {"fields": ("office_hours", "not_handled", "fee_rules")}),
        (
            "办理设置",
            {"fields": ("auto_confirm_receipt", "auto_close_abandoned", "supplement_period_days")},
        ),
    )

    @admin.display(description="机关名称", ordering="path")
    def tree_name(self, agency):
        return "　" * agency.depth + agency.name

    def get_queryset(self, request):
        return agencies_visible(request.user).agencies().select_related("parent")

    def has_change_permission(self, request, obj=None) -> bool:
        if not is_administrator(request.user):
            return False
        return obj is None or _administers(request.user, obj)

    def get_readonly_fields(self, request, obj=None):
        # The code and the parent make up the materialised path of the agency and of all its
        # descendants: moving or renaming a code needs a service that rewrites the subtree.
        return ("code", "parent") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = administered_agencies(request.user)
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CaseworkerCreationForm(forms.ModelForm):
    """A new caseworker and the login account in one step."""

    username = forms.CharField(label="登录名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=150)
    email = forms.EmailField(label="电子邮箱", required=False, help_text="期限提醒也发往此邮箱。")
    password1 = forms.CharField(label="密码", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="确认密码", widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Caseworker
        fields = ("agency", "role", "can_view_personal_data")

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("该登录名已被使用。")
        return username

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致。")
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"])
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def create_user(self):
        data = self.cleaned_data
        user = User(username=data["username"], first_name=data["full_name"], email=data["email"])
        user.is_staff = True
        user.set_password(data["password1"])
        user.save()
        return user


@admin.register(Caseworker)
class CaseworkerAdmin(AdministratorWriteMixin, admin.ModelAdmin):
    list_display = (
        "username",
        "full_name",
        "agency",
        "role",
        "can_view_personal_data",
        "is_active",
    )
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "agency__name")
    list_select_related = ("user", "agency")

    @admin.display(description="登录名", ordering="user__username")
    def username(self, worker):
        return worker.user.get_username()

    @admin.display(description="姓名")
    def full_name(self, worker):
        return worker.user.get_full_name()

    @admin.display(description="启用", boolean=True)
    def is_active(self, worker):
        return worker.user.is_active

    def get_queryset(self, request):
        return Caseworker.objects.filter(
            agency__in=agencies_visible(request.user).agencies()
        ).select_related("user", "agency")

    def has_change_permission(self, request, obj=None) -> bool:
        if not is_administrator(request.user):
            return False
        return obj is None or _administers(request.user, obj.agency)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CaseworkerCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                ("账号", {"fields": ("username", "full_name", "email", "password1", "password2")}),
                ("岗位", {"fields": ("agency", "role", "can_view_personal_data")}),
            )
        return (
            (
                "岗位",
                {"fields": ("username", "full_name", "agency", "role", "can_view_personal_data")},
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return ("username", "full_name") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency":
            kwargs["queryset"] = administered_agencies(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if not change:
                obj.user = form.create_user()
            elif not obj.user.is_staff:
                obj.user.is_staff = True
                obj.user.save(update_fields=["is_staff"])
            obj.save()


class CaseworkerInline(admin.StackedInline):
    model = Caseworker
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name = "岗位"
    verbose_name_plural = "岗位"


# Superusers manage accounts in the user admin, with the caseworker row inline.
if admin.site.is_registered(User):
    admin.site.unregister(User)


PERMISSION_ACTIONS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}


# The libraries' own models (sign-in lock-outs, the applicants' captcha), named in Chinese.
LIBRARY_MODEL_LABELS = {
    ("axes", "accessattempt"): ("登录锁定", "登录失败记录"),
    ("axes", "accessattemptexpiration"): ("登录锁定", "登录失败记录有效期"),
    ("axes", "accessfailurelog"): ("登录锁定", "登录失败日志"),
    ("axes", "accesslog"): ("登录锁定", "登录日志"),
    ("captcha", "captchastore"): ("验证码", "验证码记录"),
}


def permission_label(permission: Permission) -> str:
    """A model permission in Chinese: Django stores their names in English ("Can view 通知")
    when it creates them; the action is the codename's prefix, the model its verbose name."""
    model = permission.content_type.model_class()
    action, _, _rest = permission.codename.partition("_")
    if model is None or action not in PERMISSION_ACTIONS:
        return str(permission)
    meta = model._meta
    app, name = LIBRARY_MODEL_LABELS.get(
        (meta.app_label, meta.model_name), (meta.app_config.verbose_name, meta.verbose_name)
    )
    return f"{app} | {name} | 可{PERMISSION_ACTIONS[action]}"


class PermissionLabelsMixin:
    """The permission pickers of the user and group pages, in Chinese. (Cases never use
    Django's model permissions: the caseworker's role decides; these are for superusers.)"""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field


@admin.register(User)
class CaseworkerUserAdmin(PermissionLabelsMixin, UserAdmin):
    inlines = (CaseworkerInline,)
    list_display = ("username", "first_name", "email", "is_staff", "is_superuser", "is_active")


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class LabelledGroupAdmin(PermissionLabelsMixin, GroupAdmin):
    pass
