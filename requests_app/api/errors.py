"""One JSON error shape for every API answer that is not a success.

``{"code": "...", "message": "中文", "message_en": "English", "fields": {"field": ["..."]}}``

``code`` is stable and meant for programs; the messages are for people. ``fields`` names the
inputs that were wrong (empty when the error is not about one input). Service errors keep
their own code and status; DRF's exceptions are translated here so that no request answers
with DRF's default ``{"detail": ...}`` shape or with a 500.
"""

from __future__ import annotations

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from requests_app.services.errors import ServiceError

logger = logging.getLogger(__name__)

# (code, Chinese message, English message) for DRF's own exceptions, by class.
_DRF_ERRORS: list[tuple[type[exceptions.APIException], str, str, str]] = [
    (exceptions.NotAuthenticated, "not_authenticated", "请先登录。", "Authentication required."),
    (
        exceptions.AuthenticationFailed,
        "authentication_failed",
        "用户名或密码不正确。",
        "Invalid credentials.",
    ),
    (exceptions.PermissionDenied, "forbidden", "您无权执行此操作。", "You may not do this."),
    (exceptions.NotFound, "not_found", "未找到。", "Not found."),
    (
        exceptions.ParseError,
        "malformed_request",
        "请求内容不是有效的 JSON。",
        "The request body is not valid JSON.",
    ),
    (
        exceptions.UnsupportedMediaType,
        "unsupported_media_type",
        "请求内容类型不受支持，请使用 application/json。",
        "Unsupported content type; send application/json.",
    ),
    (
        exceptions.MethodNotAllowed,
        "method_not_allowed",
        "不支持该请求方法。",
        "This HTTP method is not allowed here.",
    ),
    (
        exceptions.NotAcceptable,
        "not_acceptable",
        "无法按所请求的格式返回，请接受 application/json。",
        "Cannot answer in the requested format; accept application/json.",
    ),
]


def error_body(code: str, message: str, message_en: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "message_en": message_en, "fields": fields or {}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": [messages]}`` (nested keys joined by dots)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, messages in _flatten(value, name).items():
                out.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                for sub, messages in _flatten(
                    value, f"{prefix}.{index}" if prefix else str(index)
                ).items():
                    out.setdefault(sub, []).extend(messages)
            else:
                out.setdefault(prefix or "non_field_errors", []).append(str(value))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def validation_error_body(detail) -> dict:
    fields = _flatten(detail)
    names = ", ".join(fields)
    return error_body(
        "invalid",
        f"提交的数据有误：{names}。",
        f"Invalid input: {names}.",
        fields,
    )


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every error as ``{code, message, message_en, fields}``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, ServiceError):
        body = error_body(exc.code, exc.message, exc.message_en, exc.fields)
        status = exc.status
        headers.update(getattr(exc, "headers", None) or {})
    elif isinstance(exc, exceptions.ValidationError):
        body = validation_error_body(exc.detail)
        status = 400
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else 60
        headers["Retry-After"] = str(wait)
        body = error_body(
            "throttled",
            f"请求过于频繁，请 {wait} 秒后再试。",
            f"Too many requests; retry in {wait} seconds.",
        )
        status = 429
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable (a restart, a failover): tell the client to retry.
        logger.warning("database unavailable: %s", exc)
        headers["Retry-After"] = "5"
        body = error_body(
            "service_unavailable",
            "服务暂时不可用，请稍后重试。",
            "The service is temporarily unavailable; please retry.",
        )
        status = 503
    elif isinstance(exc, exceptions.APIException):
        known = next((row for row in _DRF_ERRORS if isinstance(exc, row[0])), None)
        if known is not None:
            _cls, code, message, message_en = known
        else:
            code, message, message_en = exc.default_code, str(exc.detail), str(exc.detail)
        body = error_body(code, message, message_en)
        status = exc.status_code
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    else:
        return None  # a bug: let Django log it and answer 500

    set_rollback()
    return Response(body, status=status, headers=headers)


def not_found(request, exception=None):
    """``handler404``: a URL no route matches answers in the API's shape under /api/ (an action
    name that does not exist, an id that is not a number), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("not_found", "未找到。", "Not found."),
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return page_not_found(request, exception)
