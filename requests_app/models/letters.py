"""Letters (告知书, docs/legal.md): the templates an agency edits and the letters it issues.

The default wording of every kind ships as data (``requests_app.letters.defaults``); a
``LetterTemplate`` row overrides it for one agency: the row with an empty ``kind`` holds the
agency's letterhead, contact block and 文号 pattern, the row of a kind its title and body.
A ``Letter`` is one issued document: numbered from the agency's yearly sequence, its text
frozen when drafted, stored with the case as PDF and DOCX, and served on a date.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LetterKind(models.TextChoices):
    REGISTRATION_RECEIPT = "registration_receipt", _("登记回执")
    SUPPLEMENT_NOTICE = "supplement_notice", _("补正告知书")
    EXTENSION_NOTICE = "extension_notice", _("延期答复告知书")
    THIRD_PARTY_CONSULTATION = "third_party_consultation", _("第三方意见征询函")
    FEE_NOTICE = "fee_notice", _("收费通知书")
    # 政府信息公开申请答复书, one per outcome family (letters.defaults.REPLY_FAMILIES).
    REPLY_DISCLOSED = "reply_disclosed", _("答复书（公开）")
    REPLY_PARTIAL = "reply_partial", _("答复书（部分公开）")
    REPLY_WITHHELD = "reply_withheld", _("答复书（不予公开）")
    REPLY_UNABLE = "reply_unable", _("答复书（无法提供）")
    REPLY_NOT_PROCESSED = "reply_not_processed", _("答复书（不予处理）")
    REPLY_OTHER = "reply_other", _("答复书（其他）")
    # Arts 30, 42: the office no longer processes the application (逾期不补正 / 逾期未缴费).
    NON_PROCESSING_NOTICE = "non_processing_notice", _("不予处理告知书")


REPLY_KINDS = frozenset(
    {
        LetterKind.REPLY_DISCLOSED,
        LetterKind.REPLY_PARTIAL,
        LetterKind.REPLY_WITHHELD,
        LetterKind.REPLY_UNABLE,
        LetterKind.REPLY_NOT_PROCESSED,
        LetterKind.REPLY_OTHER,
    }
)


class LetterTemplate(models.Model):
    """An agency's wording of one kind of letter (or, with no kind, its letterhead settings).
    Blank fields fall back to the agency's general row, then to the shipped default."""

    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("机关"),
        on_delete=models.CASCADE,
        related_name="letter_templates",
    )
    kind = models.CharField(
        _("文书类型"),
        max_length=40,
        choices=LetterKind.choices,
        blank=True,
        help_text=_("留空为本机关所有文书的通用设置（文头、联系方式、文号格式）。"),
    )
    letterhead = models.CharField(_("文头"), max_length=200, blank=True)
    number_pattern = models.CharField(
        _("文号格式"),
        max_length=100,
        blank=True,
        help_text=_(
            "可用 {year}（年份）、{seq}（序号）、{seq3}（三位序号），如 安府公开〔{year}〕第{seq}号。"
        ),
    )
    contact_block = models.TextField(_("联系方式"), blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(
        _("正文"),
        blank=True,
        help_text=_("每段一行；可用的字段见页面下方说明，如 {applicant_name}、{tracking_number}。"),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("文书模板")
        verbose_name_plural = _("文书模板")
        ordering = ["agency", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind"], name="letter_template_agency_kind")
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.get_kind_display() or '通用设置'}"


class LetterSequence(models.Model):
    """The last 文号 sequence number an agency used in a year (allocated under a row lock)."""

    agency = models.ForeignKey("requests_app.Agency", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("文号序号")
        verbose_name_plural = _("文号序号")
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="letter_sequence_agency_year")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}: {self.last}"


def letter_upload_to(instance: "Letter", filename: str) -> str:
    return (
        f"letters/{instance.agency.code}/{instance.year}/{instance.case.tracking_number}/{filename}"
    )


class Letter(models.Model):
    """One issued letter: number, frozen text, files, and its service (送达)."""

    case = models.ForeignKey(
        "requests_app.Case",
        verbose_name=_("申请"),
        on_delete=models.PROTECT,
        related_name="letters",
    )
    agency = models.ForeignKey(
        "requests_app.Agency", verbose_name=_("机关"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("文书类型"), max_length=40, choices=LetterKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    sequence = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("文号"), max_length=120)
    title = models.CharField(_("标题"), max_length=200)
    addressee = models.CharField(_("收件人"), max_length=200)
    # The text as drafted: {"letterhead", "paragraphs": [...], "remedies", "legal_basis",
    # "signature", "date", "contact_block"} — the files are rendered from it.
    content = models.JSONField(_("内容"), default=dict)
    legal_basis = models.CharField(_("法律依据"), max_length=500, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=letter_upload_to, max_length=300, blank=True)
    docx = models.FileField(_("DOCX"), upload_to=letter_upload_to, max_length=300, blank=True)
    drafted_at = models.DateTimeField(_("制作时间"), auto_now_add=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("起草人"),
    )
    served_on = models.DateField(_("送达日期"), null=True, blank=True)
    service_method = models.CharField(_("送达方式"), max_length=20, blank=True)
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("送达人"),
    )

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["case", "drafted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "sequence"], name="letter_agency_year_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
