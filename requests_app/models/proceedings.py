"""Records linked to a case: 行政复议, 行政诉讼, 投诉举报, and fee notices (docs/legal.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Result(models.TextChoices):
    # The roll-up the annual report counts (table 四 and legacy2014 四、五).
    UPHELD = "upheld", _("结果维持")
    CORRECTED = "corrected", _("结果纠正")
    OTHER = "other", _("其他结果")
    PENDING = "pending", _("尚未审结")


class ReviewDecision(models.TextChoices):
    MAINTAINED = "maintained", _("维持")  # upheld
    DISMISSED = "dismissed", _("驳回复议请求")  # upheld
    VARIED = "varied", _("变更")  # corrected
    REVOKED = "revoked", _("撤销")  # corrected
    CONFIRMED_ILLEGAL = "confirmed_illegal", _("确认违法")  # corrected
    CONFIRMED_VOID = "confirmed_void", _("确认无效")  # corrected
    ORDERED_TO_PERFORM = "ordered_to_perform", _("责令履行")  # corrected
    MEDIATED = "mediated", _("调解")  # other
    SETTLED = "settled", _("和解")  # other
    WITHDRAWN = "withdrawn", _("撤回")  # other
    TERMINATED = "terminated", _("终止")  # other


REVIEW_ROLLUP = {
    ReviewDecision.MAINTAINED: Result.UPHELD,
    ReviewDecision.DISMISSED: Result.UPHELD,
    ReviewDecision.VARIED: Result.CORRECTED,
    ReviewDecision.REVOKED: Result.CORRECTED,
    ReviewDecision.CONFIRMED_ILLEGAL: Result.CORRECTED,
    ReviewDecision.CONFIRMED_VOID: Result.CORRECTED,
    ReviewDecision.ORDERED_TO_PERFORM: Result.CORRECTED,
    ReviewDecision.MEDIATED: Result.OTHER,
    ReviewDecision.SETTLED: Result.OTHER,
    ReviewDecision.WITHDRAWN: Result.OTHER,
    ReviewDecision.TERMINATED: Result.OTHER,
}


class JudgmentKind(models.TextChoices):
    CLAIM_DISMISSED = "claim_dismissed", _("驳回诉讼请求")  # upheld
    REVOKED = "revoked", _("撤销")  # corrected
    ORDERED_TO_PERFORM = "ordered_to_perform", _("履行")  # corrected
    CONFIRMED_ILLEGAL = "confirmed_illegal", _("确认违法")  # corrected
    CONFIRMED_VOID = "confirmed_void", _("确认无效")  # corrected
    VARIED = "varied", _("变更")  # corrected
    SUIT_WITHDRAWN = "suit_withdrawn", _("撤诉")  # other
    MEDIATED = "mediated", _("调解")  # other
    SUIT_REJECTED = "suit_rejected", _("裁定驳回起诉")  # other


JUDGMENT_ROLLUP = {
    JudgmentKind.CLAIM_DISMISSED: Result.UPHELD,
    JudgmentKind.REVOKED: Result.CORRECTED,
    JudgmentKind.ORDERED_TO_PERFORM: Result.CORRECTED,
    JudgmentKind.CONFIRMED_ILLEGAL: Result.CORRECTED,
    JudgmentKind.CONFIRMED_VOID: Result.CORRECTED,
    JudgmentKind.VARIED: Result.CORRECTED,
    JudgmentKind.SUIT_WITHDRAWN: Result.OTHER,
    JudgmentKind.MEDIATED: Result.OTHER,
    JudgmentKind.SUIT_REJECTED: Result.OTHER,
}


class ReviewLaw(models.TextChoices):
    # The 行政复议法 in force on the filing date decides the periods (services.proceedings).
    LAW_1999 = "1999", _("《行政复议法》（1999）")
    LAW_2023 = "2023", _("《行政复议法》（2023修订，2024-01-01施行）")


class Review(models.Model):
    """行政复议 of the agency's act on a case. Counted in the year it was filed.

    The agency is the respondent (被申请人): it answers within the 答复 period after receiving
    the copy of the application (``answer_due_on``), and the review body decides by
    ``decision_due_on``. ``next_reminder_on`` is when the sweep next looks at the record.
    """

    case = models.ForeignKey(
        "requests_app.Case",
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("申请"),
    )
    review_body = models.CharField(_("复议机关"), max_length=200, blank=True)
    applicant = models.CharField(_("复议申请人"), max_length=200, blank=True)
    filed_on = models.DateField(_("申请复议日期"), db_index=True)
    law = models.CharField(
        _("适用法律"), max_length=4, choices=ReviewLaw.choices, default=ReviewLaw.LAW_2023
    )
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    simplified = models.BooleanField(_("简易程序"), default=False)
    decision_extended = models.BooleanField(_("已延长审理期限"), default=False)
    decision_due_on = models.DateField(_("决定期限"), null=True, blank=True)
    copy_received_on = models.DateField(_("收到申请书副本日期"), null=True, blank=True)
    answer_due_on = models.DateField(_("答复期限"), null=True, blank=True)
    answered_on = models.DateField(_("提交答复日期"), null=True, blank=True)
    next_reminder_on = models.DateField(_("下一提醒日期"), null=True, blank=True)
    decided_on = models.DateField(_("决定日期"), null=True, blank=True)
    decision = models.CharField(
        _("决定类型"), max_length=30, choices=ReviewDecision.choices, blank=True
    )
    result = models.CharField(
        _("结果"), max_length=20, choices=Result.choices, default=Result.PENDING
    )
    orders_new_reply = models.BooleanField(_("责令重新答复"), default=False)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("行政复议")
        verbose_name_plural = _("行政复议")
        ordering = ["filed_on", "pk"]
        indexes = [
            models.Index(
                fields=["next_reminder_on"],
                name="review_next_reminder",
                condition=models.Q(next_reminder_on__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} 复议 {self.filed_on}"


class Lawsuit(models.Model):
    """行政诉讼 about a case; ``after_review`` splits table 四's two litigation blocks.

    An appeal is its own row (``instance`` 2, ``appeal_of`` the first instance); the report
    counts first instances only. The agency, as defendant, submits its evidence and defence
    within the 举证 period after receiving the complaint (``defense_due_on``).
    """

    case = models.ForeignKey(
        "requests_app.Case",
        on_delete=models.PROTECT,
        related_name="lawsuits",
        verbose_name=_("申请"),
    )
    court = models.CharField(_("法院"), max_length=200, blank=True)
    plaintiff = models.CharField(_("原告"), max_length=200, blank=True)
    filed_on = models.DateField(_("立案日期"), db_index=True)
    after_review = models.BooleanField(_("经复议后起诉"), default=False)
    review = models.ForeignKey(
        Review,
        verbose_name=_("前置复议"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lawsuits",
    )
    review_body_co_defendant = models.BooleanField(_("复议机关为共同被告"), default=False)
    instance = models.PositiveSmallIntegerField(_("审级"), default=1)
    appeal_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name=_("上诉所涉一审"),
    )
    simple_procedure = models.BooleanField(_("简易程序"), default=False)
    judgment_due_on = models.DateField(_("审理期限"), null=True, blank=True)
    copy_received_on = models.DateField(_("收到起诉状副本日期"), null=True, blank=True)
    defense_due_on = models.DateField(_("举证期限"), null=True, blank=True)
    defense_submitted_on = models.DateField(_("提交答辩举证日期"), null=True, blank=True)
    next_reminder_on = models.DateField(_("下一提醒日期"), null=True, blank=True)
    decided_on = models.DateField(_("裁判日期"), null=True, blank=True)
    judgment = models.CharField(
        _("裁判类型"), max_length=30, choices=JudgmentKind.choices, blank=True
    )
    result = models.CharField(
        _("结果"), max_length=20, choices=Result.choices, default=Result.PENDING
    )
    orders_new_reply = models.BooleanField(_("判决重新答复"), default=False)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("行政诉讼")
        verbose_name_plural = _("行政诉讼")
        ordering = ["filed_on", "pk"]
        indexes = [
            models.Index(
                fields=["next_reminder_on"],
                name="lawsuit_next_reminder",
                condition=models.Q(next_reminder_on__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} 诉讼 {self.filed_on}"


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")  # Art 51: the applicant's own rights were infringed
    REPORT = "report", _("举报")  # Art 47/51: anyone reporting a failure to disclose


class Complaint(models.Model):
    """投诉、举报 (Arts 47, 51) about an agency's handling, received by a supervising office
    (``received_by``: the agency one level up, or the 政府信息公开工作主管部门)."""

    case = models.ForeignKey(
        "requests_app.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("申请"),
    )
    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("被投诉机关"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    received_by = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("受理投诉机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints_received",
    )
    kind = models.CharField(
        _("类型"), max_length=10, choices=ComplaintKind.choices, default=ComplaintKind.COMPLAINT
    )
    filed_on = models.DateField(_("收到日期"), db_index=True)
    complainant = models.CharField(_("投诉人"), max_length=200, blank=True)
    summary = models.TextField(_("投诉内容"), blank=True)
    handled_on = models.DateField(_("处理日期"), null=True, blank=True)
    is_substantiated = models.BooleanField(_("投诉属实"), null=True, blank=True)
    result = models.TextField(_("处理结果"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("投诉举报")
        verbose_name_plural = _("投诉举报")
        ordering = ["filed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.agency} 投诉 {self.filed_on}"


class FeeNotice(models.Model):
    """信息处理费 notice (Art 42; 国办函〔2020〕109号)."""

    class Method(models.TextChoices):
        BY_COUNT = "by_count", _("按件计收")
        BY_PAGES = "by_pages", _("按量计收")

    case = models.ForeignKey(
        "requests_app.Case",
        on_delete=models.PROTECT,
        related_name="fee_notices",
        verbose_name=_("申请"),
    )
    method = models.CharField(_("计收方式"), max_length=10, choices=Method.choices, blank=True)
    amount_yuan = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    computation = models.JSONField(_("计算过程"), default=dict, blank=True)
    issued_on = models.DateField(_("通知日期"))
    paid_on = models.DateField(_("缴费日期"), null=True, blank=True, db_index=True)
    waived = models.BooleanField(_("已减免"), default=False)
    waiver_reason = models.TextField(_("减免理由"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发出人"),
    )

    class Meta:
        verbose_name = _("收费通知")
        verbose_name_plural = _("收费通知")
        ordering = ["issued_on", "pk"]

    def __str__(self) -> str:
        return f"{self.case} ¥{self.amount_yuan}"
