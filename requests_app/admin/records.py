"""The case's records in the admin: the records page (upload, the review's progress and its
区分处理 说明, the release copies, the reading room) and the review screen of one record (each
page's image, its decision, regions drawn with the mouse, suggestions to accept or reject).

Every change calls one service of ``requests_app.services.records``; files are answered by
these views only, after the case's visibility check, and each download is logged. The review
screen's script is a static file (``requests_app/review.js``): no inline script or style, so a
strict Content-Security-Policy holds.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from requests_app import selectors
from requests_app.choices import (
    CaseState,
    Outcome,
    PageDecision,
    SuggestionState,
    WithholdBasis,
)
from requests_app.models import Case, Publication, Record, RecordPage, Region, Release, Suggestion
from requests_app.permissions import can_act, can_download_original
from requests_app.review import agreeing_outcomes, release_current, review_summary
from requests_app.services import records as services
from requests_app.services.errors import CaseNotFound, ServiceError

BASIS_CHOICES = [("", "——请选择依据——"), *WithholdBasis.choices]
MAX_PK = 2**63 - 1


class UploadForm(forms.Form):
    file = forms.FileField(label="文件", allow_empty_file=True)
    title = forms.CharField(label="标题", max_length=300, required=False)
    source = forms.CharField(label="来源", max_length=200, required=False)
    document_number = forms.CharField(label="文号", max_length=100, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="审查决定", choices=PageDecision.choices)
    basis = forms.ChoiceField(label="不予公开依据", choices=BASIS_CHOICES, required=False)
    reason = forms.CharField(label="理由", max_length=200, required=False)


class RegionForm(forms.Form):
    x0 = forms.FloatField(widget=forms.HiddenInput)
    y0 = forms.FloatField(widget=forms.HiddenInput)
    x1 = forms.FloatField(widget=forms.HiddenInput)
    y1 = forms.FloatField(widget=forms.HiddenInput)
    basis = forms.ChoiceField(label="不予公开依据", choices=WithholdBasis.choices)
    reason = forms.CharField(label="理由", max_length=200, required=False)


class SuggestForm(forms.Form):
    names = forms.CharField(label="第三方姓名（以逗号或顿号分隔）", max_length=2000, required=False)
    terms = forms.CharField(label="检索词（以逗号或顿号分隔）", max_length=2000, required=False)

    @staticmethod
    def words(value: str) -> list[str]:
        return [w.strip() for w in re.split(r"[,，、;；\n]", value or "") if w.strip()]


class AcceptForm(forms.Form):
    basis = forms.ChoiceField(label="依据", choices=WithholdBasis.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500)


class PublishForm(forms.Form):
    title = forms.CharField(label="标题", max_length=300)
    summary = forms.CharField(
        label="摘要", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- lookups ----------------------------------------------------------------------------------
def _case(request, object_id) -> Case:
    try:
        return selectors.case_get(user=request.user, pk=int(object_id))
    except (CaseNotFound, ValueError, OverflowError) as exc:
        raise Http404("未找到该申请。") from exc


def _get(queryset, pk: int):
    if not 0 < pk <= MAX_PK:
        raise Http404("未找到。")
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise Http404("未找到。")
    return row


def records_url(case: Case) -> str:
    return reverse("admin:requests_app_case_records", args=[case.pk])


def review_url(record: Record) -> str:
    return reverse("admin:requests_app_case_record_review", args=[record.case_id, record.pk])


def records_panel(case: Case, user) -> dict:
    """What the case page shows of the records (read-only; the forms are on the records page)."""
    records = list(selectors.record_list(case=case))
    if not records and not can_act(user, "record_added", case):
        return {"shown": False}
    summary = review_summary(case)
    return {
        "shown": True,
        "url": records_url(case),
        "records": records,
        "summary": summary,
        "release": release_current(case),
    }


def _context(request, case: Case, title: str, **extra) -> dict:
    from django.contrib import admin

    return {
        **admin.site.each_context(request),
        "opts": Case._meta,
        "original": case,
        "case": case,
        "title": title,
        "subtitle": None,
        "change_url": reverse("admin:requests_app_case_change", args=[case.pk]),
        "records_url": records_url(case),
        **extra,
    }


# --- pages --------------------------------------------------------------------------------------
def records_view(request, object_id):
    case = _case(request, object_id)
    user = request.user
    summary = review_summary(case)
    allowed = agreeing_outcomes(summary)
    releases = list(selectors.release_list(case=case))
    current = release_current(case)
    for release in releases:
        release.is_current = current is not None and release.pk == current.pk
    records = list(selectors.record_list(case=case))
    for record in records:
        record.decided = record.pages.exclude(decision="").count()
    context = _context(
        request,
        case,
        f"文件记录与审查：{case.tracking_number}",
        records=records,
        summary=summary,
        agreeing=[str(Outcome(o).label) for o in sorted(allowed or ())],
        releases=releases,
        publications=selectors.publication_list(case=case),
        upload_form=UploadForm(),
        # Empty: the title and summary are the approver's words, never the applicant's text.
        publish_form=PublishForm(),
        may_upload=can_act(user, "record_added", case),
        may_build=can_act(user, "release_built", case),
        may_publish=can_act(user, "release_published", case)
        and case.state in (CaseState.REPLIED, CaseState.CLOSED),
        may_original=can_download_original(user, case),
    )
    return TemplateResponse(request, "admin/requests_app/case/records.html", context)


def review_view(request, object_id, record_id):
    case = _case(request, object_id)
    record = _get(Record.objects.filter(case=case), record_id)
    pages = list(
        RecordPage.objects.filter(record=record)
        .prefetch_related("regions", "suggestions")
        .order_by("index")
    )
    for page in pages:
        page.pending = [s for s in page.suggestions.all() if s.state == SuggestionState.PENDING]
        page.image_url = reverse(
            "admin:requests_app_case_page_image", args=[case.pk, record.pk, page.index]
        )
        page.decision_form = DecisionForm(
            initial={"decision": page.decision, "basis": page.basis, "reason": page.reason},
            prefix=f"p{page.index}",
        )
    context = _context(
        request,
        case,
        f"审查：{record.title}",
        record=record,
        pages=pages,
        region_form=RegionForm(),
        suggest_form=SuggestForm(),
        accept_form=AcceptForm(),
        may_review=can_act(request.user, "page_decided", case),
        basis_choices=WithholdBasis.choices,
        decision_choices=PageDecision.choices,
        media=forms.Media(js=["requests_app/review.js"]),
    )
    return TemplateResponse(request, "admin/requests_app/case/record_review.html", context)


# --- files --------------------------------------------------------------------------------------
def page_image_view(request, object_id, record_id, index):
    case = _case(request, object_id)
    record = _get(Record.objects.filter(case=case), record_id)
    page = RecordPage.objects.filter(record=record, index=min(index, MAX_PK)).first()
    if page is None:
        raise Http404("未找到该页。")
    page.record = record
    try:
        image = services.page_image(page)
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    services.log_download(
        who=request.user.get_username(), case=case, what=f"page:{record.pk}:{index}", via="admin"
    )
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


def original_view(request, object_id, record_id):
    case = _case(request, object_id)
    record = _get(Record.objects.filter(case=case), record_id)
    if not can_download_original(request.user, case):
        raise PermissionDenied
    services.log_download(
        who=request.user.get_username(), case=case, what=f"original:{record.pk}", via="admin"
    )
    return FileResponse(
        record.file.open("rb"),
        as_attachment=True,
        filename=record.original_name or f"record-{record.pk}.{record.kind}",
    )


def release_file_view(request, object_id, file_id):
    """A release file, shown in the browser (the approver reads it before approving)."""
    from requests_app.models import ReleaseFile

    case = _case(request, object_id)
    item = _get(ReleaseFile.objects.filter(release__case=case), file_id)
    services.log_download(
        who=request.user.get_username(),
        case=case,
        what=f"release:{item.release_id}:{item.pk}",
        via="admin",
    )
    return FileResponse(
        item.file.open("rb"),
        filename=f"{case.tracking_number}-{item.pk}.pdf",
        content_type="application/pdf",
    )


# --- actions (POST, then back to the page) --------------------------------------------------------
def _run(request, back: str, label: str, call) -> HttpResponse:
    try:
        call()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已完成“{label}”。")
    return redirect(back)


def _invalid(request, form, back: str) -> HttpResponse:
    errors = "；".join(
        f"{form.fields[name].label or name}：{'、'.join(errs)}"
        if name in form.fields
        else "、".join(errs)
        for name, errs in form.errors.items()
    )
    messages.error(request, f"输入有误：{errors}")
    return redirect(back)


@require_POST
def upload_view(request, object_id):
    case = _case(request, object_id)
    back = records_url(case)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, form, back)
    data = form.cleaned_data
    return _run(
        request,
        back,
        "上传文件",
        lambda: services.record_upload(
            case=case,
            actor=request.user,
            upload=data["file"],
            title=data["title"],
            source=data["source"],
            document_number=data["document_number"],
            original_name=data["file"].name,
        ),
    )


@require_POST
def act_view(request, object_id, what, target_id):
    """One review step on a record, a page, a region, a suggestion, a release or a publication."""
    case = _case(request, object_id)
    user = request.user
    records = Record.objects.filter(case=case)
    if what == "remove_record":
        record = _get(records, target_id)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _invalid(request, form, records_url(case))
        return _run(
            request,
            records_url(case),
            "删除文件",
            lambda: services.record_remove(record=record, actor=user, **form.cleaned_data),
        )
    if what == "suggest":
        record = _get(records, target_id)
        form = SuggestForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        return _run(
            request,
            review_url(record),
            "查找需遮盖内容",
            lambda: services.suggestions_find(
                record=record,
                actor=user,
                names=SuggestForm.words(data.get("names", "")),
                terms=SuggestForm.words(data.get("terms", "")),
            ),
        )
    if what in ("decide", "region"):
        page = _get(
            RecordPage.objects.filter(record__case=case).select_related("record"), target_id
        )
        back = f"{review_url(page.record)}#page-{page.index + 1}"
        if what == "decide":
            form = DecisionForm(request.POST, prefix=f"p{page.index}")
            if not form.is_valid():
                return _invalid(request, form, back)
            return _run(
                request,
                back,
                "页面审查决定",
                lambda: services.page_decide(page=page, actor=user, **form.cleaned_data),
            )
        form = RegionForm(request.POST)
        if not form.is_valid():
            return _invalid(request, form, back)
        data = form.cleaned_data
        return _run(
            request,
            back,
            "标注不予公开区域",
            lambda: services.region_add(
                page=page,
                actor=user,
                rect=[data["x0"], data["y0"], data["x1"], data["y1"]],
                basis=data["basis"],
                reason=data["reason"],
            ),
        )
    if what == "region_remove":
        region = _get(
            Region.objects.filter(page__record__case=case).select_related("page__record"), target_id
        )
        back = f"{review_url(region.page.record)}#page-{region.page.index + 1}"
        return _run(
            request, back, "删除区域", lambda: services.region_remove(region=region, actor=user)
        )
    if what in ("accept", "reject"):
        suggestion = _get(
            Suggestion.objects.filter(page__record__case=case).select_related("page__record"),
            target_id,
        )
        back = f"{review_url(suggestion.page.record)}#page-{suggestion.page.index + 1}"
        if what == "reject":
            return _run(
                request,
                back,
                "不采纳遮盖建议",
                lambda: services.suggestion_reject(suggestion=suggestion, actor=user),
            )
        form = AcceptForm(request.POST)
        if not form.is_valid():
            return _invalid(request, form, back)
        return _run(
            request,
            back,
            "采纳遮盖建议",
            lambda: services.suggestion_accept(
                suggestion=suggestion, actor=user, basis=form.cleaned_data["basis"]
            ),
        )
    if what == "build":
        return _run(
            request,
            records_url(case),
            "生成公开文本",
            lambda: services.release_build(case=case, actor=user),
        )
    if what == "publish":
        release = _get(Release.objects.filter(case=case).select_related("case"), target_id)
        form = PublishForm(request.POST)
        if not form.is_valid():
            return _invalid(request, form, records_url(case))
        return _run(
            request,
            records_url(case),
            "转为主动公开",
            lambda: services.release_publish(release=release, actor=user, **form.cleaned_data),
        )
    if what == "withdraw":
        publication = _get(Publication.objects.filter(case=case).select_related("case"), target_id)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _invalid(request, form, records_url(case))
        return _run(
            request,
            records_url(case),
            "撤回主动公开",
            lambda: services.publication_withdraw(
                publication=publication, actor=user, **form.cleaned_data
            ),
        )
    raise Http404("没有这个操作。")


def urls(admin_site) -> list:
    wrap = admin_site.admin_view
    prefix = "<int:object_id>/records/"
    return [
        path(prefix, wrap(records_view), name="requests_app_case_records"),
        path(prefix + "upload/", wrap(upload_view), name="requests_app_case_records_upload"),
        path(
            prefix + "<int:record_id>/", wrap(review_view), name="requests_app_case_record_review"
        ),
        path(
            prefix + "<int:record_id>/original/",
            wrap(original_view),
            name="requests_app_case_record_original",
        ),
        path(
            prefix + "<int:record_id>/pages/<int:index>.png",
            wrap(page_image_view),
            name="requests_app_case_page_image",
        ),
        path(
            prefix + "release-files/<int:file_id>/",
            wrap(release_file_view),
            name="requests_app_case_release_file",
        ),
        path(
            prefix + "act/<slug:what>/<int:target_id>/",
            wrap(act_view),
            name="requests_app_case_records_act",
        ),
    ]
