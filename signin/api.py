"""``/api/v1/staff/tokens/``: a caseworker's own integration tokens (docs/api.md "Tokens").

Created with a password sign-in (HTTP Basic or the admin's session), never with a token, so a
leaked token cannot make itself another. The token is in the creation's answer only.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from requests_app.api.common import error_responses
from requests_app.api.staff import StaffView
from requests_app.services.errors import ActionForbidden, CaseNotFound
from signin.models import ApiToken
from signin.tokens import token_create, token_revoke


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["token_key", "name", "created", "expiry"]
        extra_kwargs = {
            "token_key": {"help_text": "令牌的前 15 个字符 / The token's first 15 characters."},
            "expiry": {"help_text": "到期时间，空为不过期 / When it expires; null: never."},
        }


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    token = serializers.CharField(
        help_text="令牌本身，仅此一次显示 / The token itself, shown this once only."
    )

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = ["token", *ApiTokenOutputSerializer.Meta.fields]


class _TextField(serializers.CharField):
    """Text only: DRF's CharField would take the number 0 as the name "0"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("须为文本。", code="invalid")
        return super().to_internal_value(data)


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = _TextField(max_length=100, help_text="用途，如“档案系统同步” / What it is for.")
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="有效天数，默认见 API_TOKEN_TTL_DAYS / Days valid; default API_TOKEN_TTL_DAYS.",
    )


class ApiTokenListView(StaffView):
    @extend_schema(
        operation_id="staff_tokens_list",
        summary="我的接口令牌 / My integration tokens",
        tags=["staff"],
        responses={200: ApiTokenOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        tokens = ApiToken.objects.filter(user=request.user)
        return Response(ApiTokenOutputSerializer(tokens, many=True).data)

    @extend_schema(
        operation_id="staff_tokens_create",
        summary="新建接口令牌 / Create an integration token",
        description=(
            "令牌只在此次返回中出现，系统仅保存其摘要。须用密码登录（HTTP Basic 或会话）创建，"
            "不能用令牌创建令牌。/ The token appears in this answer only; only its digest is "
            "kept. Create it with a password sign-in (HTTP Basic or the session), never with "
            "a token."
        ),
        tags=["staff"],
        request=ApiTokenCreateInputSerializer,
        responses={201: ApiTokenCreatedOutputSerializer, **error_responses(400, 401, 403, 415)},
    )
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            raise ActionForbidden(
                "不能用接口令牌创建令牌，请用密码登录。",
                "A token cannot create tokens; sign in with a password.",
            )
        serializer = ApiTokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = token_create(user=request.user, **serializer.validated_data)
        body = {"token": secret, **ApiTokenOutputSerializer(token).data}
        return Response(body, status=201)


class ApiTokenDetailView(StaffView):
    @extend_schema(
        operation_id="staff_tokens_revoke",
        summary="吊销接口令牌 / Revoke an integration token",
        tags=["staff"],
        request=None,
        responses={
            204: OpenApiResponse(description="已吊销 / Revoked."),
            **error_responses(401, 403, 404),
        },
    )
    def delete(self, request, token_key: str):
        token = ApiToken.objects.filter(user=request.user, token_key=token_key).first()
        if token is None:
            raise CaseNotFound("未找到该令牌。", "No such token.")
        token_revoke(token=token, actor=request.user)
        return Response(status=204)


def urls():
    from django.urls import path

    return [
        path("api/v1/staff/tokens/", ApiTokenListView.as_view(), name="staff-token-list"),
        path(
            "api/v1/staff/tokens/<str:token_key>/",
            ApiTokenDetailView.as_view(),
            name="staff-token-detail",
        ),
    ]
