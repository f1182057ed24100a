"""The case page's 复议与诉讼, 投诉举报, 信息处理费 and 文书 buttons.

They work exactly like the case's own actions (``cases.CaseAdmin.action_view``): a button
opens a small form, the form posts to ``/admin/requests_app/case/<id>/act/<action>/[<target>/]``
and the view calls one service (``services.proceedings``, ``services.fees``,
``services.letters``) with the version of the case the page showed. Who may press a button
comes from the same table as the services (``permissions.can_act`` with
``LINKED_ACTION_ROLES`` / ``ACTION_ROLES``; for complaints ``services.proceedings
.may_receive_complaints`` and ``supervises``); a forged POST by anyone else is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from requests_app.choices import AgencyKind
from requests_app.fees import BY_COUNT, BY_PAGES
from requests_app.legal_selectors import (
    complaint_list,
    fee_notice_list,
    lawsuit_list,
    letter_list,
    review_list,
)
from requests_app.models import (
    REPLY_KINDS,
    Agency,
    Case,
    CaseEvent,
    ComplaintKind,
    EventKind,
    JudgmentKind,
    Lawsuit,
    LetterKind,
    Review,
    ReviewDecision,
)
from requests_app.permissions import can_act, caseworker_of
from requests_app.services import applicant as applicant_services
from requests_app.services import fees as fee_services
from requests_app.services import letters as letter_services
from requests_app.services import proceedings as proceeding_services

from .forms import ActionForm, _date_field, choose_one

YES, NO = "yes", "no"


# --- forms -------------------------------------------------------------------------------------
class LegalForm(ActionForm):
    """An action on a case's linked record. The record's own date (filed, accepted, decided…)
    dates the history event, so only the forms that have no date keep 实际发生时间."""

    back_dating = False

    def __init__(self, *args, case: Case | None, user, target=None, **kwargs):
        self.target = target
        if case is None:
            # On the record's own page (a complaint about an agency, with or without a case):
            # no case version to compare, so ``ActionForm``'s guard is left out.
            self.case, self.user = None, user
            super(ActionForm, self).__init__(*args, **kwargs)
            del self.fields["expected_version"]
            self.order_fields([name for name in self.fields if name != "effective_at"])
        else:
            super().__init__(*args, case=case, user=user, **kwargs)
        if not self.back_dating:
            del self.fields["effective_at"]

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        return {name: value for name, value in kwargs.items() if value is not None}


def _text(label: str, *, rows: int = 3, required: bool = True, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
        max_length=kwargs.pop("max_length", 2000),
        **kwargs,
    )


def _today_field(label: str, **kwargs) -> forms.DateField:
    return _date_field(label, initial=timezone.localdate, **kwargs)


class ReviewFileForm(LegalForm):
    filed_on = _today_field(
        "申请复议日期",
        help_text="适用申请之日施行的《行政复议法》（2024年1月1日起为2023年修订本）。",
    )
    review_body = forms.CharField(label="复议机关", max_length=200, required=False)
    applicant = forms.CharField(label="复议申请人", max_length=200, required=False)
    service_fields = ("filed_on", "review_body", "applicant")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["review_body"].initial = self.case.agency.review_body
        self.fields["review_body"].help_text = "留空为本机关的复议机关。"
        self.fields["applicant"].initial = self.case.applicant_name


class ReviewAcceptForm(LegalForm):
    accepted_on = _today_field("受理日期")
    copy_received_on = _date_field(
        "收到申请书副本日期",
        required=False,
        help_text="自收到之日起10日内提交书面答复（2023年修订本按工作日计；简易程序5日）。",
    )
    simplified = forms.BooleanField(
        label="适用简易程序", required=False, help_text="2023年修订本第五十三条；决定期限30日。"
    )
    service_fields = ("accepted_on", "copy_received_on", "simplified")


class ReviewAnswerForm(LegalForm):
    answered_on = _today_field("提交答复日期")
    service_fields = ("answered_on",)


class ReviewExtendForm(LegalForm):
    back_dating = True
    reason = _text("延期理由", help_text="情况复杂的，经复议机关负责人批准，可延长不超过30日。")
    service_fields = ("reason",)
    confirmation = "决定期限延长30日，只能延长一次；简易程序不得延长。"


def _reopen_choices(user, case: Case) -> list[tuple[str, str]]:
    if can_act(user, "reopen", case):
        return [
            ("", "按决定类型（撤销、责令履行的重新答复）"),
            (YES, "责令重新答复，重新办理本申请"),
            (NO, "不重新答复"),
        ]
    return [(NO, "不重新答复（重新办理须由审核人录入）")]


def _tristate(value: str) -> bool | None:
    return {YES: True, NO: False}.get(value)


class ReviewDecideForm(LegalForm):
    decided_on = _today_field("决定日期")
    decision = forms.ChoiceField(label="复议决定", choices=choose_one(ReviewDecision.choices))
    orders_new_reply = forms.ChoiceField(label="重新答复", required=False, choices=())
    note = _text("说明", required=False, help_text="写入办理记录；重新办理时附在理由之后。")
    service_fields = ("decided_on", "decision", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orders_new_reply"].choices = _reopen_choices(self.user, self.case)

    def clean_orders_new_reply(self):
        # Without the right to reopen (the office head's), the decision is recorded as is.
        if not can_act(self.user, "reopen", self.case):
            return NO
        return self.cleaned_data.get("orders_new_reply")

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs["orders_new_reply"] = _tristate(self.cleaned_data.get("orders_new_reply"))
        return kwargs


class LawsuitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        judgment = obj.get_judgment_display() if obj.judgment else "未裁判"
        return f"{obj.court or '人民法院'} {obj.filed_on} 第{obj.instance}审（{judgment}）"


class ReviewChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.review_body or '行政复议机关'} {obj.filed_on}（{obj.get_result_display()}）"


class LawsuitFileForm(LegalForm):
    filed_on = _today_field("立案日期")
    court = forms.CharField(label="法院", max_length=200, required=False)
    plaintiff = forms.CharField(label="原告", max_length=200, required=False)
    instance = forms.TypedChoiceField(
        label="审级", coerce=int, choices=[(1, "一审"), (2, "二审（上诉）")], initial=1
    )
    appeal_of = LawsuitChoiceField(
        label="上诉的原审裁判", queryset=Lawsuit.objects.none(), required=False
    )
    after_review = forms.ChoiceField(
        label="是否经复议",
        required=False,
        choices=[("", "按所选复议确定"), (YES, "经行政复议后起诉"), (NO, "直接起诉")],
    )
    review = ReviewChoiceField(
        label="前置的行政复议", queryset=Review.objects.none(), required=False
    )
    simple_procedure = forms.BooleanField(label="简易程序", required=False)
    review_body_co_defendant = forms.BooleanField(label="复议机关为共同被告", required=False)
    copy_received_on = _date_field(
        "收到起诉状副本日期", required=False, help_text="自收到之日起15日内提交答辩状和证据。"
    )
    service_fields = (
        "filed_on",
        "court",
        "plaintiff",
        "appeal_of",
        "review",
        "simple_procedure",
        "review_body_co_defendant",
        "copy_received_on",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["court"].initial = self.case.agency.court
        self.fields["court"].help_text = "留空为本机关所在地的管辖法院。"
        self.fields["plaintiff"].initial = self.case.applicant_name
        self.fields["appeal_of"].queryset = lawsuit_list(user=self.user, case=self.case).filter(
            decided_on__isnull=False, instance=1
        )
        self.fields["review"].queryset = review_list(user=self.user, case=self.case)

    def clean(self):
        data = super().clean()
        instance, appeal_of = data.get("instance"), data.get("appeal_of")
        if instance == 1 and appeal_of is not None:
            self.add_error("appeal_of", "一审不填上诉的原审裁判。")
        if instance == 2 and appeal_of is None:
            self.add_error("appeal_of", "二审须选择上诉的一审裁判。")
        return data

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        after = _tristate(self.cleaned_data.get("after_review"))
        if after is not None:
            kwargs["after_review"] = after
        return kwargs


class LawsuitDefendForm(LegalForm):
    submitted_on = _today_field("提交答辩举证日期")
    service_fields = ("submitted_on",)


class LawsuitDecideForm(LegalForm):
    decided_on = _today_field("裁判日期")
    judgment = forms.ChoiceField(label="裁判结果", choices=choose_one(JudgmentKind.choices))
    orders_new_reply = forms.ChoiceField(label="重新答复", required=False, choices=())
    note = _text("说明", required=False)
    service_fields = ("decided_on", "judgment", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _reopen_choices(self.user, self.case)
        # A judgment may still be appealed: the office says when it is final (no default).
        self.fields["orders_new_reply"].choices = [(v, label) for v, label in choices if v]
        self.fields["orders_new_reply"].initial = NO
        self.fields["orders_new_reply"].help_text = "裁判生效且判令重新答复的，重新办理本申请。"

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs["orders_new_reply"] = self.cleaned_data.get("orders_new_reply") == YES
        return kwargs


def complaint_offices(user, agency: Agency) -> list[Agency]:
    """The offices ``user`` may record complaints for that supervise ``agency`` (Arts 47,
    51): its ancestors and the governments' offices (政府信息公开工作主管部门) under them."""
    ancestors = [p for p in agency.ancestors_and_self_paths() if p != agency.path]
    candidates = Agency.objects.filter(path__in=ancestors) | Agency.objects.filter(
        kind=AgencyKind.OFFICE, parent__path__in=ancestors
    )
    worker = caseworker_of(user)
    if not user.is_superuser and worker is None:
        return []
    return [
        office
        for office in candidates.select_related("parent").order_by("path").distinct()
        if proceeding_services.supervises(office, agency)
        and proceeding_services.may_receive_complaints(user, office)
    ]


class ComplaintReceiveForm(LegalForm):
    received_by = forms.ModelChoiceField(label="受理机关", queryset=Agency.objects.none())
    kind = forms.ChoiceField(label="类型", choices=ComplaintKind.choices)
    filed_on = _today_field("收到日期")
    complainant = forms.CharField(label="投诉人/举报人", max_length=200, required=False)
    summary = _text("投诉举报内容", rows=4, max_length=5000)
    service_fields = ("received_by", "kind", "filed_on", "complainant", "summary")
    confirmation = (
        "《条例》第四十七条、第五十一条：由上一级行政机关或政府信息公开工作主管部门受理。"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offices = self.receiving_offices()
        self.fields["received_by"].queryset = Agency.objects.filter(pk__in=[o.pk for o in offices])
        if len(offices) == 1:
            self.fields["received_by"].initial = offices[0].pk

    def receiving_offices(self) -> list[Agency]:
        return complaint_offices(self.user, self.case.agency)


class ComplaintHandleForm(LegalForm):
    handled_on = _today_field("处理日期")
    result = _text("处理结果", rows=4, max_length=5000, help_text="如：督促整改、通报批评等。")
    is_substantiated = forms.NullBooleanField(
        label="投诉是否属实",
        required=False,
        widget=forms.Select(choices=[("unknown", "未认定"), ("true", "属实"), ("false", "不属实")]),
    )
    service_fields = ("handled_on", "result")

    def service_kwargs(self) -> dict:
        kwargs = super().service_kwargs()
        kwargs["is_substantiated"] = self.cleaned_data.get("is_substantiated")
        return kwargs


class FeeForm(LegalForm):
    method = forms.ChoiceField(
        label="计收方式",
        choices=[(BY_COUNT, "按件计收"), (BY_PAGES, "按量计收")],
        help_text="国办函〔2020〕109号：由机关选择按件或按量计收，二者择一。",
    )
    pages = forms.IntegerField(
        label="页数",
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text="按量计收时填写（同一申请提供的信息页数）。",
    )
    service_fields = ("method", "pages")
    compute_button = "计算"

    def clean(self):
        data = super().clean()
        if data.get("method") == BY_PAGES and not data.get("pages"):
            self.add_error("pages", "按量计收须填写页数。")
        if data.get("method") == BY_COUNT:
            data["pages"] = None
        return data


class FeeWaiveForm(LegalForm):
    back_dating = True
    reason = _text("减免理由", help_text="《政府信息公开信息处理费管理办法》第六条。")
    service_fields = ("reason",)
    confirmation = "减免后答复期限恢复计算，该笔费用不计入收费金额。"


REPLY_CHOICE = (letter_services.REPLY, "答复书（按答复结果）")


class LetterDraftForm(LegalForm):
    kind = forms.ChoiceField(label="文书类型", choices=[REPLY_CHOICE, *LetterKind.choices])
    service_fields = ("kind",)
    confirmation = "按本机关的文书模板和本申请的事实生成 PDF 和 DOCX，并编文号。"


class LetterServeForm(LegalForm):
    back_dating = True
    served_on = _today_field(
        "送达日期", help_text="直接送达以签收日、邮寄以交邮日、网上或电子邮件以发送日为准。"
    )
    method = forms.ChoiceField(
        label="送达方式", choices=list(letter_services.SERVICE_METHODS.items())
    )
    tracking_number = forms.CharField(
        label="邮件号",
        required=False,
        max_length=40,
        help_text="邮寄送达答复书须经中国邮政（EMS 或挂号信），填写邮件号。",
    )
    entrusted_to = forms.CharField(label="受委托签收人", required=False, max_length=100)
    service_fields = ("served_on", "method", "tracking_number", "entrusted_to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.target is not None and self.target.kind in REPLY_KINDS:
            self.confirmation = "送达答复书即送达答复，本申请据此办结（答复须已审核通过）。"


class QuestionAnswerForm(LegalForm):
    text = _text("答复内容", rows=5, max_length=applicant_services.ANSWER_MAX_CHARS)
    service_fields = ("text",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.target is not None:
            self.confirmation = f"申请人留言：{self.target.reason}"


# --- the actions ---------------------------------------------------------------------------------
def _transition_available(case: Case, user, transition: str) -> bool:
    return transition in {t.name for t in case.get_available_user_state_transitions(user)}


@dataclass(frozen=True)
class LegalAction:
    name: str
    label: str
    form: type[LegalForm]
    # None: the case itself; else the kind of linked record in the URL.
    target: str | None
    # May the user press it at all? (role, agency). False → no button; a POST is a 403.
    allowed: Callable[[object, Case, object], bool]
    # Does it apply now? (the record's own state). False → no button.
    applies: Callable[[object, Case, object], bool]
    # Calls the service: (case, target, form, actor, expected_version) → result.
    run: Callable
    section: str = ""


def _role(key: str):
    return lambda user, case, target: can_act(user, key, case)


def _always(user, case, target) -> bool:
    return True


def _review_run(service):
    def run(case, review, form, actor, expected_version):
        return service(
            review=review, actor=actor, expected_version=expected_version, **form.service_kwargs()
        )

    return run


def _lawsuit_run(service):
    def run(case, lawsuit, form, actor, expected_version):
        return service(
            lawsuit=lawsuit, actor=actor, expected_version=expected_version, **form.service_kwargs()
        )

    return run


def _case_run(service):
    def run(case, target, form, actor, expected_version):
        return service(
            case=case, actor=actor, expected_version=expected_version, **form.service_kwargs()
        )

    return run


def _complaint_receive(case, target, form, actor, expected_version):
    return proceeding_services.complaint_receive(
        actor=actor,
        agency=case.agency,
        case=case,
        expected_version=expected_version,
        **form.service_kwargs(),
    )


def _complaint_handle(case, complaint, form, actor, expected_version):
    return proceeding_services.complaint_handle(
        complaint=complaint,
        actor=actor,
        expected_version=expected_version,
        **form.service_kwargs(),
    )


def _letter_serve(case, letter, form, actor, expected_version):
    return letter_services.letter_serve(
        letter=letter, actor=actor, expected_version=expected_version, **form.service_kwargs()
    )


def _fee_issue(case, target, form, actor, expected_version):
    _case, computation = fee_services.fee_issue_for_case(
        case=case, actor=actor, expected_version=expected_version, **form.service_kwargs()
    )
    return computation


def _question_answer(case, question, form, actor, expected_version):
    return applicant_services.case_question_answer(
        case=case,
        actor=actor,
        question_id=question.pk,
        expected_version=expected_version,
        **form.service_kwargs(),
    )


def _question_open(user, case, question) -> bool:
    return question.pk in {q.pk for q in applicant_services.questions_unanswered(case)}


LEGAL_ACTIONS: dict[str, LegalAction] = {
    action.name: action
    for action in (
        # 行政复议
        LegalAction(
            "review_file",
            "登记行政复议",
            ReviewFileForm,
            None,
            _role("review_filed"),
            _always,
            _case_run(proceeding_services.review_file),
            "review",
        ),
        LegalAction(
            "review_accept",
            "受理",
            ReviewAcceptForm,
            "review",
            _role("review_accepted"),
            lambda u, c, r: r.accepted_on is None and r.decided_on is None,
            _review_run(proceeding_services.review_accept),
        ),
        LegalAction(
            "review_answer",
            "提交答复",
            ReviewAnswerForm,
            "review",
            _role("review_answered"),
            lambda u, c, r: r.answered_on is None and r.decided_on is None,
            _review_run(proceeding_services.review_answer),
        ),
        LegalAction(
            "review_extend",
            "延长审理期限",
            ReviewExtendForm,
            "review",
            _role("review_extended"),
            lambda u, c, r: (
                r.accepted_on is not None
                and not r.simplified
                and not r.decision_extended
                and r.decided_on is None
            ),
            _review_run(proceeding_services.review_extend),
        ),
        LegalAction(
            "review_decide",
            "录入复议决定",
            ReviewDecideForm,
            "review",
            _role("review_decided"),
            lambda u, c, r: r.decided_on is None,
            _review_run(proceeding_services.review_decide),
        ),
        # 行政诉讼
        LegalAction(
            "lawsuit_file",
            "登记行政诉讼",
            LawsuitFileForm,
            None,
            _role("lawsuit_filed"),
            _always,
            _case_run(proceeding_services.lawsuit_file),
            "lawsuit",
        ),
        LegalAction(
            "lawsuit_defend",
            "提交答辩/举证",
            LawsuitDefendForm,
            "lawsuit",
            _role("lawsuit_defended"),
            lambda u, c, s: s.defense_submitted_on is None and s.decided_on is None,
            _lawsuit_run(proceeding_services.lawsuit_defend),
        ),
        LegalAction(
            "lawsuit_decide",
            "录入裁判",
            LawsuitDecideForm,
            "lawsuit",
            _role("lawsuit_decided"),
            lambda u, c, s: s.decided_on is None,
            _lawsuit_run(proceeding_services.lawsuit_decide),
        ),
        # 投诉举报
        LegalAction(
            "complaint_receive",
            "登记投诉举报",
            ComplaintReceiveForm,
            None,
            lambda u, c, t: bool(complaint_offices(u, c.agency)),
            _always,
            _complaint_receive,
            "complaint",
        ),
        LegalAction(
            "complaint_handle",
            "处理投诉举报",
            ComplaintHandleForm,
            "complaint",
            lambda u, c, complaint: proceeding_services.may_handle_complaint(u, complaint),
            lambda u, c, t: t.handled_on is None,
            _complaint_handle,
        ),
        # 信息处理费
        LegalAction(
            "fee_issue",
            "计算信息处理费",
            FeeForm,
            None,
            _role("issue_fee_notice"),
            lambda u, c, t: _transition_available(c, u, "issue_fee_notice"),
            _fee_issue,
            "fee",
        ),
        LegalAction(
            "fee_waive",
            "减免信息处理费",
            FeeWaiveForm,
            None,
            _role("record_fee_payment"),
            lambda u, c, t: _transition_available(c, u, "record_fee_payment"),
            _case_run(fee_services.fee_waive),
            "fee",
        ),
        # 文书
        LegalAction(
            "letter_draft",
            "起草文书",
            LetterDraftForm,
            None,
            _role("letter_issued"),
            _always,
            _case_run(letter_services.letter_draft),
            "letter",
        ),
        LegalAction(
            "letter_serve",
            "送达文书",
            LetterServeForm,
            "letter",
            lambda u, c, letter: letter_services.may_serve_letter(u, letter),
            lambda u, c, t: t.served_on is None,
            _letter_serve,
        ),
        # 申请人留言 (the applicant's pages)
        LegalAction(
            "question_answer",
            "答复留言",
            QuestionAnswerForm,
            "question",
            _role("question_answered"),
            _question_open,
            _question_answer,
        ),
    )
}


def legal_target(action: LegalAction, user, case: Case, target_id):
    """The linked record named in the URL, among those of ``case`` the user may see. Raises
    Http404 when it is not there, or when the URL names a record the action does not take."""
    if (action.target is None) != (target_id is None):
        raise Http404("没有这个操作。")
    if action.target is None:
        return None
    if target_id >= 2**63:
        raise Http404("未找到该记录。")
    lists = {
        "review": lambda: review_list(user=user, case=case),
        "lawsuit": lambda: lawsuit_list(user=user, case=case),
        "letter": lambda: letter_list(user=user, case=case),
        "complaint": lambda: complaint_list(user=user).filter(case=case),
        "question": lambda: CaseEvent.objects.filter(case=case, kind=EventKind.QUESTION_ASKED),
    }
    found = lists[action.target]().filter(pk=target_id).first()
    if found is None:
        raise Http404("未找到该记录。")
    return found


def offered(action: LegalAction, user, case: Case, target=None) -> bool:
    return action.allowed(user, case, target) and action.applies(user, case, target)


# --- the case page's panels ------------------------------------------------------------------
LETTER_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
REVIEW_STEPS = ("review_accept", "review_answer", "review_extend", "review_decide")
LAWSUIT_STEPS = ("lawsuit_defend", "lawsuit_decide")


def action_url(case: Case, name: str, target=None) -> str:
    if target is None:
        return reverse("admin:requests_app_case_act", args=[case.pk, name])
    return reverse("admin:requests_app_case_act_on", args=[case.pk, name, target.pk])


def legal_panels(case: Case, user) -> dict:
    """What the 复议与诉讼, 投诉举报, 信息处理费 and 文书 panels show: the case's records the
    user may see, each with exactly the buttons this user may press on it now."""

    def buttons(names, target=None) -> list[dict]:
        found = []
        for name in names:
            action = LEGAL_ACTIONS[name]
            if offered(action, user, case, target):
                found.append(
                    {"name": name, "label": action.label, "url": action_url(case, name, target)}
                )
        return found

    def rows(records, steps) -> list[dict]:
        return [{"record": record, "buttons": buttons(steps, record)} for record in records]

    letters = letter_list(user=user, case=case).select_related("drafted_by", "served_by")
    return {
        "reviews": rows(review_list(user=user, case=case).order_by("filed_on", "pk"), REVIEW_STEPS),
        "lawsuits": rows(
            lawsuit_list(user=user, case=case).order_by("filed_on", "pk"), LAWSUIT_STEPS
        ),
        "proceeding_buttons": buttons(("review_file", "lawsuit_file")),
        "complaints": rows(
            complaint_list(user=user).filter(case=case).order_by("filed_on", "pk"),
            ("complaint_handle",),
        ),
        "complaint_buttons": buttons(("complaint_receive",)),
        "fee_notices": list(fee_notice_list(user=user, case=case).order_by("issued_on", "pk")),
        "fee_buttons": buttons(("fee_issue", "fee_waive")),
        "letters": [
            {
                "record": letter,
                "buttons": buttons(("letter_serve",), letter),
                "files": [
                    (
                        fmt.upper(),
                        reverse(
                            "admin:requests_app_case_letter_file", args=[case.pk, letter.pk, fmt]
                        ),
                    )
                    for fmt in LETTER_CONTENT_TYPES
                    if getattr(letter, fmt)
                ],
            }
            for letter in letters.order_by("drafted_at", "pk")
        ],
        "letter_buttons": buttons(("letter_draft",)),
        "questions": _question_rows(case, buttons),
    }


def _question_rows(case: Case, buttons) -> list[dict]:
    """The applicant's messages, each with the office's answer or the button to answer."""
    events = list(
        CaseEvent.objects.filter(
            case=case, kind__in=[EventKind.QUESTION_ASKED, EventKind.QUESTION_ANSWERED]
        ).order_by("effective_at", "pk")
    )
    answers = {
        e.data.get("question_id"): e for e in events if e.kind == EventKind.QUESTION_ANSWERED
    }
    return [
        {"record": e, "answer": answers.get(e.pk), "buttons": buttons(("question_answer",), e)}
        for e in events
        if e.kind == EventKind.QUESTION_ASKED
    ]
