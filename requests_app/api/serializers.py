"""Serializers of the API: they validate input and shape output, nothing else.

Names are unique across the project (drf-spectacular builds its component names from them):
``<Thing>InputSerializer`` for what a client sends, ``<Thing>OutputSerializer`` for what it
gets back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from requests_app import validation
from requests_app.choices import (
    ON_THE_SPOT_OUTCOMES,
    REPLY_OUTCOMES,
    ApplicantType,
    CaseState,
    Channel,
    ConsulteeKind,
    DeliveryMethod,
    DeliveryMode,
    IdType,
    InformationForm,
    Outcome,
    Timeliness,
)
from requests_app.clock import provisional_years_of
from requests_app.masking import PERSONAL_MASKS
from requests_app.models import Agency, Case, CaseEvent, EventKind, FeeNotice
from requests_app.selectors import agency_by_code, published_similar
from requests_app.services.cases import ACTIONS, CARRIERS
from requests_app.services.errors import InvalidInput
from requests_app.services.intake import APPLICATION_MESSAGES_EN, application_fields_check

# Choice lists for the subsets of outcomes some actions accept, in the order of the closed list
# (docs/law.md, 'Outcomes (Arts 36–39)'). Named here so that
# SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] can name them.
ON_THE_SPOT_OUTCOME_CHOICES = [(o.value, o.label) for o in Outcome if o in ON_THE_SPOT_OUTCOMES]
REPLY_OUTCOME_CHOICES = [(o.value, o.label) for o in Outcome if o in REPLY_OUTCOMES]
ACTION_CHOICES = [(name, name) for name in ACTIONS]
FEE_METHOD_CHOICES = FeeNotice.Method.choices

MAX_USER_ID = 2**31 - 1
EARLIEST_DAY = dt.date(1990, 1, 1)
LATEST_DAY = dt.date(2099, 12, 31)
# Counter work may be entered after the fact, never ahead of time (a little clock skew allowed).
CLOCK_SKEW = dt.timedelta(minutes=5)
DUE_PROVISIONAL_HELP = (
    "期限暂定：所列期限中有按暂定年度日历计算的（国务院办公厅尚未公布该年放假安排，仅计"
    "《全国年节及纪念日放假办法》规定的法定节假日、未计调休），安排公布后可能调整。"
    " / True when a due date shown here was computed on a provisional calendar year (the"
    " statutory holidays only; the State Council has not yet published that year's"
    " arrangement), so it may move when the arrangement is published."
)


def _message(chinese: str) -> str:
    """A validation message in the request's language (Chinese unless English was asked for)."""
    if (translation.get_language() or "").startswith("en"):
        return APPLICATION_MESSAGES_EN.get(chinese, chinese)
    return chinese


def _not_in_future(value: dt.datetime) -> dt.datetime:
    """When a step happened: not ahead of now, and not before the years a live case concerns."""
    if value > timezone.now() + CLOCK_SKEW:
        raise serializers.ValidationError("不能晚于当前时间。", code="future")
    if value.year < EARLIEST_DAY.year:
        raise serializers.ValidationError(f"不能早于 {EARLIEST_DAY.year} 年。", code="out_of_range")
    return value


# --- small shared output shapes --------------------------------------------------------------
class CaseStateOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=CaseState.choices)
    label = serializers.CharField()


class OutcomeOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Outcome.choices)
    label = serializers.CharField()


class EventKindOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=EventKind.choices)
    label = serializers.CharField()


class AgencyBriefOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class HandlerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def labeled(choices, value: str) -> dict | None:
    """``{"code": value, "label": 中文}`` for a TextChoices value, ``None`` when blank."""
    if not value:
        return None
    return {"code": value, "label": str(choices(value).label)}


def agency_brief(agency: Agency) -> dict:
    return {"code": agency.code, "name": agency.name}


# --- the applicant's fields, shared by the public submission and counter intake ---------------


class ApplicantFieldsInputSerializer(serializers.Serializer):
    """What Art 29 ¶2 requires of an application: who (name, 身份证明, contact), what
    information, and in which form and way it is wanted."""

    applicant_type = serializers.ChoiceField(choices=ApplicantType.choices)
    applicant_name = serializers.CharField(max_length=200)
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=30)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=300)
    postal_code = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
    legal_representative = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    contact_person = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    description = serializers.CharField(max_length=5000)
    document_number = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    purpose = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    information_form = serializers.ChoiceField(choices=InformationForm.choices)
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices)

    def validate(self, attrs: dict) -> dict:
        # The applicant and delivery rules are the intake service's; its refusal is shown on
        # each field it names, as the admin's counter form shows it.
        names = ApplicantFieldsInputSerializer._declared_fields
        try:
            checked = application_fields_check({k: v for k, v in attrs.items() if k in names})
        except InvalidInput as exc:
            raise serializers.ValidationError(
                {name: [_message(m) for m in messages] for name, messages in exc.fields.items()},
                code="invalid",
            ) from exc
        return {**attrs, **checked}

    def applicant_fields(self) -> dict:
        """The validated fields the intake services store on the case."""
        names = ApplicantFieldsInputSerializer._declared_fields
        return {name: value for name, value in self.validated_data.items() if name in names}


def _agency_from_code(code: str, *, cached: bool = False) -> Agency:
    agency = agency_by_code(code, cached=cached)
    if agency is None:
        raise serializers.ValidationError("未找到该机关代码。", code="unknown_agency")
    return agency


class _ShallowFieldCopies:
    """Each instance gets shallow copies of fields built once per class.

    DRF builds the fields anew for every serializer instance: it deep-copies each declared
    field (re-running its ``__init__``), and a model serializer also derives a field from each
    model field. For the 16 flat fields of a submission that was about two thirds of its
    validation time; for the 19 of the staff list, 7% of a page. A flat field keeps no
    per-request state of its own: ``bind()`` sets its name and parent on the copy, and its
    validators, choices and error messages are only read. Only for serializers whose fields
    are all flat (no nested serializer, no ``many=True``) and the same for every instance.

    The copy is ``copy.copy``'s, written out: a new instance of the class with the same
    attributes. ``copy.copy`` reaches it through the generic pickle protocol, which took three
    quarters of the time of the copies."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")  # this class's own, not a parent's
        if built is None:
            built = cls._built_fields = super().get_fields()
        fields = {}
        for name, field in built.items():
            shallow = object.__new__(type(field))
            shallow.__dict__.update(field.__dict__)
            fields[name] = shallow
        return fields


# --- public: submission and tracking -----------------------------------------------------------
class ApplicationCreateInputSerializer(_ShallowFieldCopies, ApplicantFieldsInputSerializer):
    agency = serializers.CharField(
        max_length=64, help_text="受理机关代码（见 GET /api/v1/agencies/）/ The agency's code."
    )

    def validate_agency(self, value: str) -> Agency:
        # Every submission looks its agency up: from the process's short-lived copy.
        return _agency_from_code(value, cached=True)


class SimilarPublishedOutputSerializer(serializers.Serializer):
    """A published answer like the new application (selectors.published_similar)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    score = serializers.FloatField(help_text="相似度 0–1 / similarity 0–1")


class ApplicationCreateOutputSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    access_code = serializers.CharField(
        help_text="查询码，仅此一次返回，请妥善保存 / The access code, shown only once."
    )
    state = CaseStateOutputSerializer()
    submitted_at = serializers.DateTimeField()
    agency = AgencyBriefOutputSerializer()


class ApplicationTrackInputSerializer(serializers.Serializer):
    # Letters and digits only (either case), so the schema says exactly what is accepted.
    tracking_number = serializers.RegexField(
        r"^[A-Za-z0-9]+$", max_length=32, trim_whitespace=False, help_text="申请编号"
    )
    access_code = serializers.RegexField(
        r"^[A-Za-z0-9]+$", max_length=64, trim_whitespace=False, help_text="查询码"
    )


class ApplicationStatusOutputSerializer(serializers.Serializer):
    """What the applicant may see of their own case: never notes, handler or drafts."""

    tracking_number = serializers.CharField()
    agency = AgencyBriefOutputSerializer()
    state = CaseStateOutputSerializer()
    submitted_at = serializers.DateTimeField()
    received_on = serializers.DateField(allow_null=True)
    is_extended = serializers.BooleanField()
    reply_due_on = serializers.DateField(allow_null=True)
    supplement_due_on = serializers.DateField(allow_null=True)
    supplement_items = serializers.CharField(allow_null=True)
    fee_due_on = serializers.DateField(allow_null=True)
    due_provisional = serializers.BooleanField(help_text=DUE_PROVISIONAL_HELP)
    fee_amount_yuan = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=True
    )
    outcome = OutcomeOutputSerializer(allow_null=True)
    legal_basis = serializers.CharField(allow_null=True)
    replied_on = serializers.DateField(allow_null=True)
    concluded_on = serializers.DateField(allow_null=True)


class AgencyOutputSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)

    class Meta:
        model = Agency
        fields = ["code", "name", "kind", "parent"]


# --- staff: output ------------------------------------------------------------------------------
class _DueProvisionalField(serializers.BooleanField):
    """``due_provisional`` of a staff case: any of its due dates rests on a provisional year."""

    def __init__(self):
        super().__init__(source="*", read_only=True, help_text=DUE_PROVISIONAL_HELP)

    def to_representation(self, case: Case) -> bool:
        return bool(provisional_years_of(case.clock))


class _CaseOutputBase(serializers.ModelSerializer):
    """Masks personal data unless the context says the user may see it."""

    agency = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    handler = serializers.SerializerMethodField()
    due_provisional = _DueProvisionalField()

    @extend_schema_field(AgencyBriefOutputSerializer)
    def get_agency(self, case: Case) -> dict:
        return agency_brief(case.agency)

    @extend_schema_field(CaseStateOutputSerializer)
    def get_state(self, case: Case) -> dict | None:
        return labeled(CaseState, case.state)

    @extend_schema_field(OutcomeOutputSerializer(allow_null=True))
    def get_outcome(self, case: Case) -> dict | None:
        return labeled(Outcome, case.outcome)

    @extend_schema_field(HandlerOutputSerializer(allow_null=True))
    def get_handler(self, case: Case) -> dict | None:
        if case.handler is None:
            return None
        user = case.handler
        return {"id": user.pk, "name": user.get_full_name() or user.get_username()}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_personal_data", False):
            for name, mask in PERSONAL_MASKS.items():
                if name in data and data[name]:
                    data[name] = mask(data[name])
        return data


class CaseListOutputSerializer(_ShallowFieldCopies, _CaseOutputBase):
    class Meta:
        model = Case
        fields = [
            "id",
            "tracking_number",
            "agency",
            "state",
            "outcome",
            "handler",
            "applicant_type",
            "applicant_name",
            "id_type",
            "id_number",
            "phone",
            "channel",
            "submitted_at",
            "received_on",
            "reply_due_on",
            "due_provisional",
            "next_action_on",
            "concluded_on",
            "is_extended",
            "version",
        ]
        read_only_fields = fields


class CaseEventOutputSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    data = serializers.JSONField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "kind",
            "actor_label",
            "recorded_at",
            "effective_at",
            "from_state",
            "to_state",
            "data",
            "reason",
        ]
        read_only_fields = fields

    @extend_schema_field(EventKindOutputSerializer)
    def get_kind(self, event: CaseEvent) -> dict | None:
        return labeled(EventKind, event.kind)


class CaseDetailOutputSerializer(_CaseOutputBase):
    draft_outcome = serializers.SerializerMethodField()
    timeliness = serializers.SerializerMethodField(
        help_text="办结时效（未办结为 null）/ On time, extended or late; null while open."
    )
    clock = serializers.JSONField(help_text="期限计算说明 / How each due date was computed.")
    events = CaseEventOutputSerializer(many=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text="当前用户现在可以执行的操作 / The actions this user may take now."
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "tracking_number",
            "external_id",
            "agency",
            "state",
            "version",
            "outcome",
            "legal_basis",
            "draft_outcome",
            "draft_legal_basis",
            "handler",
            "applicant_type",
            "applicant_name",
            "id_type",
            "id_number",
            "phone",
            "email",
            "address",
            "postal_code",
            "legal_representative",
            "contact_person",
            "description",
            "document_number",
            "purpose",
            "information_form",
            "delivery_method",
            "channel",
            "submitted_at",
            "received_on",
            "restarted_on",
            "supplement_requested",
            "is_extended",
            "reply_due_on",
            "supplement_notice_due_on",
            "supplement_due_on",
            "fee_due_on",
            "consultation_due_on",
            "due_provisional",
            "next_action_on",
            "replied_on",
            "concluded_on",
            "timeliness",
            "working_days_late",
            "internal_note",
            "clock",
            "events",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(OutcomeOutputSerializer(allow_null=True))
    def get_draft_outcome(self, case: Case) -> dict | None:
        return labeled(Outcome, case.draft_outcome)

    @extend_schema_field(serializers.ChoiceField(choices=Timeliness.choices, allow_null=True))
    def get_timeliness(self, case: Case) -> str | None:
        return case.timeliness or None

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=ACTION_CHOICES))
    )
    def get_allowed_actions(self, case: Case) -> list[str]:
        return list(self.context.get("allowed_actions", []))


class CaseIntakeOutputSerializer(CaseDetailOutputSerializer):
    access_code = serializers.SerializerMethodField(
        help_text="查询码，仅此一次返回，请交给申请人 / The access code, for the applicant."
    )
    similar_published = serializers.SerializerMethodField(
        help_text="已主动公开的相似答复（可答复“已主动公开”）/ Published answers like this one."
    )

    class Meta(CaseDetailOutputSerializer.Meta):
        fields = ["access_code", "similar_published", *CaseDetailOutputSerializer.Meta.fields]
        read_only_fields = fields

    def get_access_code(self, case: Case) -> str:
        return self.context["access_code"]

    @extend_schema_field(SimilarPublishedOutputSerializer(many=True))
    def get_similar_published(self, case: Case):
        return published_similar(case.description)


class _HandlerField(serializers.IntegerField):
    """A user by id (an integer in the schema; ids out of range are a 400, not a driver error)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_USER_ID, **kwargs)

    def run_validation(self, data=serializers.empty):
        pk = super().run_validation(data)  # the integer, its range checked
        if pk is None:
            return None
        user = get_user_model().objects.filter(pk=pk, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("未找到该用户。", code="does_not_exist")
        return user


class _DayField(serializers.DateField):
    """A date within the years a live case can concern (the clock's arithmetic is bounded)."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise serializers.ValidationError(
                f"日期须在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间。", code="out_of_range"
            )
        return day


class _StorableDictField(serializers.DictField):
    """A free-form JSON object kept as it is sent (in a JSONField). DRF's CharField refuses
    NUL and lone surrogates in named fields; an object's keys and nested values escape that,
    and PostgreSQL would refuse them on the write (a 500), so they are checked here."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if why := validation.unstorable_text(value):
            raise serializers.ValidationError(why, code="invalid")
        return value


# --- staff: list filters and counter intake --------------------------------------------------
class CaseListFilterInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CaseState.choices, required=False)
    agency = serializers.CharField(
        max_length=64, required=False, help_text="机关代码，含下级机关 / Agency code (subtree)."
    )
    received_from = serializers.DateField(required=False)
    received_to = serializers.DateField(required=False)
    due_before = serializers.DateField(
        required=False, help_text="答复期限不晚于该日的未办结申请 / Open cases due by this day."
    )
    handler = serializers.IntegerField(min_value=1, max_value=MAX_USER_ID, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    open = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(
        max_length=100,
        required=False,
        help_text="申请编号、申请人姓名（前缀）或电话 / Tracking number, name prefix or phone.",
    )

    def validate_agency(self, value: str) -> Agency:
        return _agency_from_code(value)

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("received_from"), attrs.get("received_to")
        if start and end and start > end:
            raise serializers.ValidationError({"received_to": ["结束日期不能早于开始日期。"]})
        return attrs


class CaseIntakeInputSerializer(ApplicantFieldsInputSerializer):
    agency = serializers.CharField(
        max_length=64,
        required=False,
        help_text="受理机关代码；缺省为登记员所属机关 / Defaults to the registrar's agency.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    received_on = _DayField(required=False, help_text="收到申请日期 R（Art 31）/ Receipt date R.")
    effective_at = serializers.DateTimeField(
        required=False, help_text="递交时间（补录时填写）/ When it was handed in."
    )

    def validate_agency(self, value: str) -> Agency:
        return _agency_from_code(value)

    def validate_effective_at(self, value: dt.datetime) -> dt.datetime:
        return _not_in_future(value)


# --- staff: one input serializer per action ---------------------------------------------------
class CaseActionInputSerializer(serializers.Serializer):
    """Fields every action takes: the version the client last saw, and when it happened."""

    expected_version = serializers.IntegerField(
        min_value=0,
        max_value=MAX_USER_ID,
        required=False,
        help_text="客户端看到的版本号；已被他人修改时返回 409 / 409 if the case changed since.",
    )
    effective_at = serializers.DateTimeField(
        required=False, help_text="实际发生时间（补录时填写）/ When it happened, if earlier."
    )

    def validate_effective_at(self, value: dt.datetime) -> dt.datetime:
        return _not_in_future(value)


class CaseConfirmReceiptInputSerializer(CaseActionInputSerializer):
    received_on = _DayField(required=False)


class CaseRegisterInputSerializer(CaseActionInputSerializer):
    received_on = _DayField(required=False)


class CaseReplyOnSpotInputSerializer(CaseActionInputSerializer):
    outcome = serializers.ChoiceField(choices=ON_THE_SPOT_OUTCOME_CHOICES)
    legal_basis = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CaseStartProcessingInputSerializer(CaseActionInputSerializer):
    handler = _HandlerField(required=False, help_text="承办人的用户 ID / The handler's user id.")


class CaseAssignInputSerializer(CaseActionInputSerializer):
    handler = _HandlerField(help_text="承办人的用户 ID / The handler's user id.")


class CaseRequestSupplementInputSerializer(CaseActionInputSerializer):
    items = serializers.CharField(max_length=2000)
    period_days = serializers.IntegerField(min_value=1, max_value=60, required=False)


class CaseReceiveSupplementInputSerializer(CaseActionInputSerializer):
    received_on = _DayField(required=False)


class CaseAbandonNoSupplementInputSerializer(CaseActionInputSerializer):
    on = _DayField(required=False)


class CaseStartConsultationInputSerializer(CaseActionInputSerializer):
    consultee = serializers.CharField(max_length=200)
    consultee_kind = serializers.ChoiceField(
        choices=ConsulteeKind.choices, required=False, default=ConsulteeKind.THIRD_PARTY
    )


class CaseCloseConsultationInputSerializer(CaseActionInputSerializer):
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CaseExtendInputSerializer(CaseActionInputSerializer):
    days = serializers.IntegerField(min_value=1, max_value=20, required=False, default=20)
    reason = serializers.CharField(max_length=2000)


class CaseSetLaterReplyDateInputSerializer(CaseActionInputSerializer):
    reply_by = _DayField()
    reason = serializers.CharField(max_length=2000)


class CaseIssueFeeNoticeInputSerializer(CaseActionInputSerializer):
    amount_yuan = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("1000000")
    )
    method = serializers.ChoiceField(
        choices=FEE_METHOD_CHOICES, required=False, allow_blank=True, default=""
    )
    computation = _StorableDictField(required=False, help_text="计算过程 / How it was computed.")


class CaseRecordFeePaymentInputSerializer(CaseActionInputSerializer):
    waived = serializers.BooleanField(required=False, default=False)


class CaseAbandonNoFeeInputSerializer(CaseActionInputSerializer):
    on = _DayField(required=False)


class CaseSubmitForApprovalInputSerializer(CaseActionInputSerializer):
    outcome = serializers.ChoiceField(choices=REPLY_OUTCOME_CHOICES)
    legal_basis = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CaseApproveInputSerializer(CaseActionInputSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CaseSendBackInputSerializer(CaseActionInputSerializer):
    reason = serializers.CharField(max_length=2000)


class CaseServeReplyInputSerializer(CaseActionInputSerializer):
    """送达 and its proof (国办公开办函〔2016〕235号). The scan of the receipt is uploaded to the
    case's records with ``purpose=service_proof`` (``staff_records_upload``)."""

    service_method = serializers.ChoiceField(
        choices=[
            *DeliveryMode.choices,
            ("email", "电子邮件"),
            ("online", "网上平台"),
            ("fax", "传真"),
        ],
        help_text="送达方式；email、online、fax 按电子送达登记 / The mode of service.",
    )
    served_on = _DayField(
        required=False,
        help_text="签收日（直接、委托）、交邮日（邮寄）或发送日（电子）；逾期按此计算。",
    )
    carrier = serializers.ChoiceField(
        choices=list(CARRIERS.items()),
        required=False,
        allow_blank=True,
        help_text="邮寄送达只接受中国邮政（china_post）/ Only China Post is accepted.",
    )
    tracking_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="EMS 或挂号信邮件号：两个字母、九位数字（含 S10 校验位）加 CN，或以 1 开头的 13 "
        "位国内 EMS 单号 / China Post item number (S10 with a valid check digit, or 13-digit EMS).",
    )
    entrusted_to = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="委托送达：受委托签收人 / Who signed for an entrusted service.",
    )


class CaseWithdrawInputSerializer(CaseActionInputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CaseCloseInputSerializer(CaseActionInputSerializer):
    pass


class CaseReopenInputSerializer(CaseActionInputSerializer):
    reason = serializers.CharField(max_length=2000)


class CaseNoteInputSerializer(CaseActionInputSerializer):
    text = serializers.CharField(max_length=5000)


class CaseRecordSearchInputSerializer(CaseActionInputSerializer):
    searched_on = serializers.DateField(help_text="检索日期")
    keywords = serializers.CharField(max_length=500, help_text="检索关键词")
    sources = serializers.CharField(max_length=2000, help_text="检索的档案、系统或数据库")
    units_asked = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="询问的单位及其答复"
    )
    result = serializers.CharField(max_length=2000, help_text="检索结果")


ACTION_INPUT_SERIALIZERS: dict[str, type[CaseActionInputSerializer]] = {
    "confirm_receipt": CaseConfirmReceiptInputSerializer,
    "register": CaseRegisterInputSerializer,
    "reply_on_spot": CaseReplyOnSpotInputSerializer,
    "start_processing": CaseStartProcessingInputSerializer,
    "assign": CaseAssignInputSerializer,
    "request_supplement": CaseRequestSupplementInputSerializer,
    "receive_supplement": CaseReceiveSupplementInputSerializer,
    "abandon_no_supplement": CaseAbandonNoSupplementInputSerializer,
    "start_consultation": CaseStartConsultationInputSerializer,
    "close_consultation": CaseCloseConsultationInputSerializer,
    "extend": CaseExtendInputSerializer,
    "set_later_reply_date": CaseSetLaterReplyDateInputSerializer,
    "issue_fee_notice": CaseIssueFeeNoticeInputSerializer,
    "record_fee_payment": CaseRecordFeePaymentInputSerializer,
    "abandon_no_fee": CaseAbandonNoFeeInputSerializer,
    "submit_for_approval": CaseSubmitForApprovalInputSerializer,
    "approve": CaseApproveInputSerializer,
    "send_back": CaseSendBackInputSerializer,
    "serve_reply": CaseServeReplyInputSerializer,
    "withdraw": CaseWithdrawInputSerializer,
    "close": CaseCloseInputSerializer,
    "reopen": CaseReopenInputSerializer,
    "note": CaseNoteInputSerializer,
    "record_search": CaseRecordSearchInputSerializer,
}


# --- errors, for the schema ------------------------------------------------------------------
class ErrorOutputSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码 / A stable error code.")
    message = serializers.CharField(help_text="中文说明")
    message_en = serializers.CharField(help_text="English message")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="出错的字段及原因 / The inputs that were wrong, with the reasons.",
    )


__all__ = [
    "ACTION_INPUT_SERIALIZERS",
    "ApplicationCreateInputSerializer",
    "ApplicationCreateOutputSerializer",
    "ApplicationStatusOutputSerializer",
    "ApplicationTrackInputSerializer",
    "AgencyOutputSerializer",
    "CaseDetailOutputSerializer",
    "CaseIntakeInputSerializer",
    "CaseIntakeOutputSerializer",
    "CaseListFilterInputSerializer",
    "CaseListOutputSerializer",
    "ErrorOutputSerializer",
]
