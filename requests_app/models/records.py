"""The information itself: a case's records, their pages under review, and the release copy.

- ``Record``: one file a caseworker uploaded for the case (a PDF, a scan, a Word or OFD file),
  stored through the ``records`` storage (``settings.STORAGES``: the filesystem under
  ``VAR_DIR`` by default, an S3-compatible bucket in production). Its original stays private;
  ``review_pdf`` is the PDF the review works on (``redaction.to_pdf``), absent for a file that
  must be converted first. The same file (SHA-256) is stored once per case.
- ``RecordPage``: one page of a record with its 区分处理 decision (Art 37) and, when withheld
  whole, its basis; ``Region``: a rectangle on a page removed from the release, with its basis;
  ``Suggestion``: a region the system found (an ID number, a phone, a term), which the handler
  accepts (it becomes a ``Region``) or rejects.
- ``Release``: the copy built from the decisions (``redaction.build_release``), one file per
  record; the approver sees it before approving and, once approved, it is fixed.
- ``Publication``: an approved release published to the reading room (依申请公开转主动公开).

Files are never served by URL: every download goes through a view that checks who may see
the case and logs it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from requests_app.choices import (
    PageDecision,
    RecordKind,
    RecordPurpose,
    SuggestionState,
    WithholdBasis,
)


class _RecordsStorage(LazyObject):
    """``storages["records"]``, looked up when first used and again after ``STORAGES``
    changes (as Django does for ``default_storage``): a FileField resolves its storage once,
    when the model class is built, so it holds this stand-in rather than the backend."""

    def _setup(self):
        self._wrapped = storages["records"]


_records_storage = _RecordsStorage()


@receiver(setting_changed)
def _records_storage_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _records_storage._wrapped = empty


def records_storage():
    """The storage of records and releases (``STORAGES["records"]``)."""
    return _records_storage


def record_file_name(instance, filename: str) -> str:
    # A random key: nothing of the uploader's file name and nothing guessable.
    return f"cases/{instance.case_id}/records/{uuid.uuid4().hex}.{instance.kind}"


def review_pdf_name(instance, filename: str) -> str:
    return f"cases/{instance.case_id}/records/{uuid.uuid4().hex}.review.pdf"


def release_file_name(instance, filename: str) -> str:
    return f"cases/{instance.release.case_id}/releases/{uuid.uuid4().hex}.pdf"


class Record(models.Model):
    """A file responsive to the application (e.g. a notice, a contract, a scanned register)."""

    case = models.ForeignKey(
        "requests_app.Case",
        verbose_name=_("申请"),
        on_delete=models.PROTECT,
        related_name="records",
    )
    title = models.CharField(_("标题"), max_length=300)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    kind = models.CharField(_("文件类型"), max_length=10, choices=RecordKind.choices)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    page_count = models.PositiveIntegerField(_("页数"), default=0)
    # The uploader's file name: kept for the office, never put into a release or a URL.
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    file = models.FileField(_("原件"), storage=records_storage, upload_to=record_file_name)
    review_pdf = models.FileField(
        _("审查用 PDF"),
        storage=records_storage,
        upload_to=review_pdf_name,
        blank=True,
        max_length=200,
    )
    conversion_note = models.CharField(_("转换说明"), max_length=300, blank=True)
    # A record responsive to the application is reviewed and released; a proof of service
    # (送达回证, 邮寄凭证) is kept with the case but never reviewed nor released.
    purpose = models.CharField(
        _("用途"), max_length=20, choices=RecordPurpose.choices, default=RecordPurpose.RESPONSIVE
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("文件记录")
        verbose_name_plural = _("文件记录")
        ordering = ["case", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sha256"], name="record_case_sha256"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_reviewable(self) -> bool:
        return bool(self.review_pdf)


class RecordPage(models.Model):
    """A page of a record (0-based ``index``), its size in points as displayed, its decision."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="pages")
    index = models.PositiveIntegerField(_("页码（从0起）"))
    width = models.FloatField(_("宽（点）"))
    height = models.FloatField(_("高（点）"))
    decision = models.CharField(
        _("审查决定"), max_length=20, choices=PageDecision.choices, blank=True
    )
    basis = models.CharField(
        _("不予公开依据"), max_length=40, choices=WithholdBasis.choices, blank=True
    )
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("页面")
        verbose_name_plural = _("页面")
        ordering = ["record", "index"]
        constraints = [
            models.UniqueConstraint(fields=["record", "index"], name="record_page_index"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}#{self.index + 1}"

    @property
    def number(self) -> int:
        return self.index + 1


class Region(models.Model):
    """A rectangle removed from the release: points, origin top-left of the displayed page."""

    page = models.ForeignKey(RecordPage, on_delete=models.CASCADE, related_name="regions")
    x0 = models.FloatField()
    y0 = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    basis = models.CharField(_("不予公开依据"), max_length=40, choices=WithholdBasis.choices)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    suggestion = models.ForeignKey(
        "requests_app.Suggestion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("遮盖区域")
        verbose_name_plural = _("遮盖区域")
        ordering = ["page", "pk"]

    def __str__(self) -> str:
        return f"{self.page} {self.get_basis_display()}"

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


class Suggestion(models.Model):
    """Something the system found on a page that may have to be withheld."""

    page = models.ForeignKey(RecordPage, on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(_("类型"), max_length=20)  # id_number, mobile, bank_card, name, term
    text = models.CharField(_("内容"), max_length=300)
    rects = models.JSONField(_("位置"), default=list)
    state = models.CharField(
        _("处理"), max_length=10, choices=SuggestionState.choices, default=SuggestionState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("遮盖建议")
        verbose_name_plural = _("遮盖建议")
        ordering = ["page", "pk"]

    def __str__(self) -> str:
        return f"{self.page} {self.kind}"


class Release(models.Model):
    """The release copy built from the review at one moment; never changed once built.

    ``fingerprint`` is the review it was built from (``requests_app.review.review_fingerprint``):
    the release is current while the review still has that fingerprint."""

    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="releases")
    sequence = models.PositiveIntegerField(_("版本"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    fingerprint = models.CharField(max_length=64)
    page_count = models.PositiveIntegerField(_("页数"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    built_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审核时间"), null=True)

    class Meta:
        verbose_name = _("公开文本")
        verbose_name_plural = _("公开文本")
        ordering = ["case", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="release_case_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.sequence}"


class ReleaseFile(models.Model):
    """One record's release copy within a release."""

    release = models.ForeignKey(
        Release, verbose_name=_("公开文本"), on_delete=models.PROTECT, related_name="files"
    )
    record = models.ForeignKey(
        Record, verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=300)
    file = models.FileField(
        _("公开文件"), storage=records_storage, upload_to=release_file_name, max_length=200
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    page_count = models.PositiveIntegerField(_("页数"))

    class Meta:
        verbose_name = _("公开文本文件")
        verbose_name_plural = _("公开文本文件")
        ordering = ["release", "pk"]

    def __str__(self) -> str:
        return self.title


class Publication(models.Model):
    """An approved release in the reading room (依申请公开转主动公开): a title and a summary,
    never the applicant. Unpublishing keeps the row, with who, when and why."""

    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.PROTECT, related_name="publications"
    )
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="publications")
    agency = models.ForeignKey(
        "requests_app.Agency", on_delete=models.PROTECT, related_name="publications"
    )
    title = models.CharField(_("标题"), max_length=300)
    summary = models.TextField(_("摘要"), max_length=2000)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("公开时间"), default=timezone.now, db_index=True)
    is_active = models.BooleanField(_("公开中"), default=True)
    unpublished_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    unpublish_reason = models.CharField(_("撤回理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("主动公开")
        verbose_name_plural = _("主动公开")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["release"],
                condition=models.Q(is_active=True),
                name="publication_release_active",
            ),
        ]

    def __str__(self) -> str:
        return self.title
