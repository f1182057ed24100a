"""Lock-out after failed sign-ins (django-axes): by user name and by client address apart.

django-axes counts the failures and refuses a locked-out user name or client before any
password is checked (so a locked-out guesser no longer costs a password hash). What it leaves
to the project is here: which address a request comes from (the same one the API's throttles
count by) and what a locked-out request is answered.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

MESSAGE = "登录失败次数过多，已暂时锁定。请 {minutes} 分钟后再试，或请管理员解锁。"
MESSAGE_EN = (
    "Too many failed sign-ins: locked for now. Retry in {minutes} minutes or ask an "
    "administrator to unlock."
)


def client_ip(request) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the client address exactly as the API's throttles see it
    (DRF's ``get_ident``: ``REMOTE_ADDR``, or the address the ``NUM_PROXIES`` trusted proxies
    put in ``X-Forwarded-For``). A client's own ``X-Forwarded-For`` is never believed."""
    return BaseThrottle().get_ident(request)


def cool_off_minutes(request=None) -> int:
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_error_body(request=None) -> dict:
    # Imported here: DRF loads this module's neighbour (signin.authentication) while its own
    # views module, which the API's errors import, is still loading.
    from requests_app.api.errors import error_body

    minutes = cool_off_minutes(request)
    return error_body(
        "locked_out", MESSAGE.format(minutes=minutes), MESSAGE_EN.format(minutes=minutes)
    )


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: under /api/ the API's JSON error, elsewhere (the admin's
    sign-in page) a page saying the same. The answer does not depend on the password given,
    so a locked-out guesser learns nothing more."""
    minutes = cool_off_minutes(request)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            lockout_error_body(request), status=429, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(
            request,
            "signin/locked_out.html",
            {"minutes": minutes, "title": "登录已暂时锁定"},
            status=429,
        )
    response["Retry-After"] = str(minutes * 60)
    return response
