"""What the applicant hands in with an application: the identity document (身份证明, Art 29
¶2(一)), an agent's 授权委托书, the files of a 补正. Stored through the records storage
(``STORAGES["records"]``: never served by URL, only through views that check who may see the
case), typed by content."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.models.records import records_storage


class AttachmentKind(models.TextChoices):
    ID_DOCUMENT = "id_document", _("身份证明")
    AUTHORIZATION = "authorization", _("授权委托书")
    SUPPLEMENT = "supplement", _("补正材料")


def attachment_file_name(instance, filename: str) -> str:
    # A random key: nothing of the applicant's file name and nothing guessable.
    return f"cases/{instance.case_id}/attachments/{uuid.uuid4().hex}.{instance.content_kind}"


class Attachment(models.Model):
    case = models.ForeignKey(
        "requests_app.Case",
        verbose_name=_("申请"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    kind = models.CharField(_("材料类型"), max_length=20, choices=AttachmentKind.choices)
    content_kind = models.CharField(_("文件类型"), max_length=10)  # redaction.sniff_file's
    file = models.FileField(
        _("文件"), storage=records_storage, upload_to=attachment_file_name, max_length=200
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申请人材料")
        verbose_name_plural = _("申请人材料")
        ordering = ["case", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.content_kind}）"
