"""Sign-in data an administrator sees and keeps."""

from axes.models import AccessAttempt
from django.conf import settings


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
