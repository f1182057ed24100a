"""``handler400`` for requests Django refuses outside the API's views: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), too many fields or files, a malformed header. Under
/api/ they answer in the API's error shape (``{code, message, message_en, fields}``), never
as Django's HTML page; elsewhere (the admin) Django's own page. (Django calls it only with
DEBUG off; the API's views answer the same 413 themselves in every setting, through
``errors.exception_handler``.)"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.defaults import bad_request as django_bad_request

from requests_app.api.errors import REQUEST_TOO_LARGE, error_body, request_too_large_body


def bad_request(request, exception=None):
    if not request.path.startswith("/api/"):
        return django_bad_request(request, exception)
    if isinstance(exception, REQUEST_TOO_LARGE):
        body = request_too_large_body()
        status = 413
    else:
        body = error_body("bad_request", "请求无效。", "Bad request.")
        status = 400
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
