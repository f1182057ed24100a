"""The public API: applicants and portals submit applications and follow them. No login.

An applicant sees only their own case, with the tracking number and the access code returned
at submission; a wrong code answers exactly as an unknown tracking number does, and every such
failure counts against that application's ``tracking_failure`` throttle (per client) and the
client's wider ``tracking_enumeration`` throttle (see ``throttling``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.fields import DateTimeField
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from requests_app.api.common import (
    IDEMPOTENCY_KEY_PARAMETER,
    PARSERS,
    RENDERERS,
    body_fingerprint,
    error_responses,
    idempotency_key,
)
from requests_app.api.serializers import (
    AgencyOutputSerializer,
    ApplicationCreateInputSerializer,
    ApplicationCreateOutputSerializer,
    ApplicationStatusOutputSerializer,
    ApplicationTrackInputSerializer,
    agency_brief,
    labeled,
)
from requests_app.api.throttling import (
    AgencyListThrottle,
    SubmissionThrottle,
    TrackingEnumerationThrottle,
    TrackingFailureThrottle,
    TrackingThrottle,
)
from requests_app.choices import OPEN_STATES, CaseState, Outcome
from requests_app.clock import provisional_years_of
from requests_app.models import Agency, Case, CaseEvent, EventKind, FeeNotice
from requests_app.selectors import case_get_for_applicant
from requests_app.services.errors import CaseNotFound
from requests_app.services.intake import case_submit, idempotent

SUBMISSION_SCOPE = "public:application_submit"
# States in which the reply clock runs toward a date the applicant can be told.
_REPLY_CLOCK_HIDDEN = {CaseState.SUBMITTED, CaseState.AWAITING_SUPPLEMENT}


class PublicView(APIView):
    authentication_classes: list = []  # anonymous: no session, so no CSRF on a portal's POST
    permission_classes = [AllowAny]
    parser_classes = PARSERS
    renderer_classes = RENDERERS


class ApplicationCreateView(PublicView):
    throttle_classes = [SubmissionThrottle]

    @extend_schema(
        operation_id="applications_create",
        summary="提交政府信息公开申请 / Submit an application",
        tags=["public"],
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ApplicationCreateInputSerializer,
        responses={
            201: OpenApiResponse(
                ApplicationCreateOutputSerializer,
                description="已提交；重试时返回首次结果 / Submitted (or the first answer, replayed).",
            ),
            **error_responses(400, 415, 429),
        },
    )
    def post(self, request):
        key = idempotency_key(request)
        serializer = ApplicationCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agency = serializer.validated_data["agency"]
        fields = serializer.applicant_fields()

        def run():
            case, access_code = case_submit(agency=agency, fields=fields)
            return 201, submission_answer(case, access_code, agency), case

        status, body, replayed = idempotent(
            scope=SUBMISSION_SCOPE, key=key, fingerprint=body_fingerprint(request.data), run=run
        )
        response = Response(body, status=status)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


_DATETIME = DateTimeField()


def submission_answer(case: Case, access_code: str, agency: Agency) -> dict:
    """The 201 body, in the shape of ``ApplicationCreateOutputSerializer`` (the schema's) and
    in plain JSON types, fit to store for a replay. Built directly: the serializer gives the
    same dict, but copies its nested fields on every submission."""
    return {
        "tracking_number": case.tracking_number,
        "access_code": access_code,
        "state": labeled(CaseState, str(case.state)),
        "submitted_at": _DATETIME.to_representation(case.submitted_at),
        "agency": agency_brief(agency),
    }


def application_status(case: Case) -> dict:
    """What the applicant may see of their case: its state, the dates that concern them, and
    the outcome once concluded. Never the handler, internal notes, drafts or the history."""
    state = case.state
    concluded = state not in OPEN_STATES
    supplement_items = None
    supplement_due_on = None
    if state == CaseState.AWAITING_SUPPLEMENT:
        supplement_due_on = case.supplement_due_on
        request = (
            CaseEvent.objects.filter(case=case, kind=EventKind.REQUEST_SUPPLEMENT)
            .order_by("-effective_at", "-pk")
            .values_list("data", flat=True)
            .first()
        )
        supplement_items = (request or {}).get("items")
    fee_due_on = None
    fee_amount = None
    if state == CaseState.AWAITING_FEE:
        fee_due_on = case.fee_due_on
        fee_amount = (
            FeeNotice.objects.filter(case=case, paid_on__isnull=True, waived=False)
            .order_by("-issued_on", "-pk")
            .values_list("amount_yuan", flat=True)
            .first()
        )
    reply_due_on = None if concluded or state in _REPLY_CLOCK_HIDDEN else case.reply_due_on
    shown = {
        "reply_due_on": reply_due_on,
        "supplement_due_on": supplement_due_on,
        "fee_due_on": fee_due_on,
    }
    return {
        "tracking_number": case.tracking_number,
        "agency": agency_brief(case.agency),
        "state": labeled(CaseState, state),
        "submitted_at": case.submitted_at,
        "received_on": case.received_on,
        "is_extended": case.is_extended,
        "reply_due_on": reply_due_on,
        "supplement_due_on": supplement_due_on,
        "supplement_items": supplement_items,
        "fee_due_on": fee_due_on,
        "fee_amount_yuan": fee_amount,
        # A date shown above computed on a provisional calendar year (may move).
        "due_provisional": bool(
            provisional_years_of(case.clock, *(name for name, day in shown.items() if day))
        ),
        "outcome": labeled(Outcome, case.outcome) if concluded else None,
        "legal_basis": (case.legal_basis or None) if concluded else None,
        "replied_on": case.replied_on if concluded else None,
        "concluded_on": case.concluded_on if concluded else None,
    }


class ApplicationTrackView(PublicView):
    throttle_classes = [TrackingThrottle, TrackingEnumerationThrottle, TrackingFailureThrottle]
    failure_throttle_classes = (TrackingFailureThrottle, TrackingEnumerationThrottle)

    @extend_schema(
        operation_id="applications_track",
        summary="查询申请办理情况 / Follow an application",
        description=(
            "用申请编号和查询码查询。编号不存在与查询码错误返回相同的 404。同一客户端对同一申请编号"
            "的查询码错误次数过多后，该客户端对该编号的查询（即使查询码正确）返回 429，其他编号不受"
            "影响；同一客户端对各编号的错误总数过多后，其全部查询返回 429。/ With the tracking "
            "number and the access code (POST, so the code stays out of URLs and logs). An unknown "
            "number and a wrong code get the same 404. After too many wrong codes for one "
            "application a client gets 429 for that application, even with the right code, and "
            "other applications are not affected; after too many failures over all applications "
            "a client gets 429 for every one."
        ),
        tags=["public"],
        request=ApplicationTrackInputSerializer,
        responses={200: ApplicationStatusOutputSerializer, **error_responses(400, 404, 415, 429)},
    )
    def post(self, request):
        serializer = ApplicationTrackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_get_for_applicant(
            tracking_number=serializer.validated_data["tracking_number"],
            access_code=serializer.validated_data["access_code"],
        )
        if case is None:
            for throttle_class in self.failure_throttle_classes:
                throttle_class().record_failure(request, self)
            raise CaseNotFound(
                "未找到该申请，或查询码不正确。",
                "No application matches this tracking number and access code.",
            )
        return Response(ApplicationStatusOutputSerializer(application_status(case)).data)


class AgencyListView(PublicView):
    throttle_classes = [AgencyListThrottle]

    @extend_schema(
        operation_id="agencies_list",
        summary="受理机关列表 / The agencies that take applications",
        tags=["public"],
        responses={200: AgencyOutputSerializer(many=True), **error_responses(429)},
    )
    def get(self, request):
        agencies = Agency.objects.select_related("parent").order_by("path")
        return Response(AgencyOutputSerializer(agencies, many=True).data)
