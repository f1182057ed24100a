"""The applicants' pages: the agencies and their guides, apply, follow, answer 补正, withdraw,
ask, download. Server-rendered; no script.

Everything they change goes through ``requests_app``'s services, exactly as the public API
does, under the API's own throttles (``requests_app.api.throttling``): listing agencies counts
against ``agencies``, a submission against ``submission``, every tracking page against
``tracking`` and each wrong access code against ``tracking_failure``. The tracking number and
the access code travel only in POST bodies; a correct pair opens a short session holding the
case's id (never the code), so no URL carries either.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import time

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.forms import (
    ApplicationForm,
    AttachmentsForm,
    QuestionForm,
    SupplementForm,
    TrackForm,
    WithdrawForm,
)
from requests_app.api.common import body_fingerprint
from requests_app.api.errors import wait_in_words
from requests_app.api.public import (
    ApplicationTrackView,
    application_status,
    submission_answer,
)
from requests_app.api.records import release_file_response
from requests_app.api.throttling import (
    AgencyListThrottle,
    FailureThrottle,
    SubmissionThrottle,
    TrackingEnumerationThrottle,
    TrackingThrottle,
)
from requests_app.calendars import calendar_for_agency
from requests_app.choices import OPEN_STATES, CaseState, Outcome
from requests_app.fees import fee_rules_text
from requests_app.letters.facts import case_remedies, cn_date
from requests_app.letters.render import render_pdf
from requests_app.models import Agency, AttachmentKind, Case, CaseEvent, EventKind, Letter
from requests_app.review import release_approved
from requests_app.selectors import (
    agency_by_code,
    case_get_for_applicant,
    case_get_public,
    published_search,
    published_similar,
)
from requests_app.services.applicant import (
    OPEN_QUESTIONS_MAX,
    applicant_question_ask,
    applicant_supplement_answer,
    applicant_withdraw,
    questions_unanswered,
)
from requests_app.services.attachments import attachments_store
from requests_app.services.cases import APPLICANT_LABEL
from requests_app.services.errors import InvalidInput, ServiceError
from requests_app.services.intake import case_submit, idempotent
from requests_app.services.letters import submission_receipt_content
from requests_app.services.records import log_download
from requests_app.services.repeats import repeat_candidates
from requests_app.similarity import applicant_key

logger = logging.getLogger(__name__)

CASE_SESSION_KEY = "portal_case"
RECEIPT_SESSION_KEY = "portal_receipt"
SUBMISSION_SCOPE = "portal:application_submit"


class SubmissionCaptchaThrottle(FailureThrottle):
    """Counts a client IP's submissions through the page (rate ``submission_captcha``); past
    the rate the application page asks for a captcha. It refuses nothing itself."""

    scope = "submission_captcha"


# --- the API's throttles on pages ---------------------------------------------------------------
# The throttles read a page's request as they read an API request: the client IP from
# ``META`` (DRF's ``get_ident``), the tracking number a follow-up names from its form POST.
def _throttled(request, *classes) -> HttpResponse | None:
    """The API's throttles, applied to a page: a 429 page saying how long to wait, or None."""
    for cls in classes:
        throttle = cls()
        if not throttle.allow_request(request, None):
            wait = math.ceil(throttle.wait() or 60)
            response = render(
                request,
                "portal/throttled.html",
                {"wait": wait_in_words(wait)[0]},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    return None


def _record_failure(request, *classes) -> None:
    for cls in classes:
        cls().record_failure(request, None)


def _submission_needs_captcha(request) -> bool:
    """Past ``submission_captcha`` submissions from this IP within its window."""
    return not SubmissionCaptchaThrottle().allow_request(request, None)


def _tracking_needs_captcha(request) -> bool:
    """Any wrong tracking number or access code from this IP within the API's
    ``tracking_enumeration`` window."""
    return TrackingEnumerationThrottle().failures(request, None) > 0


def _session_case(request) -> Case | None:
    """The case the session was opened for, while the session lasts."""
    held = request.session.get(CASE_SESSION_KEY)
    if not held or held.get("until", 0) < time.time():
        request.session.pop(CASE_SESSION_KEY, None)
        return None
    return Case.objects.select_related("agency").filter(pk=held["pk"]).first()


def _open_case_session(request, case: Case) -> None:
    request.session.cycle_key()  # a new session id once the pair is proven
    request.session[CASE_SESSION_KEY] = {
        "pk": case.pk,
        "until": time.time() + settings.PORTAL["SESSION_MINUTES"] * 60,
    }


# --- the agencies ---------------------------------------------------------------------------------
@require_GET
def agency_list(request):
    refused = _throttled(request, AgencyListThrottle)
    if refused:
        return refused
    query = (request.GET.get("q") or "").strip()[:50]
    agencies = Agency.objects.select_related("parent").order_by("path")
    if query:
        agencies = agencies.filter(Q(name__icontains=query) | Q(office_name__icontains=query))
    return render(
        request,
        "portal/agency_list.html",
        {"agencies": list(agencies), "query": query},
    )


def _agency_or_404(code: str) -> Agency:
    agency = agency_by_code(code, cached=True)  # as the API's submission reads it
    if agency is None:
        raise Http404("未找到该机关。")
    return agency


@require_GET
def agency_guide(request, code: str):
    refused = _throttled(request, AgencyListThrottle)
    if refused:
        return refused
    agency = _agency_or_404(code)
    return render(
        request,
        "portal/agency_guide.html",
        {
            "agency": agency,
            "not_handled": [line for line in agency.not_handled.splitlines() if line.strip()],
            "fee_rules": (
                [line for line in agency.fee_rules.splitlines() if line.strip()] or fee_rules_text()
            ),
            "supplement_days": agency.supplement_period_days
            or settings.DISCLOSURE["SUPPLEMENT_PERIOD_DAYS"],
        },
    )


# --- apply --------------------------------------------------------------------------------------
def _similar_earlier(agency: Agency, fields: dict) -> list[dict]:
    """The applicant's own earlier applications to this agency that ask for much the same
    (the 重复申请 check's rule, ``services.repeats``): their dates and how alike, never
    their text, so nothing of another application is shown."""
    key = applicant_key(
        id_number=fields.get("id_number", ""),
        name=fields.get("applicant_name", ""),
        phone=fields.get("phone", ""),
    )
    found = repeat_candidates(agency_id=agency.pk, key=key, description=fields["description"])
    return [
        {"submitted_on": timezone.localtime(at).date(), "percent": round(score * 100)}
        for _pk, score, at in found[:3]
    ]


@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    agency = _agency_or_404(code)
    if request.method == "GET":
        return render(request, "portal/apply.html", {"agency": agency, "form": ApplicationForm()})

    step = request.POST.get("step")
    confirming = step == "confirm"
    needs_captcha = _submission_needs_captcha(request)
    form = ApplicationForm(request.POST, with_captcha=confirming and needs_captcha, agency=agency)
    if step == "edit":  # back from the review page, with everything typed kept
        return render(request, "portal/apply.html", {"agency": agency, "form": form})
    # The files come with the confirming POST only (a page cannot carry them over), and are
    # checked before anything is stored: a refused form keeps none of them.
    files = AttachmentsForm(request.POST, request.FILES) if confirming else AttachmentsForm()
    files_ok = confirming and files.is_valid()
    if not form.is_valid():
        if confirming and set(form.errors) == {"captcha"}:
            return _confirm_page(request, agency, form, files=files, needs_captcha=True, status=400)
        return render(request, "portal/apply.html", {"agency": agency, "form": form}, status=400)
    if not confirming:
        return _confirm_page(request, agency, form, files=files, needs_captcha=needs_captcha)
    if not files_ok:
        return _confirm_page(
            request, agency, form, files=files, needs_captcha=needs_captcha, status=400
        )

    refused = _throttled(request, SubmissionThrottle)
    if refused:
        return refused
    key = request.POST.get("submission_key", "")
    fields = form.validated
    uploads = files.uploads()

    def run():
        case, access_code = case_submit(agency=agency, fields=fields)
        attachments_store(case=case, files=uploads)
        return 201, submission_answer(case, access_code, agency), case

    try:
        _status, body, _replayed = idempotent(
            scope=SUBMISSION_SCOPE,
            key=key if key.isalnum() and len(key) <= 64 else None,
            fingerprint=body_fingerprint(fields),
            run=run,
        )
    except InvalidInput as error:
        # The service's own refusal (its fields named): on the form, as any other.
        for name, _codes in (error.fields or {}).items():
            form.add_error(name if name in form.fields else None, error.message)
        if not error.fields:
            form.add_error(None, error.message)
        return render(request, "portal/apply.html", {"agency": agency, "form": form}, status=400)
    _record_failure(request, SubmissionCaptchaThrottle)
    request.session[RECEIPT_SESSION_KEY] = {
        "tracking_number": body["tracking_number"],
        "access_code": body["access_code"],
        "until": time.time() + settings.PORTAL["RECEIPT_MINUTES"] * 60,
        "shown": False,
    }
    return redirect("portal:submitted")


def _confirm_page(
    request,
    agency: Agency,
    form: ApplicationForm,
    *,
    files: AttachmentsForm,
    needs_captcha: bool,
    status: int = 200,
):
    """The application as it will be sent, the applicant's own similar earlier applications,
    and (past a few submissions from this IP) a captcha; everything typed rides along in
    hidden fields of the POST."""
    fields = form.validated if hasattr(form, "validated") else form.application_data()
    captcha = None
    if needs_captcha:
        captcha = (
            form["captcha"]
            if "captcha" in form.fields
            else (ApplicationForm(with_captcha=True)["captcha"])
        )
    return render(
        request,
        "portal/apply_confirm.html",
        {
            "agency": agency,
            "form": form,
            "hidden": [
                (name, form.data.get(name, ""))
                for name in form.fields
                if name not in ("captcha", "sms_opt_in")
            ],
            "sms_opt_in": bool(form.cleaned_data.get("sms_opt_in")),
            "captcha": captcha,
            "similar": _similar_earlier(agency, fields),
            "published": published_similar(fields["description"]),
            "submission_key": request.POST.get("submission_key") or secrets.token_hex(16),
            "summary": _summary(form),
            "files": files,
        },
        status=status,
    )


def _summary(form: ApplicationForm) -> list[tuple[str, str]]:
    rows = []
    for name, field in form.fields.items():
        if name in ("captcha",):
            continue
        value = form.cleaned_data.get(name, "")
        if name == "sms_opt_in":
            rows.append(("短信通知", "是" if value else "否"))
            continue
        elif hasattr(field, "choices") and value:
            value = _choice_label(field.choices, value)
        rows.append((str(field.label), value or "—"))
    return rows


def _choice_label(choices, value) -> str:
    for key, label in choices:
        if isinstance(label, list | tuple):
            found = _choice_label(label, value)
            if found != value:
                return found
        elif key == value:
            return str(label)
    return value


def _receipt(request) -> dict | None:
    held = request.session.get(RECEIPT_SESSION_KEY)
    if not held or held.get("until", 0) < time.time():
        request.session.pop(RECEIPT_SESSION_KEY, None)
        return None
    return held


@require_GET
def submitted(request):
    held = _receipt(request)
    if held is None:
        return render(request, "portal/submitted.html", {"expired": True}, status=410)
    case = case_get_public(tracking_number=held["tracking_number"])
    first_view = not held["shown"]
    held["shown"] = True
    request.session[RECEIPT_SESSION_KEY] = held
    return render(
        request,
        "portal/submitted.html",
        {
            "case": case,
            "tracking_number": held["tracking_number"],
            "access_code": held["access_code"] if first_view else None,
            "minutes": settings.PORTAL["RECEIPT_MINUTES"],
        },
    )


@require_GET
def receipt_pdf(request):
    held = _receipt(request)
    if held is None:
        return render(request, "portal/submitted.html", {"expired": True}, status=410)
    case = case_get_public(tracking_number=held["tracking_number"])
    pdf = render_pdf(submission_receipt_content(case, access_code=held["access_code"]))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="receipt.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --- follow -------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        form = TrackForm(with_captcha=_tracking_needs_captcha(request))
        return render(request, "portal/track.html", {"form": form})
    # The API's own throttles for following an application, in the API view's order.
    refused = _throttled(request, *ApplicationTrackView.throttle_classes)
    if refused:
        return refused
    form = TrackForm(request.POST, with_captcha=_tracking_needs_captcha(request))
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form}, status=400)
    case = case_get_for_applicant(
        tracking_number=form.cleaned_data["tracking_number"],
        access_code=form.cleaned_data["access_code"],
    )
    if case is None:
        _record_failure(request, *ApplicationTrackView.failure_throttle_classes)
        form = TrackForm(
            {"tracking_number": form.cleaned_data["tracking_number"]}, with_captcha=True
        )
        form.is_valid()  # bind, so the number typed is kept; the captcha is new
        form.errors.clear()
        form.add_error(None, "未找到该申请，或查询码不正确。")
        return render(request, "portal/track.html", {"form": form}, status=404)
    _open_case_session(request, case)
    return redirect("portal:case")


# The history rows an applicant sees: the steps that concern them, never internal ones
# (notes, assignment, drafts and approval, reminders, consultation), and never who acted.
APPLICANT_EVENTS = {
    EventKind.SUBMITTED: "提交申请",
    EventKind.CONFIRM_RECEIPT: "本机关确认收到申请",
    EventKind.REGISTER: "本机关登记申请",
    EventKind.REPLY_ON_SPOT: "当场答复",
    EventKind.REQUEST_SUPPLEMENT: "本机关告知补正",
    EventKind.RECEIVE_SUPPLEMENT: "收到补正",
    EventKind.ABANDON_NO_SUPPLEMENT: "逾期未补正，视为放弃申请",
    EventKind.EXTEND: "延长答复期限",
    EventKind.SET_LATER_REPLY_DATE: "确定答复期限",
    EventKind.ISSUE_FEE_NOTICE: "发出收费通知",
    EventKind.RECORD_FEE_PAYMENT: "确认缴费",
    EventKind.ABANDON_NO_FEE: "逾期未缴费，不再处理",
    EventKind.SERVE_REPLY: "送达答复",
    EventKind.WITHDRAW: "撤回申请",
    EventKind.CLOSE: "办结归档",
    EventKind.REOPEN: "重新办理",
    EventKind.LETTER_SERVED: "送达文书",
    EventKind.QUESTION_ASKED: "您的留言",
    EventKind.QUESTION_ANSWERED: "本机关答复留言",
    EventKind.ATTACHMENT_ADDED: "上传材料",
}

PLAIN_STATES = {
    CaseState.SUBMITTED: "申请已提交，等待本机关确认收到。",
    CaseState.REGISTERED: "本机关已收到并登记您的申请，即将开始办理。",
    CaseState.AWAITING_SUPPLEMENT: (
        "本机关需要您补正申请内容（见下方）。答复期限暂停计算，收到补正后重新计算。"
    ),
    CaseState.PROCESSING: "正在办理：本机关正在检索、审查您所需的信息。",
    CaseState.CONSULTING: "正在征求第三方或其他机关的意见，所需时间不计入答复期限。",
    CaseState.AWAITING_FEE: "需要缴纳信息处理费（见下方），缴费后继续办理。",
    CaseState.PENDING_APPROVAL: "答复已拟好，正在审核。",
    CaseState.APPROVED: "答复已审核，即将送达。",
    CaseState.REPLIED: "本机关已作出答复。",
    CaseState.CLOSED: "办理已结束。",
}


def _cn_day(iso: str | None) -> str:
    try:
        return cn_date(dt.date.fromisoformat(iso)) if iso else ""
    except ValueError:
        return ""


def _event_detail(event: CaseEvent) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.REQUEST_SUPPLEMENT:
        return f"需补正事项：{data.get('items', '')}（期限 {data.get('period_days', '')} 个工作日）"
    if kind == EventKind.RECEIVE_SUPPLEMENT:
        text = data.get("text", "")
        return f"补正收到日期：{_cn_day(data.get('received_on'))}" + (
            f"。补正内容：{text}" if text else ""
        )
    if kind in (EventKind.SERVE_REPLY, EventKind.REPLY_ON_SPOT) and data.get("outcome"):
        return f"答复结果：{Outcome(data['outcome']).label}"
    if kind == EventKind.EXTEND:
        return f"延长 {data.get('days', '')} 个工作日"
    if kind in (EventKind.QUESTION_ASKED, EventKind.QUESTION_ANSWERED, EventKind.WITHDRAW):
        return event.reason
    if kind == EventKind.ISSUE_FEE_NOTICE:
        return f"金额 {data.get('amount_yuan', '')} 元"
    if kind == EventKind.ATTACHMENT_ADDED:
        labels = dict(AttachmentKind.choices)
        return "、".join(str(labels.get(f.get("kind"), "")) for f in data.get("files", []))
    if kind == EventKind.LETTER_SERVED:
        return str(data.get("title") or data.get("number") or "")
    return ""


def _history(case: Case) -> list[dict]:
    events = CaseEvent.objects.filter(case=case, kind__in=list(APPLICANT_EVENTS)).order_by(
        "effective_at", "pk"
    )
    return [
        {
            "when": timezone.localtime(event.effective_at),
            "what": APPLICANT_EVENTS[event.kind],
            "detail": _event_detail(event),
            "by_applicant": event.kind == EventKind.SUBMITTED
            or event.actor_label == APPLICANT_LABEL,
        }
        for event in events
    ]


def _provisional(case: Case, status: dict) -> bool:
    """Whether the reply due date was computed on a year whose holiday notice is not loaded
    yet (the working-day calendar's own test): then it may still move."""
    due = status.get("reply_due_on")
    start = case.restarted_on or case.received_on
    if not due or not start:
        return False
    return bool(calendar_for_agency(case.agency).missing_years(start, due))


def _case_context(case: Case, **forms) -> dict:
    status = application_status(case)
    is_open = case.state in OPEN_STATES
    letters = Letter.objects.filter(case=case, served_on__isnull=False).order_by("served_on", "pk")
    release = release_approved(case) if case.replied_on else None
    return {
        "case": case,
        "status": status,
        "plain_state": PLAIN_STATES.get(case.state, ""),
        "is_provisional": _provisional(case, status),
        "history": _history(case),
        "letters": letters,
        "release_files": list(release.files.all()) if release else [],
        "remedies": case_remedies(case),
        "is_open": is_open,
        "awaiting_supplement": case.state == CaseState.AWAITING_SUPPLEMENT,
        "open_questions": len(questions_unanswered(case)),
        "questions_max": OPEN_QUESTIONS_MAX,
        "supplement_form": forms.get("supplement_form") or SupplementForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "question_form": forms.get("question_form") or QuestionForm(),
        "session_minutes": settings.PORTAL["SESSION_MINUTES"],
    }


def _need_case(view):
    def wrapped(request, *args, **kwargs):
        refused = _throttled(request, TrackingThrottle)
        if refused:
            return refused
        case = _session_case(request)
        if case is None:
            return redirect("portal:track")
        return view(request, case, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@_need_case
def case_page(request, case: Case):
    response = render(request, "portal/case.html", _case_context(case))
    response["Cache-Control"] = "no-store"
    return response


def _act(request, case: Case, form_name: str, form, action) -> HttpResponse:
    """Run ``action`` for a valid form; on bad input or a refused step, the page again with
    the message on the form and what was typed kept."""
    refused = ""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ServiceError as error:
            field = next(iter(error.fields or {}), None)
            if field in form.fields:
                form.add_error(field, error.message)
            else:
                refused = error.message  # the step itself, not a field: said at the top
        else:
            return redirect("portal:case")
    case.refresh_from_db()
    response = render(
        request,
        "portal/case.html",
        {**_case_context(case, **{form_name: form}), "refused": refused},
        status=400,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@_need_case
def case_supplement(request, case: Case):
    return _act(
        request,
        case,
        "supplement_form",
        SupplementForm(request.POST, request.FILES),
        lambda data: applicant_supplement_answer(
            case=case, text=data["text"], files=[data["file"]] if data.get("file") else []
        ),
    )


@require_POST
@_need_case
def case_withdraw(request, case: Case):
    return _act(
        request,
        case,
        "withdraw_form",
        WithdrawForm(request.POST),
        lambda data: applicant_withdraw(case=case, reason=data["reason"]),
    )


@require_POST
@_need_case
def case_question(request, case: Case):
    return _act(
        request,
        case,
        "question_form",
        QuestionForm(request.POST),
        lambda data: applicant_question_ask(case=case, text=data["text"]),
    )


@require_GET
@_need_case
def letter_pdf(request, case: Case, pk: int):
    letter = Letter.objects.filter(case=case, pk=pk, served_on__isnull=False).first()
    if letter is None:
        raise Http404("未找到该文书。")
    if letter.pdf:
        with letter.pdf.open("rb") as handle:
            pdf = handle.read()
    else:
        pdf = render_pdf(letter.content)
    logger.info("applicant downloaded letter %s of case %s", letter.pk, case.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letter-{letter.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@_need_case
def release_file(request, case: Case, pk: int):
    """A file of the release the office approved and served with its reply (区分处理: what
    was withheld is gone from it), logged like every download of a record."""
    release = release_approved(case) if case.replied_on else None
    item = release.files.filter(pk=pk).first() if release else None
    if item is None:
        raise Http404("未找到该文件。")
    log_download(who="applicant", case=case, what=f"release:{release.pk}:{item.pk}", via="portal")
    response = release_file_response(item, case)
    response["Cache-Control"] = "no-store"
    return response


# --- the reading room ---------------------------------------------------------------------------
@require_GET
def publication(request, pk: int):
    """One answer the office published (依申请公开转主动公开): never the applicant's identity."""
    refused = _throttled(request, AgencyListThrottle)
    if refused:
        return refused
    found = published_search().filter(pk=pk).first()
    if found is None:
        raise Http404("未找到该公开信息。")
    return render(request, "portal/publication.html", {"publication": found})


@require_POST
def leave(request):
    request.session.pop(CASE_SESSION_KEY, None)
    return redirect("portal:track")
