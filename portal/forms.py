"""The applicant's forms. They render and carry what was typed; the rules are the public API's.

``ApplicationForm`` checks an application with the API's own serializer
(``ApplicantFieldsInputSerializer``: the required fields, the lengths, the choices, the ID
number's and the phone's checks, e-mail delivery needing an address) and puts each of its
messages on the field it names, so the page and the API refuse the same input with the same
words. The form's own fields are derived from that serializer's, so the page's ``required``
and ``maxlength`` are the API's too.
"""

from __future__ import annotations

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from rest_framework import serializers

from requests_app import validation
from requests_app.api.serializers import (
    ApplicantFieldsInputSerializer,
    ApplicationCreateInputSerializer,
)
from requests_app.choices import ApplicantType
from requests_app.services.applicant import QUESTION_MAX_CHARS, SUPPLEMENT_MAX_CHARS
from requests_app.services.attachments import attachment_check
from requests_app.services.errors import InvalidInput

# Labels and hints as an applicant reads them (the serializer's names are the API's).
LABELS = {
    "applicant_type": ("申请人类型", ""),
    "applicant_name": ("姓名或名称", "自然人填写姓名；法人或其他组织填写全称。"),
    "id_type": ("身份证件类型", "法人或其他组织选择“统一社会信用代码”。"),
    "id_number": ("证件号码", ""),
    "legal_representative": ("法定代表人或负责人", "法人或其他组织填写。"),
    "contact_person": ("联系人", "法人或其他组织填写。"),
    "phone": ("联系电话", "手机号 11 位，或“区号-座机号”。"),
    "email": ("电子邮箱", "选择以电子邮件获取信息时必填。"),
    "address": ("通信地址", ""),
    "postal_code": ("邮政编码", ""),
    "description": (
        "所需政府信息的名称或内容描述",
        "尽量写明信息的名称、发布机关、时间范围等，便于准确检索。",
    ),
    "document_number": ("文号", "如知道，请填写，例如“安府办发〔2023〕12号”。"),
    "purpose": ("用途", "选填。"),
    "information_form": ("信息提供形式", ""),
    "delivery_method": ("获取信息方式", ""),
}
ORGANISATION_TYPES = [t for t in ApplicantType if t != ApplicantType.NATURAL_PERSON]
_FILE_TYPES = "application/pdf,image/jpeg,image/png"
# The typed document title and 文号 are stored together in the case's one field.
DOCUMENT_TITLE_MAX = 150


def _form_field(name: str, field: serializers.Field) -> forms.Field:
    label, help_text = LABELS[name]
    common = {"label": label, "help_text": help_text, "required": field.required}
    if isinstance(field, serializers.ChoiceField):
        choices = list(field.choices.items())
        if name == "applicant_type":
            # The report's six columns: a person, or one of the five kinds of organisation.
            choices = [
                (ApplicantType.NATURAL_PERSON.value, "自然人"),
                (
                    "法人或其他组织",
                    [(t.value, str(t.label)) for t in ORGANISATION_TYPES],
                ),
            ]
        return forms.ChoiceField(choices=[("", "请选择")] + choices, **common)
    widget = None
    if name in ("description",):
        widget = forms.Textarea(attrs={"rows": 6})
    elif name == "email":
        widget = forms.EmailInput(attrs={"autocomplete": "email"})
    elif name == "phone":
        widget = forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    elif name == "postal_code":
        widget = forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"})
    return forms.CharField(
        max_length=getattr(field, "max_length", None), widget=widget, strip=True, **common
    )


def _application_fields() -> dict[str, forms.Field]:
    """The form's fields, derived once from the API serializer's (Django copies them for
    each form; deriving them per request cost more than the submission's own work)."""
    serializer_fields = ApplicantFieldsInputSerializer().fields
    fields: dict[str, forms.Field] = {}
    for name in LABELS:
        fields[name] = _form_field(name, serializer_fields[name])
        if name == "description":
            fields["document_title"] = forms.CharField(
                label="文件名称",
                help_text="如知道所需文件的名称，请填写。",
                max_length=DOCUMENT_TITLE_MAX,
                required=False,
            )
    fields["sms_opt_in"] = forms.BooleanField(
        label="通过短信接收办理进度通知（发送到上面的手机号）", required=False
    )
    return fields


class ApplicationForm(forms.Form):
    """The Art 29 application: who, what, in which form and way. With ``agency`` (the page's
    agency), it is checked by the API's own submission serializer, agency included."""

    def __init__(self, *args, with_captcha: bool = False, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        if with_captcha:
            self.fields["captcha"] = CaptchaField(
                label="验证码",
                help_text="请输入图片中的字符（不区分大小写）。",
                widget=PortalCaptchaInput,
                error_messages={"invalid": "验证码不正确，请重新输入。"},
            )

    GROUPS = (
        (
            "申请人",
            ("applicant_type", "applicant_name", "id_type", "id_number")
            + ("legal_representative", "contact_person"),
        ),
        ("联系方式", ("phone", "email", "address", "postal_code", "sms_opt_in")),
        ("所需政府信息", ("description", "document_title", "document_number", "purpose")),
        ("获取信息的方式", ("information_form", "delivery_method")),
    )

    def groups(self) -> list[tuple[str, list]]:
        """The fields in the fieldsets the page shows, in order."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def application_data(self) -> dict:
        """What goes to the serializer: the typed fields, the title and 文号 as one."""
        data = {name: self.cleaned_data.get(name, "") for name in LABELS}
        title = self.cleaned_data.get("document_title", "")
        number = data.get("document_number", "")
        data["document_number"] = "，".join(part for part in (title, number) if part)
        return data

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.agency is not None:
            serializer = ApplicationCreateInputSerializer(
                data={**self.application_data(), "agency": self.agency.code}
            )
        else:
            serializer = ApplicantFieldsInputSerializer(data=self.application_data())
        if not serializer.is_valid():
            self.add_serializer_errors(serializer.errors)
        elif cleaned.get("sms_opt_in") and not validation.is_mobile_number(cleaned["phone"]):
            self.add_error("sms_opt_in", "短信通知需要填写 11 位手机号码。")
        else:
            self.validated = {**serializer.applicant_fields(), "sms_opt_in": cleaned["sms_opt_in"]}
        return cleaned

    def add_serializer_errors(self, errors: dict) -> None:
        """Put each message on the field it names (the combined 文号 on the title's field)."""
        for name, messages in errors.items():
            target = name if name in self.fields else None
            if name == "document_number" and cleaned_title(self):
                target = "document_title"
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, str(message))


ApplicationForm.base_fields = _application_fields()


def cleaned_title(form: ApplicationForm) -> str:
    return (getattr(form, "cleaned_data", None) or {}).get("document_title", "")


class PortalCaptchaInput(CaptchaTextInput):
    """django-simple-captcha's widget with a Chinese alternative text and no English."""

    template_name = "portal/captcha.html"


class TrackForm(forms.Form):
    """The tracking number and the access code, checked with the API's own rule."""

    tracking_number = forms.CharField(
        label="申请编号", max_length=32, help_text="例如 GK20240301ABCDEF"
    )
    access_code = forms.CharField(
        label="查询码", max_length=64, help_text="提交申请时显示的 10 位查询码"
    )

    def __init__(self, *args, with_captcha: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tracking_number"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )
        self.fields["access_code"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )
        if with_captcha:
            self.fields["captcha"] = CaptchaField(
                label="验证码",
                help_text="查询码输错后须填写。请输入图片中的字符。",
                widget=PortalCaptchaInput,
                error_messages={"invalid": "验证码不正确，请重新输入。"},
            )

    def clean(self):
        from requests_app.api.serializers import ApplicationTrackInputSerializer

        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = ApplicationTrackInputSerializer(
            data={k: cleaned[k] for k in ("tracking_number", "access_code")}
        )
        if not serializer.is_valid():
            for name in serializer.errors:
                self.add_error(name if name in self.fields else None, "只能包含字母和数字。")
        return cleaned


class SupplementForm(forms.Form):
    text = forms.CharField(
        label="补正内容",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=SUPPLEMENT_MAX_CHARS,
        help_text="请逐项说明需要补正的内容。",
    )
    file = forms.FileField(
        label="补正材料（选填）",
        required=False,
        widget=forms.FileInput(attrs={"accept": _FILE_TYPES}),
        error_messages={"empty": "文件为空。"},
        help_text="PDF、JPG 或 PNG，不超过 5 MB。",
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                attachment_check(upload, field="file")
            except InvalidInput as exc:
                raise forms.ValidationError(exc.message) from exc
        return upload


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="撤回理由（选填）",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=QUESTION_MAX_CHARS,
        required=False,
    )
    confirm = forms.BooleanField(
        label="我确认撤回这份申请。撤回后本机关不再处理。",
        error_messages={"required": "请勾选确认后再撤回。"},
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="留言内容",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=QUESTION_MAX_CHARS,
        help_text="500 字以内。留言和本机关的答复显示在上方的办理记录中。",
    )


class AttachmentsForm(forms.Form):
    """The identity document and an agent's 授权委托书, checked by the service's rule (type by
    content, size) before anything is stored."""

    id_document = forms.FileField(
        label="身份证明（选填）",
        required=False,
        widget=forms.FileInput(attrs={"accept": _FILE_TYPES}),
        error_messages={"empty": "文件为空。"},
        help_text="身份证件或营业执照的照片或扫描件：PDF、JPG 或 PNG，不超过 5 MB。",
    )
    authorization = forms.FileField(
        label="授权委托书（代理人申请时上传）",
        required=False,
        widget=forms.FileInput(attrs={"accept": _FILE_TYPES}),
        error_messages={"empty": "文件为空。"},
        help_text="委托他人代为申请的，上传申请人签名或盖章的授权委托书。",
    )

    def _checked(self, name: str):
        upload = self.cleaned_data.get(name)
        if upload:
            try:
                attachment_check(upload, field=name)
            except InvalidInput as exc:
                raise forms.ValidationError(exc.message) from exc
        return upload

    def clean_id_document(self):
        return self._checked("id_document")

    def clean_authorization(self):
        return self._checked("authorization")

    def uploads(self) -> list[tuple[str, object]]:
        return [
            (name, self.cleaned_data[name])
            for name in ("id_document", "authorization")
            if self.cleaned_data.get(name)
        ]
