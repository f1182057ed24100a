"""The append-only history of a case (条例 Art 45: 登记、审核、办理、答复、归档)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    # Transitions of the state machine (same names as the Case methods).
    SUBMITTED = "submitted", _("提交申请")
    CONFIRM_RECEIPT = "confirm_receipt", _("确认接收")
    REGISTER = "register", _("登记")
    REPLY_ON_SPOT = "reply_on_spot", _("当场答复")
    START_PROCESSING = "start_processing", _("分办/开始办理")
    REQUEST_SUPPLEMENT = "request_supplement", _("告知补正")
    RECEIVE_SUPPLEMENT = "receive_supplement", _("收到补正")
    ABANDON_NO_SUPPLEMENT = "abandon_no_supplement", _("逾期未补正，视为放弃")
    START_CONSULTATION = "start_consultation", _("征求意见")
    CLOSE_CONSULTATION = "close_consultation", _("征求意见结束")
    EXTEND = "extend", _("延期答复")
    SET_LATER_REPLY_DATE = "set_later_reply_date", _("确定延迟答复期限")
    ISSUE_FEE_NOTICE = "issue_fee_notice", _("发出收费通知")
    RECORD_FEE_PAYMENT = "record_fee_payment", _("确认缴费")
    ABANDON_NO_FEE = "abandon_no_fee", _("逾期未缴费，不再处理")
    SUBMIT_FOR_APPROVAL = "submit_for_approval", _("提交审核")
    APPROVE = "approve", _("审核通过")
    SEND_BACK = "send_back", _("退回修改")
    SERVE_REPLY = "serve_reply", _("送达答复")
    WITHDRAW = "withdraw", _("申请人撤回")
    CLOSE = "close", _("归档")
    REOPEN = "reopen", _("重新办理")
    # Facts that are not transitions.
    ASSIGN = "assign", _("指定承办人")
    NOTE = "note", _("备注")
    DUE_CHANGED = "due_changed", _("期限变更")
    REMINDER_SENT = "reminder_sent", _("期限提醒")
    ESCALATED = "escalated", _("逾期上报")
    CLOSURE_PROPOSED = "closure_proposed", _("待确认终止")
    CHANGED_AFTER_PUBLICATION = "changed_after_publication", _("年报发布后变更")
    IMPORTED = "imported", _("历史导入")
    # Linked records (services/proceedings.py) and letters (services/letters.py).
    REVIEW_FILED = "review_filed", _("申请行政复议")
    REVIEW_ACCEPTED = "review_accepted", _("行政复议受理")
    REVIEW_ANSWERED = "review_answered", _("提交行政复议答复")
    REVIEW_EXTENDED = "review_extended", _("行政复议延期")
    REVIEW_DECIDED = "review_decided", _("行政复议决定")
    LAWSUIT_FILED = "lawsuit_filed", _("提起行政诉讼")
    LAWSUIT_DEFENDED = "lawsuit_defended", _("提交答辩举证")
    LAWSUIT_DECIDED = "lawsuit_decided", _("行政诉讼裁判")
    COMPLAINT_RECEIVED = "complaint_received", _("收到投诉举报")
    COMPLAINT_HANDLED = "complaint_handled", _("投诉举报处理")
    LETTER_ISSUED = "letter_issued", _("制作文书")
    LETTER_SERVED = "letter_served", _("送达文书")
    # The applicant's messages to the office and the office's answers (services/applicant.py).
    QUESTION_ASKED = "question_asked", _("申请人留言")
    QUESTION_ANSWERED = "question_answered", _("答复留言")
    ATTACHMENT_ADDED = "attachment_added", _("上传申请材料")
    # Records and their review (services/records.py).
    RECORD_ADDED = "record_added", _("添加文件")
    RECORD_REMOVED = "record_removed", _("删除文件")
    PAGE_DECIDED = "page_decided", _("页面审查决定")
    REGION_ADDED = "region_added", _("标注不予公开区域")
    REGION_REMOVED = "region_removed", _("删除不予公开区域")
    SUGGESTIONS_FOUND = "suggestions_found", _("查找需遮盖内容")
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("采纳遮盖建议")
    SUGGESTION_REJECTED = "suggestion_rejected", _("不采纳遮盖建议")
    RELEASE_BUILT = "release_built", _("生成公开文本")
    RELEASE_PUBLISHED = "release_published", _("主动公开")
    RELEASE_UNPUBLISHED = "release_unpublished", _("撤回主动公开")


class CaseEventQuerySet(models.QuerySet):
    """History is append-only: the queryset refuses bulk updates and deletes."""

    def update(self, **kwargs):
        raise PermissionError("CaseEvent is append-only: history cannot be updated.")

    def delete(self):
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")

    def _raw_delete(self, using):
        # Django's fast path for deletes (no signals, no collector): refused the same way.
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")


class CaseEvent(models.Model):
    """One step in a case's life: who, when (recorded and effective), what, from, to, data."""

    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("事项"), max_length=40, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    effective_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    reason = models.TextField(_("说明"), blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["case", "effective_at", "pk"]
        indexes = [models.Index(fields=["case", "effective_at", "id"], name="event_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.effective_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("CaseEvent is append-only: history cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("CaseEvent is append-only: history cannot be deleted.")
