"""The staff API: caseworkers list, read and act on the cases of their agency.

Session or HTTP Basic authentication; only users with a ``Caseworker`` record (or superusers).
Every read goes through ``requests_app.selectors`` (permission-scoped: another agency's case is
a 404, exactly like one that does not exist) and every change through one service of
``requests_app.services.cases.ACTIONS``: the views here validate and translate, nothing more.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from config.logmask import mask_url
from requests_app.api.common import (
    IDEMPOTENCY_KEY_PARAMETER,
    PARSERS,
    RENDERERS,
    body_fingerprint,
    error_responses,
    idempotency_key,
    jsonable,
)
from requests_app.api.serializers import (
    ACTION_INPUT_SERIALIZERS,
    CaseDetailOutputSerializer,
    CaseIntakeInputSerializer,
    CaseIntakeOutputSerializer,
    CaseListFilterInputSerializer,
    CaseListOutputSerializer,
)
from requests_app.models import Case
from requests_app.permissions import (
    can_view_personal_data,
    caseworker_of,
    is_staff_member,
)
from requests_app.selectors import case_get, case_list, case_visible
from requests_app.services.cases import ACTIONS, case_available_actions
from requests_app.services.errors import CaseNotFound
from requests_app.services.intake import case_intake, idempotent
from signin.authentication import STAFF_AUTHENTICATION_CLASSES

audit_logger = logging.getLogger("requests_app.audit")

# Primary keys beyond a 64-bit integer cannot exist; looking them up would overflow the driver.
MAX_PK = 2**63 - 1
# Actions that are not state-machine transitions, offered beside the available transitions.
NON_TRANSITION_ACTIONS = ("assign", "note", "record_search")


class IsCaseworker(BasePermission):
    """A caseworker of some agency, or a superuser. Which cases they see and what they may
    do to each is decided by the selectors and services, per case."""

    message = "仅限工作人员使用。/ Caseworkers only."

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)


class CaseListPagination(LimitOffsetPagination):
    """DRF's limit/offset, strict: a malformed or out-of-range value is a 400, not ignored."""

    default_limit = 50
    max_limit = 500
    max_offset = 10**9

    def _number(self, request, name: str, default: int | None, low: int, high: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ValidationError({name: [f"须为 {low} 至 {high} 之间的整数。"]})
        return value

    def get_limit(self, request):
        return self._number(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, 0, 0, self.max_offset)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: (1, self.max_limit),
            self.offset_query_param: (0, self.max_offset),
        }
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters


class StaffView(APIView):
    # Basic first: an anonymous request gets 401 with a WWW-Authenticate challenge.
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = [IsCaseworker]
    parser_classes = PARSERS
    renderer_classes = RENDERERS


def visible_case_get(request, pk: int, *, with_history: bool = True) -> Case:
    """The case if ``request.user`` may see it; CaseNotFound (404) otherwise, the same for a
    case that does not exist and one of another agency."""
    if pk <= MAX_PK:
        if with_history:
            return case_get(user=request.user, pk=pk)
        case = case_visible(user=request.user).select_related("agency").filter(pk=pk).first()
        if case is not None:
            return case
    raise CaseNotFound("未找到该申请。", "No such case.")


def allowed_actions(case: Case, user) -> list[str]:
    """The actions ``user`` may take on ``case`` now (``case_available_actions``), in the
    order of ``ACTIONS``."""
    names = case_available_actions(case=case, user=user)
    return [name for name in ACTIONS if name in names]


def case_detail_data(request, case: Case, serializer_class=CaseDetailOutputSerializer, **context):
    user = request.user
    show = can_view_personal_data(user)
    if show:
        # Access to a full record (unmasked personal data) is logged (docs/api.md).
        audit_logger.info(
            "personal data shown: user=%s case=%s path=%s",
            user.get_username(),
            case.tracking_number,
            request.path,
        )
    return serializer_class(
        case,
        context={
            "request": request,
            "show_personal_data": show,
            "allowed_actions": allowed_actions(case, user),
            **context,
        },
    ).data


@extend_schema_view(
    get=extend_schema(
        operation_id="staff_cases_list",
        summary="申请列表 / List cases",
        tags=["staff"],
        parameters=[CaseListFilterInputSerializer],
        responses={200: CaseListOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    post=extend_schema(
        operation_id="staff_cases_intake",
        summary="窗口登记申请 / Counter intake",
        description=(
            "登记员录入当面、口头或信函申请。/ A registrar enters an application handed in at "
            "the counter, oral, or by post. Returns the case and its access code (shown once)."
        ),
        tags=["staff"],
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=CaseIntakeInputSerializer,
        responses={201: CaseIntakeOutputSerializer, **error_responses(400, 401, 403, 415)},
    ),
)
class StaffCaseListView(mixins.ListModelMixin, StaffView, GenericAPIView):
    serializer_class = CaseListOutputSerializer
    pagination_class = CaseListPagination
    queryset = Case.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting the view
            return Case.objects.none()
        filters = CaseListFilterInputSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return case_list(
            user=self.request.user,
            state=data.get("state"),
            agency=data.get("agency"),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            due_before=data.get("due_before"),
            handler_id=data.get("handler"),
            outcome=data.get("outcome"),
            is_open=data.get("open"),
            search=data.get("q"),
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_personal_data"] = can_view_personal_data(self.request.user)
        return context

    def get(self, request, *args, **kwargs):
        response = self.list(request, *args, **kwargs)
        if can_view_personal_data(request.user):
            # Unmasked ID numbers and phones of a page of applicants: logged like a full record.
            audit_logger.info(
                "personal data listed: user=%s cases=%s path=%s",
                request.user.get_username(),
                ",".join(row["tracking_number"] for row in response.data["results"]),
                mask_url(request.get_full_path()),  # ?q= may be a phone or an ID number
            )
        return response

    def post(self, request):
        key = idempotency_key(request)
        serializer = CaseIntakeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agency = data.get("agency")
        if agency is None:
            worker = caseworker_of(request.user)
            if worker is None:
                raise ValidationError({"agency": ["请填写受理机关代码。"]})
            agency = worker.agency

        def run():
            case, access_code = case_intake(
                actor=request.user,
                agency=agency,
                channel=data["channel"],
                fields=serializer.applicant_fields(),
                received_on=data.get("received_on"),
                effective_at=data.get("effective_at"),
            )
            case = case_get(user=request.user, pk=case.pk)
            body = case_detail_data(
                request, case, CaseIntakeOutputSerializer, access_code=access_code
            )
            return 201, jsonable(body), case

        status, body, replayed = idempotent(
            scope=f"staff:intake:{request.user.pk}",
            key=key,
            fingerprint=body_fingerprint(request.data),
            run=run,
        )
        response = Response(body, status=status)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class StaffCaseDetailView(StaffView):
    @extend_schema(
        operation_id="staff_cases_retrieve",
        summary="申请详情、办理记录与期限说明 / One case with its history and clock",
        tags=["staff"],
        responses={200: CaseDetailOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(case_detail_data(request, visible_case_get(request, pk)))


class CaseActionView(StaffView):
    """POST one action of ``services.cases.ACTIONS`` on one case; answers with the case."""

    action_name: str = ""
    input_serializer_class = None

    def post(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        ACTIONS[self.action_name](case=case, actor=request.user, **serializer.validated_data)
        return Response(case_detail_data(request, case_get(user=request.user, pk=case.pk)))


def _action_view(action: str) -> type[CaseActionView]:
    input_serializer = ACTION_INPUT_SERIALIZERS[action]
    service = ACTIONS[action]
    summary = (service.__doc__ or action).strip().splitlines()[0]
    camel = "".join(part.title() for part in action.split("_"))
    view = type(
        f"Case{camel}ActionView",
        (CaseActionView,),
        {"action_name": action, "input_serializer_class": input_serializer},
    )
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"staff_cases_{action}",
            summary=f"{action}: {summary}",
            tags=["staff actions"],
            request=input_serializer,
            responses={
                200: OpenApiResponse(
                    CaseDetailOutputSerializer, description="办理后的申请 / The case."
                ),
                **error_responses(400, 401, 403, 404, 409, 415),
            },
        )
    )(view)


ACTION_VIEWS: dict[str, type[CaseActionView]] = {action: _action_view(action) for action in ACTIONS}
