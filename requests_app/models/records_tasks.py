"""交办: a handler asks another unit — another agency, or a department inside the agency (a child
Agency of kind "department") — for the records an application asks for."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskAnswer(models.TextChoices):
    RECORDS = "records", _("已提供文件")
    NONE_HELD = "none_held", _("本单位未掌握")


class RecordsTask(models.Model):
    """One 交办: what is asked of ``unit``, by when (working days on the case agency's
    calendar), and its answer. Open while ``answered_at`` is empty; the sweep chases it through
    ``next_reminder_on`` (deadlines as data, like reviews and lawsuits)."""

    case = models.ForeignKey(
        "requests_app.Case",
        verbose_name=_("申请"),
        on_delete=models.PROTECT,
        related_name="records_tasks",
    )
    unit = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        related_name="records_tasks_received",
    )
    request = models.TextField(_("交办事项"), max_length=2000)
    days = models.PositiveSmallIntegerField(_("答复期限（工作日）"))
    due_on = models.DateField(_("答复期限"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    asked_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    answer = models.CharField(_("答复"), max_length=20, choices=TaskAnswer.choices, blank=True)
    answer_note = models.TextField(_("答复说明"), max_length=2000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_on = models.DateField(_("答复日期"), null=True, blank=True)
    records = models.ManyToManyField(
        "requests_app.Record", verbose_name=_("提供的文件"), blank=True, related_name="tasks"
    )
    next_reminder_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["case", "pk"]
        indexes = [
            models.Index(
                fields=["next_reminder_on"],
                name="records_task_next_reminder",
                condition=Q(next_reminder_on__isnull=False),
            ),
            models.Index(
                fields=["unit", "due_on"],
                name="records_task_open_by_unit",
                condition=Q(answered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"交办 {self.unit} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None
