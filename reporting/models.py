"""Frozen annual reports: the cells a report showed, the inputs that made them, and the
office's own text sections (条例 Art 50; docs/reporting.md, 'Frozen reports').

A report moves generated → reviewed → published. Publishing locks it: its cells and text
no longer change, a regeneration only compares, and a later change to a case it counted
flags it stale (:func:`reporting.services.reports_mark_stale_for_case`; an import of
histories, :func:`reporting.services.cases_imported_mark_stale`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .formats import FORMATS


class ReportStatus(models.TextChoices):
    GENERATED = "generated", _("已生成")  # computed, awaiting the office's review
    REVIEWED = "reviewed", _("已审核")  # the office checked numbers and text
    PUBLISHED = "published", _("已发布")  # published and locked


class AnnualReport(models.Model):
    """One annual report of one agency (alone or with its subtree) for one year and format."""

    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("机关"),
        on_delete=models.PROTECT,
        related_name="annual_reports",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    format = models.CharField(
        _("格式"), max_length=20, choices=[(code, fmt.title) for code, fmt in FORMATS.items()]
    )
    include_descendants = models.BooleanField(_("含下级机关"), default=True)
    cutoff = models.DateTimeField(_("统计截止时间"))

    cells = models.JSONField(_("统计数据"), default=dict)
    checks = models.JSONField(_("校验结果"), default=list)
    extras = models.JSONField(_("附加数据"), default=dict)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # The office's text sections (not derived from applications, 条例 Art 50).
    overview = models.TextField(_("一、总体情况"), blank=True)
    proactive_figures = models.JSONField(
        _("二、主动公开政府信息情况（数据）"), default=dict, blank=True
    )
    proactive_text = models.TextField(_("二、主动公开政府信息情况（说明）"), blank=True)
    problems_and_improvements = models.TextField(_("五、存在的主要问题及改进情况"), blank=True)
    other_matters = models.TextField(_("六、其他需要报告的事项"), blank=True)
    fees_collected_yuan = models.DecimalField(
        _("六、收取信息处理费（元）"), max_digits=14, decimal_places=2, default=0
    )

    status = models.CharField(
        _("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.GENERATED
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    is_stale = models.BooleanField(_("发布后数据已变更"), default=False)
    stale_since = models.DateTimeField(_("变更时间"), null=True, blank=True)
    stale_reasons = models.JSONField(_("变更记录"), default=list, blank=True)

    class Meta:
        verbose_name = _("年度报告")
        verbose_name_plural = _("年度报告")
        ordering = ["-year", "agency__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "format", "include_descendants"],
                name="annual_report_unique_inputs",
            ),
        ]
        indexes = [models.Index(fields=["year", "status"], name="annual_report_year_status")]

    def __str__(self) -> str:
        scope = "（含下级）" if self.include_descendants else ""
        return f"{self.agency}{scope} {self.year} 年度报告"

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED

    @property
    def failed_checks(self) -> list[dict]:
        return [c for c in self.checks if not c.get("ok")]
