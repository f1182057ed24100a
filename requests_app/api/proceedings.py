"""The staff API for a case's legal life: 行政复议, 行政诉讼, 投诉举报, 信息处理费, letters
(告知书) and repeat requests. Views validate with the serializers below and call one service
each (``services.proceedings``, ``services.fees``, ``services.letters``); reads go through
``legal_selectors`` (another agency's record is a 404, like one that does not exist)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from requests_app.api.common import error_responses
from requests_app.api.serializers import _DayField
from requests_app.api.staff import StaffView, visible_case_get
from requests_app.fees import BY_COUNT, BY_PAGES
from requests_app.legal_selectors import (
    complaint_get,
    complaint_list,
    fee_notice_list,
    lawsuit_get,
    lawsuit_list,
    letter_get,
    letter_list,
    repeated_requests,
    review_get,
    review_list,
)
from requests_app.models import (
    Complaint,
    ComplaintKind,
    FeeNotice,
    JudgmentKind,
    Lawsuit,
    Letter,
    LetterKind,
    RepeatCheck,
    Review,
    ReviewDecision,
)
from requests_app.permissions import agencies_visible
from requests_app.selectors import agency_by_code
from requests_app.services import fees as fee_services
from requests_app.services import letters as letter_services
from requests_app.services import proceedings as proceeding_services
from requests_app.services.errors import CaseNotFound
from requests_app.services.repeats import repeat_check_record

MAX_PK = 2**63 - 1
TAGS = ["staff legal"]


# The model fields are all called "kind"; the API names them by what they classify, so the
# schema has one component per choice set (ComplaintKindEnum, LetterKindEnum).


# --- output serializers ------------------------------------------------------------------
class ReviewOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = [
            "id",
            "case",
            "review_body",
            "applicant",
            "filed_on",
            "law",
            "accepted_on",
            "simplified",
            "decision_extended",
            "decision_due_on",
            "copy_received_on",
            "answer_due_on",
            "answered_on",
            "decided_on",
            "decision",
            "result",
            "orders_new_reply",
            "note",
        ]


class LawsuitOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lawsuit
        fields = [
            "id",
            "case",
            "court",
            "plaintiff",
            "filed_on",
            "after_review",
            "review",
            "review_body_co_defendant",
            "instance",
            "appeal_of",
            "simple_procedure",
            "judgment_due_on",
            "copy_received_on",
            "defense_due_on",
            "defense_submitted_on",
            "decided_on",
            "judgment",
            "result",
            "orders_new_reply",
            "note",
        ]


class ComplaintOutputSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    received_by = serializers.SlugRelatedField(slug_field="code", read_only=True)
    complaint_kind = serializers.ChoiceField(
        source="kind", choices=ComplaintKind.choices, read_only=True
    )

    class Meta:
        model = Complaint
        fields = [
            "id",
            "case",
            "agency",
            "received_by",
            "complaint_kind",
            "filed_on",
            "complainant",
            "summary",
            "handled_on",
            "is_substantiated",
            "result",
        ]


class FeeNoticeOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeeNotice
        fields = [
            "id",
            "method",
            "amount_yuan",
            "computation",
            "issued_on",
            "paid_on",
            "waived",
            "waiver_reason",
        ]


class LetterOutputSerializer(serializers.ModelSerializer):
    letter_kind = serializers.ChoiceField(source="kind", choices=LetterKind.choices, read_only=True)
    pdf_url = serializers.SerializerMethodField()
    docx_url = serializers.SerializerMethodField()

    class Meta:
        model = Letter
        fields = [
            "id",
            "case",
            "letter_kind",
            "number",
            "title",
            "addressee",
            "legal_basis",
            "content",
            "drafted_at",
            "served_on",
            "service_method",
            "pdf_url",
            "docx_url",
        ]

    def _url(self, obj, fmt: str) -> str:
        return f"/api/v1/staff/letters/{obj.pk}/{fmt}/"

    def get_pdf_url(self, obj) -> str:
        return self._url(obj, "pdf")

    def get_docx_url(self, obj) -> str:
        return self._url(obj, "docx")


class RepeatCheckOutputSerializer(serializers.ModelSerializer):
    repeats_tracking_number = serializers.CharField(
        source="repeats.tracking_number", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = RepeatCheck
        fields = ["repeats", "repeats_tracking_number", "similarity", "checked_at"]


class CaseLegalOutputSerializer(serializers.Serializer):
    reviews = ReviewOutputSerializer(many=True)
    lawsuits = LawsuitOutputSerializer(many=True)
    complaints = ComplaintOutputSerializer(many=True)
    fee_notices = FeeNoticeOutputSerializer(many=True)
    letters = LetterOutputSerializer(many=True)
    repeat_check = RepeatCheckOutputSerializer(allow_null=True)


class FeeComputationOutputSerializer(serializers.Serializer):
    method = serializers.CharField()
    units = serializers.IntegerField()
    already = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.DictField())
    amount_yuan = serializers.CharField()
    text = serializers.CharField()
    basis = serializers.CharField()


class RepeatedRequestOutputSerializer(serializers.Serializer):
    description = serializers.CharField()
    applicants = serializers.IntegerField()
    cases = serializers.IntegerField()
    case_ids = serializers.ListField(child=serializers.IntegerField())
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    disclosed = serializers.IntegerField()
    min_similarity = serializers.FloatField()


# --- input serializers --------------------------------------------------------------------
class ReviewFileInputSerializer(serializers.Serializer):
    filed_on = _DayField()
    review_body = serializers.CharField(max_length=200, required=False, allow_blank=True)
    applicant = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ReviewAcceptInputSerializer(serializers.Serializer):
    accepted_on = _DayField()
    copy_received_on = _DayField(required=False, allow_null=True)
    simplified = serializers.BooleanField(required=False, default=False)


class ReviewAnswerInputSerializer(serializers.Serializer):
    answered_on = _DayField()


class ReviewExtendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReviewDecideInputSerializer(serializers.Serializer):
    decided_on = _DayField()
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    orders_new_reply = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class LawsuitFileInputSerializer(serializers.Serializer):
    filed_on = _DayField()
    court = serializers.CharField(max_length=200, required=False, allow_blank=True)
    plaintiff = serializers.CharField(max_length=200, required=False, allow_blank=True)
    after_review = serializers.BooleanField(required=False, allow_null=True, default=None)
    review = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PK)
    appeal_of = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PK)
    simple_procedure = serializers.BooleanField(required=False, default=False)
    review_body_co_defendant = serializers.BooleanField(required=False, default=False)
    copy_received_on = _DayField(required=False, allow_null=True)


class LawsuitDefendInputSerializer(serializers.Serializer):
    submitted_on = _DayField()


class LawsuitDecideInputSerializer(serializers.Serializer):
    decided_on = _DayField()
    judgment = serializers.ChoiceField(choices=JudgmentKind.choices)
    orders_new_reply = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ComplaintReceiveInputSerializer(serializers.Serializer):
    agency = serializers.CharField(max_length=64, help_text="被投诉机关代码")
    received_by = serializers.CharField(max_length=64, required=False, help_text="受理机关代码")
    filed_on = _DayField()
    complaint_kind = serializers.ChoiceField(choices=ComplaintKind.choices, required=False)
    complainant = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=5000)
    case = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PK)


class ComplaintHandleInputSerializer(serializers.Serializer):
    handled_on = _DayField()
    result = serializers.CharField(max_length=5000)
    is_substantiated = serializers.BooleanField(required=False, allow_null=True, default=None)


class FeeInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=[BY_COUNT, BY_PAGES])
    pages = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)


class FeeWaiveInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class LetterDraftInputSerializer(serializers.Serializer):
    letter_kind = serializers.ChoiceField(
        choices=LetterKind.choices,
        required=False,
        help_text="文书类型；或不填而设 reply 为 true，按答复结果选择答复书。",
    )
    reply = serializers.BooleanField(
        required=False, default=False, help_text="制作与答复结果对应的答复书。"
    )

    def validate(self, attrs):
        if attrs.get("reply") == bool(attrs.get("letter_kind")):
            raise serializers.ValidationError(
                {"letter_kind": ["请填写 letter_kind，或设 reply 为 true（二选一）。"]}
            )
        return {"kind": "reply" if attrs.get("reply") else attrs["letter_kind"]}


class LetterServeInputSerializer(serializers.Serializer):
    served_on = _DayField()
    method = serializers.ChoiceField(choices=list(letter_services.SERVICE_METHODS.items()))
    tracking_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="邮寄送达答复书：中国邮政 EMS 或挂号信的邮件号 / China Post item number.",
    )
    entrusted_to = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="委托送达：受委托签收人 / who signed for an entrusted service.",
    )


class RepeatedRequestsFilterInputSerializer(serializers.Serializer):
    agency = serializers.CharField(max_length=64)
    recent = serializers.IntegerField(required=False, min_value=2, max_value=5000, default=500)
    threshold = serializers.FloatField(required=False, min_value=0.1, max_value=1.0, default=0.6)
    min_applicants = serializers.IntegerField(required=False, min_value=1, max_value=100, default=2)


# --- views ----------------------------------------------------------------------------------
def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _pk(pk: int) -> int:
    if pk > MAX_PK:
        raise CaseNotFound("未找到。", "Not found.")
    return pk


def _agency(code: str, field: str):
    agency = agency_by_code(code)
    if agency is None:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({field: ["机关代码不存在。"]})
    return agency


class CaseLegalView(StaffView):
    @extend_schema(
        operation_id="staff_cases_legal",
        summary="申请的复议、诉讼、投诉、收费、文书与重复申请核查 / A case's legal records",
        tags=TAGS,
        responses={200: CaseLegalOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk)
        user = request.user
        data = {
            "reviews": review_list(user=user, case=case),
            "lawsuits": lawsuit_list(user=user, case=case),
            "complaints": complaint_list(user=user).filter(case=case),
            "fee_notices": fee_notice_list(user=user, case=case),
            "letters": letter_list(user=user, case=case),
            "repeat_check": _repeat_check(case),
        }
        return Response(CaseLegalOutputSerializer(data).data)


def _repeat_check(case) -> RepeatCheck | None:
    """The case's 重复申请 check; one still pending (a submission the sweep has not reached)
    is completed now, so a caseworker never reads "no repeat" before it was checked."""
    check = RepeatCheck.objects.filter(case=case).select_related("repeats").first()
    if check is not None and check.checked_at is None:
        repeat_check_record(case=case)
        check = RepeatCheck.objects.select_related("repeats").get(pk=check.pk)
    return check


def _post_schema(
    operation_id: str,
    summary: str,
    request,
    response,
    statuses=(400, 401, 403, 404, 409, 415),
    success: int = 200,
):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        tags=TAGS,
        request=request,
        responses={success: response, **error_responses(*statuses)},
    )


class CaseReviewFileView(StaffView):
    @_post_schema(
        "staff_reviews_file",
        "申请行政复议 / Record a review",
        ReviewFileInputSerializer,
        ReviewOutputSerializer,
        success=201,  # the views answer 201 Created
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        review = proceeding_services.review_file(
            case=case, actor=request.user, **_valid(ReviewFileInputSerializer, request.data)
        )
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


def _record_action(service, serializer_class, operation_id: str, summary: str, *, kind: str):
    """One POST endpoint for a step on a review or a lawsuit (``kind``), through its service."""
    get, output, prefix = {
        "review": (review_get, ReviewOutputSerializer, "Review"),
        "lawsuit": (lawsuit_get, LawsuitOutputSerializer, "Lawsuit"),
    }[kind]

    class View(StaffView):
        @_post_schema(operation_id, summary, serializer_class, output)
        def post(self, request, pk: int):
            record = get(user=request.user, pk=_pk(pk))
            record = service(
                **{kind: record}, actor=request.user, **_valid(serializer_class, request.data)
            )
            return Response(output(record).data)

    View.__name__ = f"{prefix}{operation_id.title().replace('_', '')}View"
    return View


def _review_action(service, serializer_class, operation_id: str, summary: str):
    return _record_action(service, serializer_class, operation_id, summary, kind="review")


ReviewAcceptView = _review_action(
    proceeding_services.review_accept,
    ReviewAcceptInputSerializer,
    "staff_reviews_accept",
    "复议受理 / Acceptance",
)
ReviewAnswerView = _review_action(
    proceeding_services.review_answer,
    ReviewAnswerInputSerializer,
    "staff_reviews_answer",
    "提交答复 / The agency's answer",
)
ReviewExtendView = _review_action(
    proceeding_services.review_extend,
    ReviewExtendInputSerializer,
    "staff_reviews_extend",
    "复议延期 / Extension",
)
ReviewDecideView = _review_action(
    proceeding_services.review_decide,
    ReviewDecideInputSerializer,
    "staff_reviews_decide",
    "复议决定 / Decision",
)


class CaseLawsuitFileView(StaffView):
    @_post_schema(
        "staff_lawsuits_file",
        "行政诉讼立案 / Record a lawsuit",
        LawsuitFileInputSerializer,
        LawsuitOutputSerializer,
        success=201,  # the views answer 201 Created
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        data = dict(_valid(LawsuitFileInputSerializer, request.data))
        if "review" in data:
            data["review"] = review_get(user=request.user, pk=data["review"])
        if "appeal_of" in data:
            data["appeal_of"] = lawsuit_get(user=request.user, pk=data["appeal_of"])
        lawsuit = proceeding_services.lawsuit_file(case=case, actor=request.user, **data)
        return Response(LawsuitOutputSerializer(lawsuit).data, status=status.HTTP_201_CREATED)


def _lawsuit_action(service, serializer_class, operation_id: str, summary: str):
    return _record_action(service, serializer_class, operation_id, summary, kind="lawsuit")


LawsuitDefendView = _lawsuit_action(
    proceeding_services.lawsuit_defend,
    LawsuitDefendInputSerializer,
    "staff_lawsuits_defend",
    "提交答辩举证 / Defence",
)
LawsuitDecideView = _lawsuit_action(
    proceeding_services.lawsuit_decide,
    LawsuitDecideInputSerializer,
    "staff_lawsuits_decide",
    "裁判 / Judgment",
)


class ComplaintListView(StaffView):
    @extend_schema(
        operation_id="staff_complaints_list",
        summary="投诉举报列表 / Complaints",
        tags=TAGS,
        responses={200: ComplaintOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        rows = complaint_list(user=request.user).order_by("-filed_on", "-pk")[:500]
        return Response(ComplaintOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="staff_complaints_receive",
        summary="登记投诉举报 / Receive a complaint",
        tags=TAGS,
        request=ComplaintReceiveInputSerializer,
        responses={201: ComplaintOutputSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def post(self, request):
        data = dict(_valid(ComplaintReceiveInputSerializer, request.data))
        if "complaint_kind" in data:
            data["kind"] = data.pop("complaint_kind")
        data["agency"] = _agency(data["agency"], "agency")
        if "received_by" in data:
            data["received_by"] = _agency(data["received_by"], "received_by")
        # ``case`` stays an id: the supervising office may name a case it cannot open, and the
        # service looks it up within the agency once the office's right is established.
        complaint = proceeding_services.complaint_receive(actor=request.user, **data)
        return Response(ComplaintOutputSerializer(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintHandleView(StaffView):
    @_post_schema(
        "staff_complaints_handle",
        "投诉举报处理结果 / Handle a complaint",
        ComplaintHandleInputSerializer,
        ComplaintOutputSerializer,
    )
    def post(self, request, pk: int):
        complaint = complaint_get(user=request.user, pk=_pk(pk))
        complaint = proceeding_services.complaint_handle(
            complaint=complaint,
            actor=request.user,
            **_valid(ComplaintHandleInputSerializer, request.data),
        )
        return Response(ComplaintOutputSerializer(complaint).data)


class FeeComputeView(StaffView):
    @_post_schema(
        "staff_fees_compute",
        "计算信息处理费（不发通知）/ Compute the fee",
        FeeInputSerializer,
        FeeComputationOutputSerializer,
        statuses=(400, 401, 403, 404, 415),
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        computation = fee_services.fee_compute_for_case(
            case=case, **_valid(FeeInputSerializer, request.data)
        )
        return Response(computation.as_dict())


class FeeIssueView(StaffView):
    @_post_schema(
        "staff_fees_issue",
        "计算并发出收费通知 / Issue the fee notice",
        FeeInputSerializer,
        FeeComputationOutputSerializer,
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        _case, computation = fee_services.fee_issue_for_case(
            case=case, actor=request.user, **_valid(FeeInputSerializer, request.data)
        )
        return Response(computation.as_dict())


class FeeWaiveView(StaffView):
    @_post_schema(
        "staff_fees_waive",
        "减免信息处理费 / Waive the fee",
        FeeWaiveInputSerializer,
        FeeNoticeOutputSerializer,
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        fee_services.fee_waive(
            case=case, actor=request.user, **_valid(FeeWaiveInputSerializer, request.data)
        )
        return Response(
            FeeNoticeOutputSerializer(case.fee_notices.order_by("-issued_on", "-pk").first()).data
        )


class LetterDraftView(StaffView):
    @extend_schema(
        operation_id="staff_letters_draft",
        summary="制作文书（PDF 与 DOCX）/ Draft a letter",
        tags=TAGS,
        request=LetterDraftInputSerializer,
        responses={201: LetterOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk)
        letter = letter_services.letter_draft(
            case=case, actor=request.user, **_valid(LetterDraftInputSerializer, request.data)
        )
        return Response(LetterOutputSerializer(letter).data, status=status.HTTP_201_CREATED)


class LetterServeView(StaffView):
    @_post_schema(
        "staff_letters_serve",
        "送达文书 / Serve a letter",
        LetterServeInputSerializer,
        LetterOutputSerializer,
    )
    def post(self, request, pk: int):
        letter = letter_get(user=request.user, pk=_pk(pk))
        letter = letter_services.letter_serve(
            letter=letter, actor=request.user, **_valid(LetterServeInputSerializer, request.data)
        )
        return Response(LetterOutputSerializer(letter).data)


def _letter_file_view(fmt: str, content_type: str):
    class FileRenderer(BaseRenderer):
        # Lets a client ask for the file's own type; the view answers with the file itself.
        media_type = content_type
        format = fmt

        def render(self, data, accepted_media_type=None, renderer_context=None):
            return data

    class View(StaffView):
        renderer_classes = [*StaffView.renderer_classes, FileRenderer]

        @extend_schema(
            operation_id=f"staff_letters_{fmt}",
            summary=f"下载文书 {fmt.upper()} / Download the letter as {fmt.upper()}",
            tags=TAGS,
            responses={
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY),
                **error_responses(401, 403, 404),
            },
        )
        def get(self, request, pk: int):
            letter = letter_get(user=request.user, pk=_pk(pk))
            field = getattr(letter, fmt)
            if not field:
                raise CaseNotFound("文书文件不存在。", "The letter file is missing.")
            return FileResponse(
                field.open("rb"),
                as_attachment=True,
                filename=f"{letter.number}{letter.title}.{fmt}",
                content_type=content_type,
            )

    View.__name__ = f"Letter{fmt.title()}View"
    return View


LetterPdfView = _letter_file_view("pdf", "application/pdf")
LetterDocxView = _letter_file_view(
    "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)


class RepeatedRequestsView(StaffView):
    @extend_schema(
        operation_id="staff_repeated_requests",
        summary="多人申请的相同信息（条例第四十四条）/ Information asked for by several applicants",
        tags=TAGS,
        parameters=[RepeatedRequestsFilterInputSerializer],
        responses={
            200: RepeatedRequestOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request):
        data = _valid(RepeatedRequestsFilterInputSerializer, request.query_params.dict())
        agency = _agency(data["agency"], "agency")
        if agency not in agencies_visible(request.user):
            raise CaseNotFound("未找到该机关。", "No such agency.")
        groups = repeated_requests(
            agency=agency,
            recent=data["recent"],
            threshold=data["threshold"],
            min_applicants=data["min_applicants"],
        )
        return Response([g.as_dict() for g in groups])


urlpatterns_legal = [
    ("staff/cases/<int:pk>/legal/", CaseLegalView, "staff-case-legal"),
    ("staff/cases/<int:pk>/reviews/", CaseReviewFileView, "staff-case-review-file"),
    ("staff/cases/<int:pk>/lawsuits/", CaseLawsuitFileView, "staff-case-lawsuit-file"),
    ("staff/cases/<int:pk>/fee/compute/", FeeComputeView, "staff-case-fee-compute"),
    ("staff/cases/<int:pk>/fee/issue/", FeeIssueView, "staff-case-fee-issue"),
    ("staff/cases/<int:pk>/fee/waive/", FeeWaiveView, "staff-case-fee-waive"),
    ("staff/cases/<int:pk>/letters/", LetterDraftView, "staff-case-letter-draft"),
    ("staff/reviews/<int:pk>/accept/", ReviewAcceptView, "staff-review-accept"),
    ("staff/reviews/<int:pk>/answer/", ReviewAnswerView, "staff-review-answer"),
    ("staff/reviews/<int:pk>/extend/", ReviewExtendView, "staff-review-extend"),
    ("staff/reviews/<int:pk>/decide/", ReviewDecideView, "staff-review-decide"),
    ("staff/lawsuits/<int:pk>/defend/", LawsuitDefendView, "staff-lawsuit-defend"),
    ("staff/lawsuits/<int:pk>/decide/", LawsuitDecideView, "staff-lawsuit-decide"),
    ("staff/complaints/", ComplaintListView, "staff-complaint-list"),
    ("staff/complaints/<int:pk>/handle/", ComplaintHandleView, "staff-complaint-handle"),
    ("staff/letters/<int:pk>/serve/", LetterServeView, "staff-letter-serve"),
    ("staff/letters/<int:pk>/pdf/", LetterPdfView, "staff-letter-pdf"),
    ("staff/letters/<int:pk>/docx/", LetterDocxView, "staff-letter-docx"),
    ("staff/repeated-requests/", RepeatedRequestsView, "staff-repeated-requests"),
]


def urls():
    from django.urls import path

    return [path(route, view.as_view(), name=name) for route, view, name in urlpatterns_legal]
