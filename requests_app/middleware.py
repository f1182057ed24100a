"""Requests the database could not answer: a query string it cannot compare (400) and a
database that cannot be reached (503 with Retry-After), instead of a 500."""

import contextlib
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseBadRequest, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

from requests_app.api.errors import error_body

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exception)
            response = JsonResponse(
                {
                    "code": "service_unavailable",
                    "message": "服务暂时不可用，请稍后重试。",
                    "message_en": "The service is temporarily unavailable; please retry.",
                },
                status=503,
            )
            response["Retry-After"] = "5"
            return response
        return None


NUL_MESSAGE = "查询参数含有空字符（\\0）。"
NUL_MESSAGE_EN = "A query parameter contains a NUL character (\\0)."


class NulInQueryMiddleware:
    """A NUL character in a query parameter (``?state=a%00b``) is a 400 everywhere.

    PostgreSQL cannot compare text holding NUL: a filter of the admin's change lists or a
    search would fail in the database as a 500. The API's filters refuse it too; this catches
    every page at once, the API with its JSON error naming the parameters."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = sorted(
            {
                key
                for key, values in request.GET.lists()
                if "\x00" in key or any("\x00" in value for value in values)
            }
        )
        if not bad:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            fields = {key.replace("\x00", "\\0"): [NUL_MESSAGE] for key in bad}
            return JsonResponse(
                error_body("invalid", NUL_MESSAGE, NUL_MESSAGE_EN, fields), status=400
            )
        return HttpResponseBadRequest(
            f"{NUL_MESSAGE} {NUL_MESSAGE_EN}", content_type="text/plain; charset=utf-8"
        )


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese for everyone; English only for whoever chose it.

    Django's ``LocaleMiddleware`` follows the browser's Accept-Language, so a caseworker
    whose browser prefers English got the admin's own chrome in English (WELCOME, FILTER)
    beside our Chinese labels. Here the pages use the language chosen explicitly — the
    cookie Django's ``set_language`` view (``/i18n/setlang/``, the admin's language switch)
    sets — and ``LANGUAGE_CODE`` (简体中文) otherwise. The API keeps Accept-Language: a
    program asks for English messages that way (docs/api.md), and every error carries
    ``message_en`` anyway."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            with contextlib.suppress(LookupError):  # an unknown choice: Chinese
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if not request.path_info.startswith("/api/"):
            # The page depends on the cookie, not on the browser's Accept-Language.
            patch_vary_headers(response, ("Cookie",))
        return response


LENGTH_REQUIRED_MESSAGE = "请求须带 Content-Length，不接受分块传输（chunked）的请求体。"
LENGTH_REQUIRED_MESSAGE_EN = "Content-Length required: a chunked request body is not accepted."


class ChunkedBodyMiddleware:
    """A request body sent chunked (``Transfer-Encoding: chunked``, no ``Content-Length``) is
    a 411 under /api/.

    Django reads a body only up to ``Content-Length``: without one it sees an empty body, so a
    chunked submission was answered "fields missing" — wrong, and misleading to the client
    that sent every field. The proxy in front (docker/nginx) buffers a chunked body and
    passes it on with its length; this answers clients that reach gunicorn directly."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.path.startswith("/api/")
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            and not request.META.get("CONTENT_LENGTH")
        ):
            return JsonResponse(
                error_body("length_required", LENGTH_REQUIRED_MESSAGE, LENGTH_REQUIRED_MESSAGE_EN),
                status=411,
                json_dumps_params={"ensure_ascii": False},
            )
        return self.get_response(request)
