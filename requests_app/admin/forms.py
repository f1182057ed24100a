"""The forms behind the case page's action buttons and the counter intake.

Each action form validates what a caseworker types and turns it into the keyword arguments of
the matching service in ``requests_app.services.cases.ACTIONS``; the services decide.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.contrib.auth import get_user_model
from django.utils import timezone

from requests_app.choices import (
    ON_THE_SPOT_OUTCOMES,
    REPLY_OUTCOMES,
    ApplicantType,
    Channel,
    ConsulteeKind,
    DeliveryMethod,
    DeliveryMode,
    IdType,
    InformationForm,
    Outcome,
    Role,
)
from requests_app.models import Agency, Case, FeeNotice
from requests_app.services.cases import CARRIERS, CHINA_POST, MAX_EXTENSION_DAYS
from requests_app.services.errors import InvalidInput
from requests_app.services.intake import application_fields_check


def choose_one(choices) -> list[tuple[str, str]]:
    """``choices`` after an empty first choice: nothing is chosen for the caseworker (an
    outcome, a decision), and a required field sent without a choice is refused."""
    return [("", "—— 请选择 ——"), *choices]


def _outcome_choices(allowed) -> list[tuple[str, str]]:
    return choose_one((value, label) for value, label in Outcome.choices if value in allowed)


def _date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=admin_widgets.AdminDateWidget, **kwargs)


class ActionForm(forms.Form):
    """Common to every action: the version the caseworker saw, and when it happened."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    effective_at = forms.SplitDateTimeField(
        label="实际发生时间",
        required=False,
        widget=admin_widgets.AdminSplitDateTime,
        help_text="补录以前发生的事项时填写；留空为当前时间。",
    )
    # The fields of this form passed to the service under the same name.
    service_fields: tuple[str, ...] = ()
    # The form offers no field of its own: it is a confirmation.
    confirmation = ""

    def __init__(self, *args, case: Case, user, **kwargs):
        self.case = case
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = case.version
        # What the action needs first; the back-dating field last.
        self.order_fields([name for name in self.fields if name != "effective_at"])

    def clean_effective_at(self):
        value = self.cleaned_data.get("effective_at")
        if value and value > timezone.now():
            raise forms.ValidationError("实际发生时间不能晚于现在。")
        return value

    def service_kwargs(self) -> dict:
        kwargs = {name: self.cleaned_data.get(name) for name in self.service_fields}
        if self.cleaned_data.get("effective_at"):
            kwargs["effective_at"] = self.cleaned_data["effective_at"]
        return kwargs


class ReceivedOnForm(ActionForm):
    received_on = _date_field("收到日期", initial=timezone.localdate)
    service_fields = ("received_on",)


class ConfirmReceiptForm(ReceivedOnForm):
    confirmation = "《条例》第三十一条：收到日期为双方确认收到申请之日。"


class RegisterForm(ReceivedOnForm):
    confirmation = "《条例》第三十一条：当面提交的以提交之日、邮寄的以签收之日为收到日期。"


class ReceiveSupplementForm(ReceivedOnForm):
    confirmation = "收到补正后，答复期限自补正收到之日重新计算（《条例》第三十条）。"


class ReplyOnSpotForm(ActionForm):
    outcome = forms.ChoiceField(label="答复结果", choices=_outcome_choices(ON_THE_SPOT_OUTCOMES))
    legal_basis = forms.CharField(
        label="法律依据", required=False, max_length=500, help_text="留空则使用该结果的默认依据。"
    )
    service_fields = ("outcome", "legal_basis")


def _handler_queryset(case: Case):
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            caseworker__agency=case.agency,
            caseworker__role__in=[Role.HANDLER, Role.APPROVER],
        )
        .select_related("caseworker")
        .order_by("username")
    )


class HandlerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name() or obj.get_username()
        return f"{name}（{obj.caseworker.get_role_display()}）"


class StartProcessingForm(ActionForm):
    handler = HandlerChoiceField(
        label="承办人",
        queryset=get_user_model().objects.none(),
        required=False,
        help_text="留空则由您本人承办。",
    )
    service_fields = ("handler",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = _handler_queryset(self.case)
        self.fields["handler"].initial = self.case.handler_id


class AssignForm(StartProcessingForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].required = True
        self.fields["handler"].help_text = ""


class RequestSupplementForm(ActionForm):
    items = forms.CharField(
        label="补正事项",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text="《条例》第三十条：一次性告知需要补正的全部事项。",
    )
    period_days = forms.IntegerField(
        label="补正期限（工作日）",
        min_value=1,
        max_value=60,
        help_text="留空则使用本机关或系统的默认期限。",
        required=False,
    )
    service_fields = ("items", "period_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.fields["period_days"].initial = (
            self.case.agency.supplement_period_days or settings.DISCLOSURE["SUPPLEMENT_PERIOD_DAYS"]
        )


class AbandonNoSupplementForm(ActionForm):
    confirmation = (
        "申请人逾期未补正，视为放弃申请（《条例》第三十条）。本申请将以“逾期不补正”办结。"
    )


class StartConsultationForm(ActionForm):
    consultee = forms.CharField(label="征求意见对象", max_length=200)
    consultee_kind = forms.ChoiceField(
        label="对象类型",
        choices=ConsulteeKind.choices,
        initial=ConsulteeKind.THIRD_PARTY,
        help_text="第三方：《条例》第三十二条；其他机关：第三十四条。各 15 个工作日，期间不计入答复期限。",
    )
    service_fields = ("consultee", "consultee_kind")


class CloseConsultationForm(ActionForm):
    opinion = forms.CharField(
        label="对方意见",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="逾期未答复的，注明“逾期未提出意见”。",
    )
    service_fields = ("opinion",)


class ExtendForm(ActionForm):
    days = forms.IntegerField(
        label="延长工作日数",
        min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        initial=MAX_EXTENSION_DAYS,
        help_text="《条例》第三十三条第二款：经负责人同意，延长不超过 20 个工作日，并告知申请人。",
    )
    reason = forms.CharField(
        label="延期理由", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000
    )
    service_fields = ("days", "reason")


class SetLaterReplyDateForm(ActionForm):
    reply_by = _date_field("答复期限")
    reason = forms.CharField(
        label="理由",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="《条例》第三十五条：申请数量、频次明显超过合理范围的，确定延迟答复的合理期限并告知申请人。",
    )
    service_fields = ("reply_by", "reason")


class IssueFeeNoticeForm(ActionForm):
    amount_yuan = forms.DecimalField(
        label="金额（元）", min_value=0.01, max_value=1000000, max_digits=12, decimal_places=2
    )
    method = forms.ChoiceField(
        label="计收方式",
        choices=[("", "—")] + list(FeeNotice.Method.choices),
        required=False,
        help_text="国办函〔2020〕109号：按件或按量计收，二者择一。",
    )
    service_fields = ("amount_yuan", "method")


class RecordFeePaymentForm(ActionForm):
    waived = forms.BooleanField(label="减免（未实际缴费）", required=False)
    service_fields = ("waived",)


class AbandonNoFeeForm(ActionForm):
    confirmation = "申请人逾期未缴纳信息处理费，不再处理其申请（《条例》第四十二条）。"


class SubmitForApprovalForm(ActionForm):
    outcome = forms.ChoiceField(label="拟答复结果", choices=_outcome_choices(REPLY_OUTCOMES))
    legal_basis = forms.CharField(
        label="法律依据", required=False, max_length=500, help_text="留空则使用该结果的默认依据。"
    )
    service_fields = ("outcome", "legal_basis")


class ApproveForm(ActionForm):
    comment = forms.CharField(
        label="审核意见",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )
    service_fields = ("comment",)


class ReasonForm(ActionForm):
    reason = forms.CharField(
        label="理由", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000
    )
    service_fields = ("reason",)


class SendBackForm(ReasonForm):
    pass


class ReopenForm(ReasonForm):
    confirmation = "复议或诉讼结果要求重新答复的，重新办理本申请，需重新答复。"


class WithdrawForm(ActionForm):
    reason = forms.CharField(
        label="撤回说明",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )
    service_fields = ("reason",)
    confirmation = "申请人撤回申请，本申请将以“申请人撤回”办结。"


class ServeReplyForm(ActionForm):
    """送达 and its proof (国办公开办函〔2016〕235号): the mode, the date it counts from, a posted
    reply's China Post number, and a scan of the receipt into the case's records."""

    service_method = forms.ChoiceField(label="送达方式", choices=DeliveryMode.choices)
    served_on = _date_field(
        "送达日期",
        initial=timezone.localdate,
        help_text="直接送达为申请人签收日，委托送达为受委托人签收日，邮寄为交邮日，"
        "电子送达为发送日；答复是否逾期按此日期计算。",
    )
    carrier = forms.ChoiceField(
        label="寄送单位",
        choices=list(CARRIERS.items()),
        initial=CHINA_POST,
        required=False,
        help_text="邮寄送达须通过中国邮政（EMS 或挂号信）交寄，其他快递公司不予登记。",
    )
    tracking_number = forms.CharField(
        label="邮件号",
        required=False,
        max_length=40,
        help_text="两个字母、九位数字加 CN（如 EA123456785CN），或以 1 开头的 13 位国内 EMS 单号。",
    )
    entrusted_to = forms.CharField(label="受委托签收人", required=False, max_length=100)
    receipt = forms.FileField(
        label="送达凭证扫描件",
        required=False,
        help_text="签收的送达回证、邮寄凭证（交寄单）或发送记录截图；存入本申请的文件，不对外公开。",
    )
    service_fields = (
        "served_on",
        "service_method",
        "carrier",
        "tracking_number",
        "entrusted_to",
        "receipt",
    )


class CloseForm(ActionForm):
    confirmation = "归档（《条例》第四十五条）：办结、结果和办结日期保持不变。"


class NoteForm(ActionForm):
    text = forms.CharField(
        label="备注",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=5000,
        help_text="内部备注，不向申请人展示。",
    )
    service_fields = ("text",)


class RecordSearchForm(ActionForm):
    searched_on = forms.DateField(
        label="检索日期", widget=admin_widgets.AdminDateWidget, initial=timezone.localdate
    )
    keywords = forms.CharField(
        label="检索关键词", max_length=500, help_text="如：文件名称、文号、主题词，多个用顿号分隔。"
    )
    sources = forms.CharField(
        label="检索的档案和系统",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="如：本机关文书档案室、OA 办公系统公文库、政府信息公开平台。",
    )
    units_asked = forms.CharField(
        label="询问的单位",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=2000,
        help_text="向哪些内设机构或其他机关询问过，及其答复。",
    )
    result = forms.CharField(
        label="检索结果",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="各处检索分别得到的结果，如：均未查找到相关文件。",
    )
    service_fields = ("searched_on", "keywords", "sources", "units_asked", "result")


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "confirm_receipt": ConfirmReceiptForm,
    "register": RegisterForm,
    "reply_on_spot": ReplyOnSpotForm,
    "start_processing": StartProcessingForm,
    "assign": AssignForm,
    "request_supplement": RequestSupplementForm,
    "receive_supplement": ReceiveSupplementForm,
    "abandon_no_supplement": AbandonNoSupplementForm,
    "start_consultation": StartConsultationForm,
    "close_consultation": CloseConsultationForm,
    "extend": ExtendForm,
    "set_later_reply_date": SetLaterReplyDateForm,
    "issue_fee_notice": IssueFeeNoticeForm,
    "record_fee_payment": RecordFeePaymentForm,
    "abandon_no_fee": AbandonNoFeeForm,
    "submit_for_approval": SubmitForApprovalForm,
    "approve": ApproveForm,
    "send_back": SendBackForm,
    "serve_reply": ServeReplyForm,
    "withdraw": WithdrawForm,
    "close": CloseForm,
    "reopen": ReopenForm,
    "note": NoteForm,
    "record_search": RecordSearchForm,
}


# --- counter work ---------------------------------------------------------------------------
COUNTER_CHANNEL_CHOICES = [(v, label) for v, label in Channel.choices if v != Channel.ONLINE]


class IntakeForm(forms.Form):
    """A paper, oral or in-person application entered by a registrar (Art 29, Art 31)."""

    agency = forms.ModelChoiceField(label="受理机关", queryset=Agency.objects.none())
    channel = forms.ChoiceField(
        label="申请渠道",
        choices=COUNTER_CHANNEL_CHOICES,
        initial=Channel.IN_PERSON,
        help_text="当面、口头和邮寄（签收）的申请当即登记；平常信函、电子邮件、传真须与申请人确认收到后登记。",
    )
    received_on = _date_field(
        "收到申请日期(R)",
        required=False,
        initial=timezone.localdate,
        help_text="《条例》第三十一条。留空为实际发生时间当日；平常信函等留空则待确认。",
    )
    effective_at = forms.SplitDateTimeField(
        label="递交时间",
        required=False,
        widget=admin_widgets.AdminSplitDateTime,
        help_text="补录以前收到的申请时填写；留空为当前时间。",
    )

    applicant_type = forms.ChoiceField(label="申请人类型", choices=ApplicantType.choices)
    applicant_name = forms.CharField(label="申请人姓名/名称", max_length=200)
    id_type = forms.ChoiceField(
        label="证件类型", choices=IdType.choices, initial=IdType.MAINLAND_ID
    )
    id_number = forms.CharField(label="证件号码", max_length=40)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)
    address = forms.CharField(label="通讯地址", max_length=300, required=False)
    postal_code = forms.CharField(label="邮政编码", max_length=6, required=False)
    legal_representative = forms.CharField(label="法定代表人", max_length=100, required=False)
    contact_person = forms.CharField(label="联系人", max_length=100, required=False)

    description = forms.CharField(
        label="所需信息内容描述",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
    document_number = forms.CharField(label="文件名称、文号", max_length=300, required=False)
    purpose = forms.CharField(label="用途（选填）", max_length=500, required=False)
    information_form = forms.ChoiceField(
        label="信息提供形式", choices=InformationForm.choices, initial=InformationForm.PAPER
    )
    delivery_method = forms.ChoiceField(
        label="获取信息方式", choices=DeliveryMethod.choices, initial=DeliveryMethod.COLLECT
    )

    applicant_fields = (
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
    )
    request_fields = (
        "description",
        "document_number",
        "purpose",
        "information_form",
        "delivery_method",
    )
    sections = (
        ("收件", ("agency", "channel", "received_on", "effective_at")),
        ("申请人（《条例》第二十九条）", applicant_fields),
        ("申请公开的信息", request_fields),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].pk

    def clean_effective_at(self):
        value = self.cleaned_data.get("effective_at")
        if value and value > timezone.now():
            raise forms.ValidationError("递交时间不能晚于现在。")
        return value

    def clean(self):
        data = super().clean()
        # The applicant and delivery rules are the intake service's (the staff and public APIs
        # ask it too): its refusal goes on each field it names.
        names = [n for n in self.applicant_fields + self.request_fields if n in data]
        try:
            data.update(application_fields_check({name: data[name] for name in names}))
        except InvalidInput as exc:
            for name, errors in exc.fields.items():
                if name in self.errors:
                    continue  # its own error (a malformed e-mail address…) says more
                for message in errors:
                    self.add_error(name if name in self.fields else None, message)
        received_on = data.get("received_on")
        effective_at = data.get("effective_at")
        if received_on and received_on > timezone.localdate():
            self.add_error("received_on", "收到日期不能晚于今天。")
        if received_on and effective_at and received_on < timezone.localtime(effective_at).date():
            self.add_error("received_on", "收到日期不能早于递交时间。")
        return data

    def case_fields(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.applicant_fields + self.request_fields
        }
