"""The case: one application for information, its applicant, its state and its clock."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from requests_app.choices import (
    CONCLUDED_STATES,
    CONFIRMED_CHANNELS,
    COUNTER_CHANNELS,
    IN_PERSON_CHANNELS,
    OPEN_STATES,
    ApplicantType,
    CaseState,
    Channel,
    DeliveryMethod,
    IdType,
    InformationForm,
    Outcome,
    Timeliness,
)
from requests_app.permissions import transition_permission

S = CaseState
# States from which work on the substance goes on (the clock runs or is suspended).
WORKING_STATES = [S.REGISTERED, S.PROCESSING]
ANY_OPEN = sorted(OPEN_STATES)


# --- transition conditions: pure predicates over the case --------------------------------
def is_confirmed_channel(case: "Case") -> bool:
    return case.channel in CONFIRMED_CHANNELS


def is_counter_channel(case: "Case") -> bool:
    return case.channel in COUNTER_CHANNELS


def is_in_person_channel(case: "Case") -> bool:
    return case.channel in IN_PERSON_CHANNELS


def supplement_not_yet_requested(case: "Case") -> bool:
    # 条例 Art 30: 补正 may be asked for once.
    return not case.supplement_requested


def not_yet_extended(case: "Case") -> bool:
    # 条例 Art 33 ¶2: one extension.
    return not case.is_extended


class Case(ConcurrentTransitionMixin, models.Model):
    """An application (依申请公开) and everything the office decides about it.

    The state changes only through the transitions below, and those are called only by
    ``requests_app.services``; every change is a ``CaseEvent``. The date columns the report
    and the sweep select on (``received_on``, ``concluded_on``, the due dates) are written
    by the services when the facts happen, so that queries select by range and index.
    """

    tracking_number = models.CharField(_("申请编号"), max_length=32, unique=True)
    external_id = models.CharField(
        _("外部编号"), max_length=100, unique=True, null=True, blank=True
    )
    agency = models.ForeignKey(
        "requests_app.Agency",
        verbose_name=_("受理机关"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handled_cases",
    )

    # The applicant (Art 29 ¶2(一)).
    applicant_type = models.CharField(_("申请人类型"), max_length=30, choices=ApplicantType.choices)
    applicant_name = models.CharField(_("申请人姓名/名称"), max_length=200)
    id_type = models.CharField(
        _("证件类型"), max_length=30, choices=IdType.choices, default=IdType.MAINLAND_ID
    )
    id_number = models.CharField(_("证件号码"), max_length=40, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), max_length=254, blank=True)
    address = models.CharField(_("通讯地址"), max_length=300, blank=True)
    postal_code = models.CharField(_("邮政编码"), max_length=6, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=100, blank=True)

    # The information asked for (Art 29 ¶2(二)) and how it is wanted (Art 29 ¶2(三)).
    description = models.TextField(_("所需信息内容描述"), max_length=5000)
    document_number = models.CharField(_("文件名称、文号"), max_length=300, blank=True)
    purpose = models.CharField(_("用途（选填）"), max_length=500, blank=True)
    information_form = models.CharField(
        _("信息提供形式"),
        max_length=20,
        choices=InformationForm.choices,
        default=InformationForm.ELECTRONIC,
    )
    delivery_method = models.CharField(
        _("获取信息方式"),
        max_length=20,
        choices=DeliveryMethod.choices,
        default=DeliveryMethod.EMAIL,
    )
    # The applicant asked for text messages about the steps of the case (to ``phone``).
    sms_opt_in = models.BooleanField(_("短信通知"), default=False)

    channel = models.CharField(_("申请渠道"), max_length=20, choices=Channel.choices)
    submitted_at = models.DateTimeField(_("提交时间"))
    received_on = models.DateField(_("收到申请日期(R)"), null=True, blank=True, db_index=True)
    access_code_hash = models.CharField(max_length=100, blank=True, editable=False)

    state = FSMField(_("状态"), default=S.SUBMITTED, choices=CaseState.choices, protected=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    outcome = models.CharField(_("办理结果"), max_length=40, choices=Outcome.choices, blank=True)
    legal_basis = models.CharField(_("法律依据"), max_length=500, blank=True)
    internal_note = models.TextField(_("内部备注"), blank=True)

    # Facts the transitions record.
    supplement_requested = models.BooleanField(_("已要求补正"), default=False)
    is_extended = models.BooleanField(_("已延期"), default=False)
    draft_outcome = models.CharField(
        _("拟答复结果"), max_length=40, choices=Outcome.choices, blank=True
    )
    draft_legal_basis = models.CharField(_("拟答复依据"), max_length=500, blank=True)
    replied_on = models.DateField(_("答复送达日期"), null=True, blank=True)
    concluded_on = models.DateField(_("办结日期"), null=True, blank=True, db_index=True)

    # The clock, derived from the history by requests_app.clock and stored for querying.
    restarted_on = models.DateField(_("补正后收到日期(R′)"), null=True, blank=True)
    reply_due_on = models.DateField(_("答复期限"), null=True, blank=True)
    supplement_notice_due_on = models.DateField(_("补正告知期限"), null=True, blank=True)
    supplement_due_on = models.DateField(_("申请人补正期限"), null=True, blank=True)
    fee_due_on = models.DateField(_("缴费期限"), null=True, blank=True)
    consultation_due_on = models.DateField(_("征求意见期限"), null=True, blank=True)
    next_action_on = models.DateField(_("下一提醒日期"), null=True, blank=True)
    clock = models.JSONField(_("期限计算说明"), default=dict, blank=True, editable=False)
    timeliness = models.CharField(
        _("办理时效"), max_length=20, choices=Timeliness.choices, blank=True
    )
    working_days_late = models.PositiveSmallIntegerField(_("逾期工作日数"), default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公开申请")
        verbose_name_plural = _("公开申请")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "state"]),
            # The annual report and the dashboards count by these columns: with them included,
            # PostgreSQL answers from the index alone (an index-only scan of the counted
            # columns) instead of reading the wide rows.
            models.Index(
                fields=["agency", "received_on"],
                include=[
                    "concluded_on",
                    "applicant_type",
                    "outcome",
                    "channel",
                    "is_extended",
                    "reply_due_on",
                    "timeliness",
                    "restarted_on",
                ],
                name="case_counted_columns",
            ),
            # The dashboards count the cases concluded from a year's first day on, and those
            # still open, as two ranges of this index, reading only its columns (an
            # index-only scan): neither the wide rows nor the years concluded before.
            models.Index(
                fields=["agency", "concluded_on"],
                include=[
                    "received_on",
                    "reply_due_on",
                    "restarted_on",
                    "timeliness",
                    "outcome",
                ],
                name="case_concluded_columns",
            ),
            # A page of an agency's cases, newest first (the ordering above: the staff list,
            # the admin), read in index order instead of sorting all the agency's cases.
            models.Index(fields=["agency", "-submitted_at", "-id"], name="case_agency_newest"),
            # The sweep reads only what is due: a partial index over open cases.
            models.Index(
                fields=["next_action_on"],
                name="case_next_action_open",
                condition=Q(state__in=sorted(OPEN_STATES)) & Q(next_action_on__isnull=False),
            ),
            models.Index(fields=["phone"], name="case_phone"),
            models.Index(fields=["applicant_name"], name="case_applicant_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state__in=sorted(CONCLUDED_STATES)) | ~Q(outcome=""),
                name="case_concluded_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def state_fields(self):
        # django-fsm's ConcurrentTransitionMixin finds the state fields by testing every field
        # of the model, on every instance built and every save: 47 tests each time, 2,350 for
        # a page of the staff list. The case has one.
        return (self._meta.get_field("state"),)

    # --- transitions: in-memory changes only; the services save and write history ------------
    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.REGISTERED,
        conditions=[is_confirmed_channel],
        permission=transition_permission("confirm_receipt"),
    )
    def confirm_receipt(self, *, received_on):
        """Art 31: R is the day receipt is confirmed with the applicant."""
        self.received_on = received_on

    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.REGISTERED,
        conditions=[is_counter_channel],
        permission=transition_permission("register"),
    )
    def register(self, *, received_on):
        """Art 31: R is the day it was handed in (or the signed-for day, by post)."""
        self.received_on = received_on

    @transition(
        field=state,
        source=[S.SUBMITTED, S.REGISTERED],
        target=S.REPLIED,
        conditions=[is_in_person_channel],
        permission=transition_permission("reply_on_spot"),
    )
    def reply_on_spot(self, *, on, outcome, legal_basis):
        """Art 33 ¶1: answered at the counter; R and the reply are the same day."""
        self.received_on = self.received_on or on
        self._conclude(on=on, outcome=outcome, legal_basis=legal_basis)
        self.replied_on = on

    @transition(
        field=state,
        source=S.REGISTERED,
        target=S.PROCESSING,
        permission=transition_permission("start_processing"),
    )
    def start_processing(self, *, handler):
        self.handler = handler

    @transition(
        field=state,
        source=[S.REGISTERED, S.PROCESSING],
        target=S.AWAITING_SUPPLEMENT,
        conditions=[supplement_not_yet_requested],
        permission=transition_permission("request_supplement"),
    )
    def request_supplement(self):
        self.supplement_requested = True

    @transition(
        field=state,
        source=S.AWAITING_SUPPLEMENT,
        target=S.PROCESSING,
        permission=transition_permission("receive_supplement"),
    )
    def receive_supplement(self):
        """Art 30: the clock restarts from R′, the day the supplement arrives (set by the clock)."""

    @transition(
        field=state,
        source=S.AWAITING_SUPPLEMENT,
        target=S.CLOSED,
        permission=transition_permission("abandon_no_supplement"),
    )
    def abandon_no_supplement(self, *, on):
        """Art 30: no 补正 in time, 视为放弃."""
        self._conclude(
            on=on, outcome="abandoned_no_supplement", legal_basis="《政府信息公开条例》第三十条"
        )

    @transition(
        field=state,
        source=[S.REGISTERED, S.PROCESSING],
        target=S.CONSULTING,
        permission=transition_permission("start_consultation"),
    )
    def start_consultation(self):
        """Arts 32, 34: the time the consultee takes is excluded from the reply clock."""

    @transition(
        field=state,
        source=S.CONSULTING,
        target=S.PROCESSING,
        permission=transition_permission("close_consultation"),
    )
    def close_consultation(self):
        pass

    @transition(
        field=state,
        source=[
            S.REGISTERED,
            S.PROCESSING,
            S.CONSULTING,
            S.AWAITING_FEE,
            S.PENDING_APPROVAL,
            S.APPROVED,
        ],
        target=None,
        conditions=[not_yet_extended],
        permission=transition_permission("extend"),
    )
    def extend(self):
        """Art 33 ¶2: once, with the head's approval; the state does not change."""
        self.is_extended = True

    @transition(
        field=state,
        source=[
            S.REGISTERED,
            S.PROCESSING,
            S.CONSULTING,
            S.AWAITING_FEE,
            S.PENDING_APPROVAL,
            S.APPROVED,
        ],
        target=None,
        permission=transition_permission("set_later_reply_date"),
    )
    def set_later_reply_date(self):
        """Art 35: many reasonable requests; the agency fixes a later reply date."""

    @transition(
        field=state,
        source=S.PROCESSING,
        target=S.AWAITING_FEE,
        permission=transition_permission("issue_fee_notice"),
    )
    def issue_fee_notice(self):
        """Art 42: the applicant has 20 working days to pay; the clock pauses (setting)."""

    @transition(
        field=state,
        source=S.AWAITING_FEE,
        target=S.PROCESSING,
        permission=transition_permission("record_fee_payment"),
    )
    def record_fee_payment(self):
        pass

    @transition(
        field=state,
        source=S.AWAITING_FEE,
        target=S.CLOSED,
        permission=transition_permission("abandon_no_fee"),
    )
    def abandon_no_fee(self, *, on):
        """Art 42: unpaid in time, the office no longer processes the application."""
        self._conclude(
            on=on, outcome="abandoned_no_fee", legal_basis="《政府信息公开条例》第四十二条"
        )

    @transition(
        field=state,
        source=S.PROCESSING,
        target=S.PENDING_APPROVAL,
        permission=transition_permission("submit_for_approval"),
    )
    def submit_for_approval(self, *, outcome, legal_basis):
        self.draft_outcome = outcome
        self.draft_legal_basis = legal_basis

    @transition(
        field=state,
        source=S.PENDING_APPROVAL,
        target=S.APPROVED,
        permission=transition_permission("approve"),
    )
    def approve(self):
        pass

    @transition(
        field=state,
        source=S.PENDING_APPROVAL,
        target=S.PROCESSING,
        permission=transition_permission("send_back"),
    )
    def send_back(self):
        pass

    @transition(
        field=state,
        source=S.APPROVED,
        target=S.PENDING_APPROVAL,
        permission=lambda instance, user: False,  # never offered: only a review change does it
    )
    def return_for_approval(self):
        """The review changed after approval (services/records.py): the approved release no
        longer stands, so the reply goes back to the office head."""

    @transition(
        field=state,
        source=S.APPROVED,
        target=S.REPLIED,
        permission=transition_permission("serve_reply"),
    )
    def serve_reply(self, *, served_on):
        """The reply counts as made on the service date (国办公开办函〔2016〕235号)."""
        self._conclude(on=served_on, outcome=self.draft_outcome, legal_basis=self.draft_legal_basis)
        self.replied_on = served_on

    @transition(
        field=state, source=ANY_OPEN, target=S.CLOSED, permission=transition_permission("withdraw")
    )
    def withdraw(self, *, on):
        self._conclude(on=on, outcome="withdrawn", legal_basis="")

    @transition(
        field=state, source=S.REPLIED, target=S.CLOSED, permission=transition_permission("close")
    )
    def close(self):
        """归档 (Art 45): the outcome and conclusion date stay as they were."""

    @transition(
        field=state,
        source=[S.REPLIED, S.CLOSED],
        target=S.PROCESSING,
        permission=transition_permission("reopen"),
    )
    def reopen(self):
        """A review or court corrected the reply (e.g. 责令重新答复): a new reply is due."""
        self.outcome = ""
        self.legal_basis = ""
        self.draft_outcome = ""
        self.draft_legal_basis = ""
        self.replied_on = None
        self.concluded_on = None
        self.timeliness = ""
        self.working_days_late = 0

    def _conclude(self, *, on, outcome, legal_basis):
        self.outcome = outcome
        self.legal_basis = legal_basis
        self.concluded_on = on


class IdempotencyRecord(models.Model):
    """The first answer to a POST made with an ``Idempotency-Key``, replayed on retries."""

    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    case = models.ForeignKey(Case, null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
