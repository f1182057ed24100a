"""One JSON error shape for every API answer that is not a success.

``{"code": "...", "message": "中文", "message_en": "English", "fields": {"field": ["..."]}}``

``code`` is stable and meant for programs; the messages are for people. ``fields`` names the
inputs that were wrong (empty when the error is not about one input). Service errors keep
their own code and status; DRF's exceptions are translated here so that no request answers
with DRF's default ``{"detail": ...}`` shape or with a 500.
"""

from __future__ import annotations

import functools
import logging
import math
import re

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
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


def wait_in_words(seconds: int) -> tuple[str, str]:
    """A wait for people, in Chinese and English, rounded up to the minute once it is a
    minute or more: 3600 → ("1 小时", "1 hour"), 3700 → ("1 小时 2 分钟", "1 hour 2 minutes"),
    90 → ("2 分钟", "2 minutes"), 30 → ("30 秒", "30 seconds")."""
    if seconds < 60:
        return f"{seconds} 秒", f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    chinese = " ".join(
        part
        for part in (f"{hours} 小时" if hours else "", f"{minutes} 分钟" if minutes else "")
        if part
    )
    english = " ".join(
        part
        for part in (
            f"{hours} hour{'s' if hours != 1 else ''}" if hours else "",
            f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else "",
        )
        if part
    )
    return chinese, english


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


# Bodies Django refuses to read (over DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields or files).
REQUEST_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def request_too_large_body() -> dict:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(
        "request_too_large",
        f"请求内容过大（上限 {limit} 字节）。",
        f"The request body is too large ({limit} bytes at most).",
    )


# Inputs of the API that are no model field, or whose model field's name means something
# else there; every other input is named by the verbose_name of the model field it fills.
API_FIELD_LABELS = {
    "non_field_errors": "提交的数据",
    "agency": "受理机关",
    "access_code": "查询码",
    "expected_version": "版本号",
    "received_on": "收到日期",
    "on": "日期",
    "filed_on": "提起日期",
    "items": "补正事项",
    "period_days": "补正期限（工作日）",
    "consultee": "征求意见对象",
    "consultee_kind": "征求意见对象类型",
    "opinion": "意见",
    "days": "延长工作日数",
    "reply_by": "答复期限",
    "comment": "审核意见",
    "text": "备注",
    "submitted_on": "提交日期",
    "complaint_kind": "投诉举报类型",
    "letter_kind": "文书类型",
    "reply": "答复书",
    "pages": "页数",
    "carrier": "邮寄企业",
    "entrusted_to": "受托送达人",
    "searched_on": "检索日期",
    "keywords": "检索关键词",
    "sources": "检索的档案和系统",
    "units_asked": "询问的单位",
    "q": "查询内容",
    "open": "是否未办结",
    "due_before": "答复期限早于",
    "received_from": "收到日期起",
    "received_to": "收到日期止",
    "descendants": "含下级机关",
    "min_applicants": "最少申请人数",
    "recent": "近期天数",
    "threshold": "相似度阈值",
    "limit": "每页条数",
    "offset": "起始位置",
}
_PROJECT_APPS = ("requests_app", "reporting")


@functools.cache
def _model_field_labels() -> dict[str, str]:
    """Field name → Chinese verbose_name over the project's models (a case's fields first)."""
    models = sorted(
        (m for m in apps.get_models() if m._meta.app_label in _PROJECT_APPS),
        key=lambda m: m._meta.model_name != "case",
    )
    labels: dict[str, str] = {}
    for model in models:
        for field in model._meta.get_fields():
            verbose = str(getattr(field, "verbose_name", "") or "")
            if verbose and not re.search(r"[A-Za-z]", verbose):
                labels.setdefault(field.name, verbose)
    return labels


def field_label(name: str) -> str:
    """The Chinese name of an input (``items.0`` is named by ``items``); the name itself when
    none is known."""
    head = name.split(".", 1)[0]
    return API_FIELD_LABELS.get(head) or _model_field_labels().get(head) or name


def validation_error_body(detail) -> dict:
    fields = _flatten(detail)
    labels = "、".join(dict.fromkeys(field_label(name) for name in fields))
    return error_body(
        "invalid",
        f"提交的数据有误：{labels}。",
        f"Invalid input: {', '.join(fields)}.",
        fields,
    )


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every error as ``{code, message, message_en, fields}``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, REQUEST_TOO_LARGE):
        # Raised when the view reads the body. Left to Django, it would become handler400's
        # answer with DEBUG off but the HTML debug page with DEBUG on: answer here, always.
        body = request_too_large_body()
        status = 413
    elif isinstance(exc, ServiceError):
        body = error_body(exc.code, exc.message, exc.message_en, exc.fields)
        status = exc.status
        headers.update(getattr(exc, "headers", None) or {})
    elif isinstance(exc, exceptions.ValidationError):
        body = validation_error_body(exc.detail)
        status = 400
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else 60
        headers["Retry-After"] = str(wait)  # seconds, for programs
        in_chinese, in_english = wait_in_words(wait)
        body = error_body(
            "throttled",
            f"请求过于频繁，请 {in_chinese}后再试。",
            f"Too many requests; retry in {in_english}.",
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
