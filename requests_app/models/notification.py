"""Notifications: the in-app inbox and the e-mail outbox, one row per message.

``dedup_key`` is unique, so a reminder for (case, deadline, due date, offset) is written once
however often the sweep runs; e-mail is sent from the row and marked sent, so a killed worker
resends at most what it had not marked.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a notification is about; its label is what the inbox shows."""

    # To the handler (or the agency's approvers), working days before a deadline.
    DEADLINE_REMINDER = "deadline_reminder", _("期限提醒")
    # To the approvers: a reply deadline passed with no reply (Art 33).
    DEADLINE_ESCALATION = "deadline_escalation", _("逾期督办")
    # The consultee's period ran out without an opinion (Arts 32, 34).
    CONSULTATION_ENDED = "consultation_ended", _("征求意见期满")
    # The 补正 or fee period ran out: close the case? (Arts 30, 42)
    CLOSURE_PROPOSED = "closure_proposed", _("待确认终止")
    # A review's or a lawsuit's answer is due soon, or overdue.
    PROCEEDINGS_REMINDER = "proceedings_reminder", _("复议诉讼期限提醒")
    PROCEEDINGS_ESCALATION = "proceedings_escalation", _("复议诉讼逾期督办")
    # A 交办 asked of a unit: its answer is due soon (to the unit), or overdue (to its head and
    # the handler who asked; services/records_tasks.py).
    RECORDS_TASK_REMINDER = "records_task_reminder", _("交办答复期限提醒")
    RECORDS_TASK_ESCALATION = "records_task_escalation", _("交办逾期督办")
    # The applicant's e-mail about a step of the case (services.notifications.APPLICANT_KINDS).
    APPLICANT_CONFIRM_RECEIPT = "applicant_confirm_receipt", _("告知申请人：已确认接收")
    APPLICANT_REGISTER = "applicant_register", _("告知申请人：已登记")
    APPLICANT_REPLY_ON_SPOT = "applicant_reply_on_spot", _("告知申请人：当场答复")
    APPLICANT_REQUEST_SUPPLEMENT = "applicant_request_supplement", _("告知申请人：补正")
    APPLICANT_RECEIVE_SUPPLEMENT = "applicant_receive_supplement", _("告知申请人：已收到补正")
    APPLICANT_EXTEND = "applicant_extend", _("告知申请人：延期答复")
    APPLICANT_SET_LATER_REPLY_DATE = (
        "applicant_set_later_reply_date",
        _("告知申请人：延迟答复期限"),
    )
    APPLICANT_ISSUE_FEE_NOTICE = "applicant_issue_fee_notice", _("告知申请人：收费通知")
    APPLICANT_SERVE_REPLY = "applicant_serve_reply", _("告知申请人：答复已送达")
    APPLICANT_ABANDON_NO_SUPPLEMENT = (
        "applicant_abandon_no_supplement",
        _("告知申请人：逾期未补正"),
    )
    APPLICANT_ABANDON_NO_FEE = "applicant_abandon_no_fee", _("告知申请人：逾期未缴费")
    APPLICANT_WITHDRAW = "applicant_withdraw", _("告知申请人：已撤回")
    APPLICANT_QUESTION_ANSWERED = "applicant_question_answered", _("告知申请人：留言已答复")
    # The applicant's text messages (services.notifications.SMS_TEMPLATES).
    SMS_RECEIVED = "sms_received", _("短信：已收到申请")
    SMS_SUPPLEMENT_REQUESTED = "sms_supplement_requested", _("短信：需要补正")
    SMS_EXTENDED = "sms_extended", _("短信：延期答复")
    SMS_REPLIED = "sms_replied", _("短信：已答复")
    SMS_FEE_NOTICE = "sms_fee_notice", _("短信：收费通知")
    # A caseworker's reminder to the handler (the case list's bulk action).
    MANUAL_REMINDER = "manual_reminder", _("办理提醒")


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

    Kind = NotificationKind

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
    kind = models.CharField(_("类型"), max_length=40, choices=NotificationKind.choices)
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
