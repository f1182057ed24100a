"""The working-day calendar as data: one row per exceptional date (DOMAIN.md §2)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """A holiday, or a 调休 make-up working day, national (agency empty) or an agency's own."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休上班日")

    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("适用机关"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_days",
        help_text=_("留空为全国日历；填写则为该机关及其下级的地方日历。"),
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "date"], name="calendar_day_agency_date"),
            models.UniqueConstraint(
                fields=["date"],
                condition=models.Q(agency__isnull=True),
                name="calendar_day_national_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """A year whose schedule is known (announced by the State Council and loaded).

    A due date that falls in a year without a row here is flagged, never guessed.
    """

    agency = models.ForeignKey(
        "requests_app.Agency",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_years",
        verbose_name=_("适用机关"),
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    source = models.CharField(_("来源"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("已载入年度日历")
        verbose_name_plural = _("已载入年度日历")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="calendar_year_agency_year"),
            models.UniqueConstraint(
                fields=["year"],
                condition=models.Q(agency__isnull=True),
                name="calendar_year_national_year",
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)
