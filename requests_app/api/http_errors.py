"""``handler400`` for requests Django refuses before a view answers: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), too many fields or files, a malformed header. Under
/api/ they answer in the API's error shape (``{code, message, message_en, fields}``), never
as Django's HTML page; elsewhere (the admin) Django's own page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.views.defaults import bad_request as django_bad_request

from requests_app.api.errors import error_body


def bad_request(request, exception=None):
    if not request.path.startswith("/api/"):
        return django_bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = error_body(
            "request_too_large",
            f"请求内容过大（上限 {limit} 字节）。",
            f"The request body is too large ({limit} bytes at most).",
        )
        status = 413
    else:
        body = error_body("bad_request", "请求无效。", "Bad request.")
        status = 400
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
