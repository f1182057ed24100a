"""Map a database that cannot be reached to 503 with Retry-After instead of a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

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
