"""Notifications: the in-app inbox and the e-mail outbox, one row per message.

``dedup_key`` is unique, so a reminder for (case, deadline, due date, offset) is written once
however often the sweep runs; e-mail is sent from the row and marked sent, so a killed worker
resends at most what it had not marked.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内消息")
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    class Delivery(models.TextChoices):
        # What the SMS gateway said of a text message (e-mail rows leave it blank).
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已提交网关")
        FAILED = "failed", _("发送失败")

    dedup_key = models.CharField(max_length=200, unique=True)
    case = models.ForeignKey(
        "requests_app.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(_("手机号码"), max_length=30, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(_("类型"), max_length=40)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    delivery_status = models.CharField(
        _("发送状态"), max_length=10, choices=Delivery.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    last_error = models.CharField(_("最近一次错误"), max_length=300, blank=True)
    gateway_reference = models.CharField(_("网关回执编号"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(
                fields=["created_at"],
                name="notification_unsent_email",
                condition=models.Q(channel="email", sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.subject
