"""The append-only history of a case (条例 Art 45: 登记、审核、办理、答复、归档)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.choices import EventKind


class CaseEventQuerySet(models.QuerySet):
    """History is append-only: the queryset refuses bulk updates and deletes."""

    def update(self, **kwargs):
        raise PermissionError("CaseEvent is append-only: history cannot be updated.")

    def delete(self):
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")

    def _raw_delete(self, using):
        # Django's fast path for deletes (no signals, no collector): refused the same way.
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")


class CaseEvent(models.Model):
    """One step in a case's life: who, when (recorded and effective), what, from, to, data."""

    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("事项"), max_length=40, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    effective_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    reason = models.TextField(_("说明"), blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["case", "effective_at", "pk"]
        indexes = [models.Index(fields=["case", "effective_at", "id"], name="event_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.effective_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("CaseEvent is append-only: history cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")
