"""Sign-in data an administrator sees and keeps."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken


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
