"""What every API view shares: JSON in and out, the error responses the schema documents,
and the Idempotency-Key header."""

from __future__ import annotations

import hashlib
import json
import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from requests_app.api.parsers import StrictJSONParser
from requests_app.api.serializers import ErrorOutputSerializer

PARSERS = [StrictJSONParser]
RENDERERS = [JSONRenderer]

_ERROR_DESCRIPTIONS = {
    400: "输入有误（fields 列出字段）/ Invalid input; `fields` names the inputs.",
    401: "未登录 / Not authenticated.",
    403: "无权执行 / Not allowed.",
    404: "未找到 / Not found.",
    409: "当前状态不允许，或已被他人修改 / Refused in this state, or changed by someone else.",
    415: "请使用 application/json / Send application/json.",
    429: "请求过于频繁（见 Retry-After）/ Throttled; see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorOutputSerializer, description=_ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_KEY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "重试同一请求时使用相同的值，返回首次结果而不会重复受理（1–200 个可见 ASCII 字符）/ "
        "Send the same value when retrying: the first answer is returned instead of a second "
        "application (1–200 visible ASCII characters)."
    ),
)
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


def idempotency_key(request) -> str | None:
    """The request's ``Idempotency-Key``, ``None`` when absent; a malformed one is a 400."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None or key == "":
        return None
    if not _KEY_RE.match(key):
        raise ValidationError(
            {IDEMPOTENCY_KEY_HEADER: ["须为 1–200 个可见 ASCII 字符。"]}, code="invalid"
        )
    return key


def body_fingerprint(data) -> str:
    """SHA-256 of the request body in canonical form (keys sorted, no insignificant space),
    so a retry with the keys in another order is still the same request."""
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=JSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def jsonable(data) -> dict:
    """Serializer output as plain JSON types, fit to store in a JSONField and replay."""
    return json.loads(json.dumps(data, cls=JSONEncoder))
