"""Sign-in data an administrator sees and keeps."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken

from requests_app.choices import Role


class SignInFailure(AccessAttempt):
    """django-axes' failure counts, shown in the admin in Chinese: one row per user name,
    client address and browser; a row at the limit is a lock-out, and deleting it (解锁)
    lifts it."""

    class Meta:
        proxy = True
        verbose_name = "登录失败与锁定"
        verbose_name_plural = "登录失败与锁定"

    @property
    def is_locked_out(self) -> bool:
        return self.failures_since_start >= settings.AXES_FAILURE_LIMIT


class ApiToken(AbstractAuthToken):
    """A token an office's own tools use on the staff API instead of a person's password
    (django-rest-knox, ``Authorization: Token …``). It acts as its user, with the user's
    agency and role. Only a SHA-512 digest is kept: the token itself is shown once, when it
    is created. Deleting the row revokes it."""

    name = models.CharField("用途", max_length=100)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


class OidcAssignment(models.Model):
    """Who a person signing in through the agency's identity provider (OpenID Connect) is here:
    their agency and role, kept by an administrator. Matched by the provider's subject
    (``sub``) or, failing that, the e-mail address. A person with no row gets the agency and
    role their claims name, if the provider sends them (OIDC_AGENCY_CLAIM, OIDC_ROLE_CLAIM);
    with neither, the sign-in is refused."""

    match = models.CharField(
        "标识",
        max_length=254,
        unique=True,
        help_text="身份提供方给出的用户唯一标识，或电子邮件地址（不区分大小写）。",
    )
    agency = models.ForeignKey(
        "requests_app.Agency", verbose_name="所属机关", on_delete=models.CASCADE
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    can_view_personal_data = models.BooleanField("可查看完整个人信息", default=False)
    is_active = models.BooleanField("允许登录", default=True)

    class Meta:
        verbose_name = "统一身份认证对应"
        verbose_name_plural = "统一身份认证对应"

    def __str__(self) -> str:
        return f"{self.match} → {self.agency}·{self.get_role_display()}"
