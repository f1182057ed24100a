"""The working-day calendar as data: one row per exceptional date (docs/clock.md)."""

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
    """A year whose calendar is loaded: **published** (the State Council's annual notice, 调休
    included) or **provisional** (before the notice: only the statutory holidays that
    《全国年节及纪念日放假办法》 fixes, no 调休). Dates computed on a provisional year are marked
    provisional wherever they are shown; a year without a row at all is flagged, never guessed.
    """

    class Status(models.TextChoices):
        # Before the notice: the statutory holidays only; dates on it are marked provisional.
        PROVISIONAL = "provisional", _("暂定（仅法定节假日，待国务院办公厅公布安排）")
        # The notice is loaded: holidays, 补假 and 调休 as published.
        PUBLISHED = "published", _("已公布（国务院办公厅放假安排）")

    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("适用机关"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_years",
        help_text=_("留空为全国日历；填写则为该机关及其下级的地方日历（只能上传文件载入）。"),
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PUBLISHED
    )
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
        return f"{self.year}（{self.get_status_display()}）"

    @property
    def is_provisional(self) -> bool:
        return self.status == self.Status.PROVISIONAL
