"""The records API: a case's files, their review (区分处理), the release copy, the applicant's
download and the reading room.

Staff endpoints sit under ``staff/cases/<pk>/``; every read goes through the permission-scoped
selectors (another agency's case is a 404) and every change through one service of
``requests_app.services.records``. Files are answered by these views only, each download
logged; the applicant's download takes the tracking number and the access code in a POST body,
never in a URL.
"""

from __future__ import annotations

import json

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from requests_app.api.common import error_responses
from requests_app.api.public import PublicView
from requests_app.api.serializers import (
    ApplicationTrackInputSerializer,
    SimilarPublishedOutputSerializer,
)
from requests_app.api.staff import MAX_PK, CaseListPagination, StaffView, visible_case_get
from requests_app.api.throttling import (
    AgencyListThrottle,
    TrackingFailureThrottle,
    TrackingThrottle,
)
from requests_app.choices import (
    PageDecision,
    RecordKind,
    RecordPurpose,
    SuggestionState,
    WithholdBasis,
)
from requests_app.models import Case, Publication, Record, RecordPage, Region, Release, Suggestion
from requests_app.permissions import can_download_original
from requests_app.review import (
    agreeing_outcomes,
    release_approved,
    release_current,
    review_summary,
)
from requests_app.selectors import (
    case_get_public,
    publication_list,
    published_search,
    published_similar,
    record_list,
    release_list,
)
from requests_app.services import records as services
from requests_app.services.errors import ActionForbidden, CaseNotFound, InvalidInput
from requests_app.services.intake import access_code_matches, hash_access_code


class _FileRenderer(BaseRenderer):
    """Lets a client that asks for the file's type get it; errors are still JSON."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode()


class PdfRenderer(_FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class PngRenderer(_FileRenderer):
    media_type = "image/png"
    format = "png"


class OctetRenderer(_FileRenderer):
    media_type = "application/octet-stream"
    format = "bin"


PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF")}
NOT_FOUND = ("未找到。", "Not found.")


def _pk(value: int) -> int | None:
    return value if 0 < value <= MAX_PK else None


def _record(request, pk: int, record_id: int) -> Record:
    case = visible_case_get(request, pk, with_history=False)
    record = Record.objects.filter(case=case, pk=_pk(record_id)).select_related("case").first()
    if record is None:
        raise CaseNotFound("未找到该文件记录。", "No such record.")
    record.case = case
    return record


def _page(request, pk: int, record_id: int, index: int) -> RecordPage:
    record = _record(request, pk, record_id)
    page = RecordPage.objects.filter(record=record, index=index if index <= MAX_PK else -1).first()
    if page is None:
        raise CaseNotFound("未找到该页。", "No such page.")
    page.record = record
    return page


def _valid(request, pk: int, serializer_class):
    """The request's body, validated, once the case is known to be visible: a bad body is a
    400 whatever record, page or suggestion the URL names."""
    visible_case_get(request, pk, with_history=False)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _who(request) -> str:
    return request.user.get_username()


# --- serializers ----------------------------------------------------------------------------
class TextField(serializers.CharField):
    """Text only: a number or a boolean where text is expected is a 400, as the schema says
    (DRF's CharField would turn 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RegionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rect = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4)
    basis = serializers.ChoiceField(choices=WithholdBasis.choices)
    basis_label = serializers.CharField(source="get_basis_display")
    reason = serializers.CharField()
    from_suggestion = serializers.SerializerMethodField()

    def get_from_suggestion(self, region) -> bool:
        return region.suggestion_id is not None


class SuggestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    page = serializers.IntegerField(source="page.index", help_text="页码，从 0 起 / 0-based")
    kind = serializers.CharField(help_text="id_number, mobile, bank_card, name, term")
    text = serializers.CharField()
    rects = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4)
    )
    state = serializers.ChoiceField(choices=SuggestionState.choices)


class PageOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="从 0 起 / 0-based")
    number = serializers.IntegerField(help_text="从 1 起 / 1-based")
    width = serializers.FloatField(help_text="点 / points")
    height = serializers.FloatField(help_text="点 / points")
    decision = serializers.CharField(
        help_text="disclose, partial, withhold, irrelevant, duplicate；空为未审查 / empty: undecided"
    )
    decision_label = serializers.CharField(source="get_decision_display")
    basis = serializers.CharField(help_text="WithholdBasisEnum 之一，或空 / or empty")
    basis_label = serializers.CharField(source="get_basis_display")
    reason = serializers.CharField()
    regions = RegionOutputSerializer(many=True)
    suggestions = SuggestionOutputSerializer(many=True)


class RecordOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    source = serializers.CharField()
    document_number = serializers.CharField()
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    page_count = serializers.IntegerField()
    original_name = serializers.CharField()
    is_reviewable = serializers.BooleanField()
    conversion_note = serializers.CharField()
    purpose = serializers.ChoiceField(choices=RecordPurpose.choices)
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.SerializerMethodField()

    def get_uploaded_by(self, record) -> str:
        user = record.uploaded_by
        return (user.get_full_name() or user.get_username()) if user else "系统"


class RecordDetailOutputSerializer(RecordOutputSerializer):
    pages = PageOutputSerializer(many=True)


class RecordUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    title = TextField(max_length=300, required=False, allow_blank=True, default="")
    source = TextField(max_length=200, required=False, allow_blank=True, default="")
    document_number = TextField(max_length=100, required=False, allow_blank=True, default="")
    purpose = serializers.ChoiceField(
        choices=RecordPurpose.choices,
        required=False,
        default=RecordPurpose.RESPONSIVE,
        help_text="service_proof：送达凭证扫描件（送达后也可上传，不审查、不公开）/ a proof of "
        "service: allowed after the reply is served, never reviewed nor released.",
    )


class ReasonInputSerializer(serializers.Serializer):
    reason = TextField(max_length=500)


class PageDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=PageDecision.choices)
    basis = serializers.ChoiceField(choices=WithholdBasis.choices, required=False, default="")
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class RegionInputSerializer(serializers.Serializer):
    rect = serializers.ListField(
        child=serializers.FloatField(min_value=-1e6, max_value=1e6),
        min_length=4,
        max_length=4,
        help_text="[x0, y0, x1, y1]，单位为点，原点在页面左上角 / points, origin top-left",
    )
    basis = serializers.ChoiceField(choices=WithholdBasis.choices)
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class SuggestInputSerializer(serializers.Serializer):
    terms = serializers.ListField(
        child=TextField(max_length=100), max_length=50, required=False, default=list
    )
    names = serializers.ListField(
        child=TextField(max_length=100),
        max_length=50,
        required=False,
        default=list,
        help_text="第三方姓名 / names of third parties",
    )


class SuggestionAcceptInputSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=WithholdBasis.choices)
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class ReleaseFileOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    sha256 = serializers.CharField()
    page_count = serializers.IntegerField()


class ReleaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    sha256 = serializers.CharField()
    page_count = serializers.IntegerField()
    built_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    is_current = serializers.BooleanField()
    files = ReleaseFileOutputSerializer(many=True)


class WithheldRowOutputSerializer(serializers.Serializer):
    record = serializers.CharField()
    pages = serializers.CharField(source="pages_label")
    basis = serializers.CharField()
    basis_label = serializers.CharField()
    reason = serializers.CharField()


class RecordReviewOutputSerializer(serializers.Serializer):
    is_complete = serializers.BooleanField()
    undecided = serializers.ListField(child=serializers.CharField())
    unreviewable = serializers.ListField(child=serializers.CharField())
    released_pages = serializers.IntegerField()
    withheld_pages = serializers.IntegerField()
    regions = serializers.IntegerField()
    agreeing_outcomes = serializers.ListField(child=serializers.CharField(), allow_null=True)
    withheld = WithheldRowOutputSerializer(many=True, help_text="区分处理说明 / what is withheld")


class PublishInputSerializer(serializers.Serializer):
    title = TextField(max_length=300)
    summary = TextField(max_length=2000)


class PublicationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    agency = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField()
    files = serializers.SerializerMethodField()

    def get_agency(self, publication) -> dict:
        return {"code": publication.agency.code, "name": publication.agency.name}

    @extend_schema_field(ReleaseFileOutputSerializer(many=True))
    def get_files(self, publication):
        return ReleaseFileOutputSerializer(publication.release.files.all(), many=True).data


class StaffPublicationOutputSerializer(PublicationOutputSerializer):
    is_active = serializers.BooleanField()
    unpublished_at = serializers.DateTimeField(allow_null=True)
    unpublish_reason = serializers.CharField()


class PublishedListFilterInputSerializer(serializers.Serializer):
    q = TextField(
        max_length=200, required=False, allow_blank=True, help_text="检索词 / search words"
    )


class ApplicationReleaseDownloadInputSerializer(ApplicationTrackInputSerializer):
    file = serializers.IntegerField(min_value=1, max_value=MAX_PK, help_text="文件 id / file id")


class ApplicationReleaseOutputSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    sha256 = serializers.CharField()
    page_count = serializers.IntegerField()
    files = ReleaseFileOutputSerializer(many=True)


def record_detail(record: Record) -> dict:
    record = (
        Record.objects.filter(pk=record.pk)
        .select_related("uploaded_by")
        .prefetch_related("pages__regions", "pages__suggestions__page")
        .get()
    )
    return RecordDetailOutputSerializer(record).data


def release_data(release: Release, *, current: Release | None) -> dict:
    release.is_current = current is not None and current.pk == release.pk
    return ReleaseOutputSerializer(release).data


# --- staff: records -----------------------------------------------------------------------------
class RecordListView(StaffView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="staff_records_list",
        summary="申请的文件记录 / A case's records",
        tags=["staff records"],
        responses={200: RecordOutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        return Response(RecordOutputSerializer(record_list(case=case), many=True).data)

    @extend_schema(
        operation_id="staff_records_upload",
        summary="上传文件记录（multipart）/ Upload a record",
        description=(
            "PDF、JPEG、PNG、TIFF 可审查；DOCX 需安装 LibreOffice 才能转换；OFD 仅保存。"
            "类型按内容判断；大小、页数有上限；加密、损坏、空文件被拒绝且不保存；同一申请内相同文件"
            "（SHA-256）返回 409。/ Type decided by content; size and page limits; encrypted, "
            "broken or empty files are refused and nothing is stored; the same file twice is a 409."
        ),
        tags=["staff records"],
        request={"multipart/form-data": RecordUploadInputSerializer},
        responses={
            201: RecordDetailOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
            413: OpenApiResponse(description="文件过大 / File too large."),
        },
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        serializer = RecordUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        record = services.record_upload(
            case=case,
            actor=request.user,
            upload=upload,
            title=data["title"],
            source=data["source"],
            document_number=data["document_number"],
            original_name=upload.name,
            purpose=data["purpose"],
        )
        return Response(record_detail(record), status=201)


class RecordDetailView(StaffView):
    @extend_schema(
        operation_id="staff_records_retrieve",
        summary="文件记录及各页审查情况 / A record with its pages, regions, suggestions",
        tags=["staff records"],
        responses={200: RecordDetailOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int, record_id: int):
        return Response(record_detail(_record(request, pk, record_id)))


class RecordRemoveView(StaffView):
    @extend_schema(
        operation_id="staff_records_remove",
        summary="删除误传的文件记录 / Remove a record uploaded by mistake",
        tags=["staff records"],
        request=ReasonInputSerializer,
        responses={204: None, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int, record_id: int):
        serializer = _valid(request, pk, ReasonInputSerializer)
        record = _record(request, pk, record_id)
        services.record_remove(record=record, actor=request.user, **serializer.validated_data)
        return Response(status=204)


class RecordOriginalView(StaffView):
    renderer_classes = [JSONRenderer, OctetRenderer]

    @extend_schema(
        operation_id="staff_records_original",
        summary="下载原件（承办人、审核人、管理员、审计员）/ Download the original",
        tags=["staff records"],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, pk: int, record_id: int):
        record = _record(request, pk, record_id)
        if not can_download_original(request.user, record.case):
            raise ActionForbidden("您无权下载原件。", "You may not download the original.")
        services.log_download(
            who=_who(request), case=record.case, what=f"original:{record.pk}", via="api"
        )
        return FileResponse(
            record.file.open("rb"),
            as_attachment=True,
            filename=record.original_name or f"record-{record.pk}.{record.kind}",
            content_type="application/octet-stream",
        )


class PageImageView(StaffView):
    renderer_classes = [JSONRenderer, PngRenderer]

    @extend_schema(
        operation_id="staff_records_page_image",
        summary="页面图像（PNG）/ A page as an image",
        tags=["staff records"],
        parameters=[
            OpenApiParameter(
                "dpi", int, required=False, description="36–200，默认 96 / 36 to 200, default 96"
            )
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def get(self, request, pk: int, record_id: int, index: int):
        page = _page(request, pk, record_id, index)
        dpi = request.query_params.get("dpi")
        if dpi is not None:
            if not dpi.isdigit() or not 36 <= int(dpi) <= 200:
                raise InvalidInput(
                    "dpi 须为 36 至 200 之间的整数。",
                    "dpi must be 36 to 200.",
                    fields={"dpi": ["invalid"]},
                )
            dpi = int(dpi)
        services.log_download(
            who=_who(request),
            case=page.record.case,
            what=f"page:{page.record_id}:{page.index}",
            via="api",
        )
        response = HttpResponse(services.page_image(page, dpi=dpi), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response


class PageDecisionView(StaffView):
    @extend_schema(
        operation_id="staff_records_page_decide",
        summary="页面审查决定 / Set a page's decision",
        tags=["staff records"],
        request=PageDecisionInputSerializer,
        responses={200: PageOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int, record_id: int, index: int):
        serializer = _valid(request, pk, PageDecisionInputSerializer)
        page = _page(request, pk, record_id, index)
        services.page_decide(page=page, actor=request.user, **serializer.validated_data)
        return Response(_page_data(page))


def _page_data(page: RecordPage) -> dict:
    page = RecordPage.objects.prefetch_related("regions", "suggestions__page").get(pk=page.pk)
    return PageOutputSerializer(page).data


class RegionCreateView(StaffView):
    @extend_schema(
        operation_id="staff_records_region_add",
        summary="标注不予公开区域 / Mark a region to withhold",
        tags=["staff records"],
        request=RegionInputSerializer,
        responses={201: PageOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int, record_id: int, index: int):
        serializer = _valid(request, pk, RegionInputSerializer)
        page = _page(request, pk, record_id, index)
        services.region_add(page=page, actor=request.user, **serializer.validated_data)
        return Response(_page_data(page), status=201)


class RegionRemoveView(StaffView):
    @extend_schema(
        operation_id="staff_records_region_remove",
        summary="删除不予公开区域 / Remove a region",
        tags=["staff records"],
        request=None,
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, pk: int, region_id: int):
        case = visible_case_get(request, pk, with_history=False)
        region = (
            Region.objects.filter(page__record__case=case, pk=_pk(region_id))
            .select_related("page__record__case")
            .first()
        )
        if region is None:
            raise CaseNotFound("未找到该区域。", "No such region.")
        services.region_remove(region=region, actor=request.user)
        return Response(status=204)


class SuggestView(StaffView):
    @extend_schema(
        operation_id="staff_records_suggest",
        summary="查找需遮盖内容（身份证号、手机号、银行卡号、第三方姓名、检索词）/ Find what to withhold",
        tags=["staff records"],
        request=SuggestInputSerializer,
        responses={
            200: SuggestionOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk: int, record_id: int):
        serializer = _valid(request, pk, SuggestInputSerializer)
        record = _record(request, pk, record_id)
        services.suggestions_find(record=record, actor=request.user, **serializer.validated_data)
        pending = Suggestion.objects.filter(
            page__record=record, state=SuggestionState.PENDING
        ).select_related("page")
        return Response(SuggestionOutputSerializer(pending, many=True).data)


def _suggestion(request, pk: int, suggestion_id: int) -> Suggestion:
    case = visible_case_get(request, pk, with_history=False)
    suggestion = (
        Suggestion.objects.filter(page__record__case=case, pk=_pk(suggestion_id))
        .select_related("page__record__case")
        .first()
    )
    if suggestion is None:
        raise CaseNotFound("未找到该建议。", "No such suggestion.")
    return suggestion


class SuggestionAcceptView(StaffView):
    @extend_schema(
        operation_id="staff_records_suggestion_accept",
        summary="采纳遮盖建议 / Accept a suggestion",
        tags=["staff records"],
        request=SuggestionAcceptInputSerializer,
        responses={200: PageOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int, suggestion_id: int):
        serializer = _valid(request, pk, SuggestionAcceptInputSerializer)
        suggestion = _suggestion(request, pk, suggestion_id)
        services.suggestion_accept(
            suggestion=suggestion, actor=request.user, **serializer.validated_data
        )
        return Response(_page_data(suggestion.page))


class SuggestionRejectView(StaffView):
    @extend_schema(
        operation_id="staff_records_suggestion_reject",
        summary="不采纳遮盖建议 / Reject a suggestion",
        tags=["staff records"],
        request=None,
        responses={200: PageOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, pk: int, suggestion_id: int):
        suggestion = _suggestion(request, pk, suggestion_id)
        services.suggestion_reject(suggestion=suggestion, actor=request.user)
        return Response(_page_data(suggestion.page))


class ReviewView(StaffView):
    @extend_schema(
        operation_id="staff_records_review",
        summary="审查结果与区分处理说明 / The review: progress, agreeing outcomes, what is withheld",
        tags=["staff records"],
        responses={200: RecordReviewOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        summary = review_summary(case)
        allowed = agreeing_outcomes(summary)
        return Response(
            RecordReviewOutputSerializer(
                {
                    "is_complete": summary.is_complete,
                    "undecided": summary.undecided,
                    "unreviewable": summary.unreviewable,
                    "released_pages": summary.released_pages,
                    "withheld_pages": summary.withheld_pages,
                    "regions": summary.regions,
                    "agreeing_outcomes": sorted(allowed) if allowed is not None else None,
                    "withheld": summary.rows,
                }
            ).data
        )


# --- staff: releases and publications ---------------------------------------------------------
class ReleaseListView(StaffView):
    @extend_schema(
        operation_id="staff_releases_list",
        summary="公开文本（各版本）/ The release copies built",
        tags=["staff records"],
        responses={200: ReleaseOutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        current = release_current(case)
        return Response([release_data(r, current=current) for r in release_list(case=case)])

    @extend_schema(
        operation_id="staff_releases_build",
        summary="根据审查结果生成公开文本 / Build the release copy from the review",
        tags=["staff records"],
        request=None,
        responses={201: ReleaseOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        release = services.release_build(case=case, actor=request.user)
        return Response(release_data(release, current=release), status=201)


class ReleaseFileView(StaffView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="staff_releases_file",
        summary="下载公开文本 / Download a release file",
        tags=["staff records"],
        responses={**PDF_RESPONSE, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int, release_id: int, file_id: int):
        case = visible_case_get(request, pk, with_history=False)
        from requests_app.models import ReleaseFile

        item = (
            ReleaseFile.objects.filter(
                release__case=case, release_id=_pk(release_id), pk=_pk(file_id)
            )
            .select_related("release")
            .first()
        )
        if item is None:
            raise CaseNotFound("未找到该公开文本。", "No such release file.")
        services.log_download(
            who=_who(request), case=case, what=f"release:{item.release_id}:{item.pk}", via="api"
        )
        return release_file_response(item, case)


def release_file_response(item, case: Case) -> FileResponse:
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=f"{case.tracking_number}-{item.pk}.pdf",
        content_type="application/pdf",
    )


class ReleasePublishView(StaffView):
    @extend_schema(
        operation_id="staff_releases_publish",
        summary="转为主动公开（审核人）/ Publish an approved release to the reading room",
        tags=["staff records"],
        request=PublishInputSerializer,
        responses={
            201: StaffPublicationOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk: int, release_id: int):
        case = visible_case_get(request, pk, with_history=False)
        serializer = _valid(request, pk, PublishInputSerializer)
        release = (
            Release.objects.filter(case=case, pk=_pk(release_id)).select_related("case").first()
        )
        if release is None:
            raise CaseNotFound("未找到该公开文本。", "No such release.")
        publication = services.release_publish(
            release=release, actor=request.user, **serializer.validated_data
        )
        return Response(StaffPublicationOutputSerializer(publication).data, status=201)


class PublicationListView(StaffView):
    @extend_schema(
        operation_id="staff_publications_list",
        summary="本申请的主动公开记录 / The case's publications",
        tags=["staff records"],
        responses={
            200: StaffPublicationOutputSerializer(many=True),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        rows = publication_list(case=case)
        return Response(StaffPublicationOutputSerializer(rows, many=True).data)


class PublicationWithdrawView(StaffView):
    @extend_schema(
        operation_id="staff_publications_withdraw",
        summary="撤回主动公开（须说明理由）/ Unpublish, with the reason",
        tags=["staff records"],
        request=ReasonInputSerializer,
        responses={
            200: StaffPublicationOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk: int, publication_id: int):
        case = visible_case_get(request, pk, with_history=False)
        serializer = _valid(request, pk, ReasonInputSerializer)
        publication = (
            Publication.objects.filter(case=case, pk=_pk(publication_id))
            .select_related("case", "agency", "release")
            .first()
        )
        if publication is None:
            raise CaseNotFound("未找到该公开记录。", "No such publication.")
        publication = services.publication_withdraw(
            publication=publication, actor=request.user, **serializer.validated_data
        )
        return Response(StaffPublicationOutputSerializer(publication).data)


# --- the applicant's download -------------------------------------------------------------------
def applicant_release(request, view, data: dict) -> tuple[Case, Release]:
    """The approved release of the applicant's replied case, checked like tracking: an
    unknown number, a wrong code and a case with nothing to download answer alike."""
    case = case_get_public(tracking_number=data["tracking_number"])
    if case is None:
        hash_access_code(data["access_code"])
        matched = False
    else:
        matched = access_code_matches(case, data["access_code"])
    if not matched:
        TrackingFailureThrottle().record_failure(request, view)
        raise CaseNotFound(
            "未找到该申请，或查询码不正确。",
            "No application matches this tracking number and access code.",
        )
    release = release_approved(case) if case.replied_on else None
    if release is None:
        raise CaseNotFound("该申请没有可下载的公开文本。", "There is no release to download.")
    return case, release


class ApplicationReleaseView(PublicView):
    throttle_classes = [TrackingThrottle, TrackingFailureThrottle]

    @extend_schema(
        operation_id="applications_release",
        summary="答复提供的政府信息（文件列表）/ The released files of an answered application",
        description=(
            "用申请编号和查询码（在请求体中，不在网址中）。/ With the tracking number and the "
            "access code in the body, never in a URL."
        ),
        tags=["public"],
        request=ApplicationTrackInputSerializer,
        responses={
            200: ApplicationReleaseOutputSerializer,
            **error_responses(400, 404, 415, 429),
        },
    )
    def post(self, request):
        serializer = ApplicationTrackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case, release = applicant_release(request, self, serializer.validated_data)
        return Response(
            ApplicationReleaseOutputSerializer(
                {
                    "tracking_number": case.tracking_number,
                    "sha256": release.sha256,
                    "page_count": release.page_count,
                    "files": release.files.all(),
                }
            ).data
        )


class ApplicationReleaseDownloadView(PublicView):
    throttle_classes = [TrackingThrottle, TrackingFailureThrottle]
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="applications_release_download",
        summary="下载答复提供的政府信息（PDF）/ Download a released file",
        description="每次下载都记录在审计日志中。/ Every download is logged.",
        tags=["public"],
        request=ApplicationReleaseDownloadInputSerializer,
        responses={**PDF_RESPONSE, **error_responses(400, 404, 415, 429)},
    )
    def post(self, request):
        serializer = ApplicationReleaseDownloadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case, release = applicant_release(request, self, serializer.validated_data)
        item = release.files.filter(pk=serializer.validated_data["file"]).first()
        if item is None:
            raise CaseNotFound("未找到该文件。", "No such file in the release.")
        services.log_download(
            who="applicant", case=case, what=f"release:{release.pk}:{item.pk}", via="public-api"
        )
        return release_file_response(item, case)


# --- the reading room -----------------------------------------------------------------------------
class PublishedListView(PublicView, GenericAPIView):
    throttle_classes = [AgencyListThrottle]
    pagination_class = CaseListPagination
    serializer_class = PublicationOutputSerializer
    queryset = Publication.objects.none()

    @extend_schema(
        operation_id="published_list",
        summary="依申请公开转主动公开的信息 / The reading room",
        tags=["public"],
        parameters=[PublishedListFilterInputSerializer],
        responses={200: PublicationOutputSerializer(many=True), **error_responses(400, 429)},
    )
    def get(self, request):
        filters = PublishedListFilterInputSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        rows = published_search(filters.validated_data.get("q", ""))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(PublicationOutputSerializer(page, many=True).data)


class PublishedSimilarInputSerializer(serializers.Serializer):
    description = TextField(max_length=5000, help_text="所需信息内容描述")


class PublishedSimilarView(PublicView):
    throttle_classes = [AgencyListThrottle]  # the public reads' rate (THROTTLE_AGENCIES)

    @extend_schema(
        operation_id="published_similar",
        summary="与申请内容相似的已公开答复 / Published answers like a description",
        description=(
            "门户在申请人填写或提交申请时调用，展示已主动公开的相似答复（相似度为共有的两字片段比例）。"
            "/ A portal calls this while the applicant writes or right after submitting: the "
            "published answers most like the description (shared two-character pieces)."
        ),
        tags=["public"],
        request=PublishedSimilarInputSerializer,
        responses={
            200: SimilarPublishedOutputSerializer(many=True),
            **error_responses(400, 415, 429),
        },
    )
    def post(self, request):
        serializer = PublishedSimilarInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(published_similar(serializer.validated_data["description"]))


def _publication(publication_id: int) -> Publication:
    row = (
        Publication.objects.filter(is_active=True, pk=_pk(publication_id))
        .select_related("agency", "release", "case")
        .first()
    )
    if row is None:
        raise CaseNotFound(*NOT_FOUND)
    return row


class PublishedDetailView(PublicView):
    throttle_classes = [AgencyListThrottle]

    @extend_schema(
        operation_id="published_retrieve",
        summary="一条主动公开信息 / One published answer",
        tags=["public"],
        responses={200: PublicationOutputSerializer, **error_responses(404, 429)},
    )
    def get(self, request, publication_id: int):
        return Response(PublicationOutputSerializer(_publication(publication_id)).data)


class PublishedFileView(PublicView):
    throttle_classes = [AgencyListThrottle]
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="published_file",
        summary="下载主动公开的文件 / Download a published file",
        tags=["public"],
        responses={**PDF_RESPONSE, **error_responses(404, 429)},
    )
    def get(self, request, publication_id: int, file_id: int):
        publication = _publication(publication_id)
        item = publication.release.files.filter(pk=_pk(file_id)).first()
        if item is None:
            raise CaseNotFound(*NOT_FOUND)
        services.log_download(
            who="public",
            case=publication.case,
            what=f"published:{publication.pk}:{item.pk}",
            via="reading-room",
        )
        return FileResponse(
            item.file.open("rb"),
            as_attachment=True,
            filename=f"published-{publication.pk}-{item.pk}.pdf",
            content_type="application/pdf",
        )


def urls():
    from django.urls import path

    case = "staff/cases/<int:pk>/"
    record = case + "records/<int:record_id>/"
    page = record + "pages/<int:index>/"
    return [
        path(case + "records/", RecordListView.as_view(), name="staff-records"),
        path(record, RecordDetailView.as_view(), name="staff-record"),
        path(record + "remove/", RecordRemoveView.as_view(), name="staff-record-remove"),
        path(record + "original/", RecordOriginalView.as_view(), name="staff-record-original"),
        path(record + "suggest/", SuggestView.as_view(), name="staff-record-suggest"),
        path(page + "image/", PageImageView.as_view(), name="staff-page-image"),
        path(page + "decision/", PageDecisionView.as_view(), name="staff-page-decision"),
        path(page + "regions/", RegionCreateView.as_view(), name="staff-page-regions"),
        path(
            case + "regions/<int:region_id>/remove/",
            RegionRemoveView.as_view(),
            name="staff-region-remove",
        ),
        path(
            case + "suggestions/<int:suggestion_id>/accept/",
            SuggestionAcceptView.as_view(),
            name="staff-suggestion-accept",
        ),
        path(
            case + "suggestions/<int:suggestion_id>/reject/",
            SuggestionRejectView.as_view(),
            name="staff-suggestion-reject",
        ),
        path(case + "review/", ReviewView.as_view(), name="staff-review"),
        path(case + "releases/", ReleaseListView.as_view(), name="staff-releases"),
        path(
            case + "releases/<int:release_id>/files/<int:file_id>/",
            ReleaseFileView.as_view(),
            name="staff-release-file",
        ),
        path(
            case + "releases/<int:release_id>/publish/",
            ReleasePublishView.as_view(),
            name="staff-release-publish",
        ),
        path(case + "publications/", PublicationListView.as_view(), name="staff-publications"),
        path(
            case + "publications/<int:publication_id>/withdraw/",
            PublicationWithdrawView.as_view(),
            name="staff-publication-withdraw",
        ),
        path("applications/release/", ApplicationReleaseView.as_view(), name="application-release"),
        path(
            "applications/release/download/",
            ApplicationReleaseDownloadView.as_view(),
            name="application-release-download",
        ),
        path("published/", PublishedListView.as_view(), name="published-list"),
        path("published/similar/", PublishedSimilarView.as_view(), name="published-similar"),
        path(
            "published/<int:publication_id>/",
            PublishedDetailView.as_view(),
            name="published-detail",
        ),
        path(
            "published/<int:publication_id>/files/<int:file_id>/",
            PublishedFileView.as_view(),
            name="published-file",
        ),
    ]
