"""The staff API's authentication classes, lock-out aware.

DRF's ``BasicAuthentication`` calls ``django.contrib.auth.authenticate`` with the request, so
django-axes counts its failures like the admin's; but it answers a locked-out user as it
answers a wrong password (401). Here a locked-out request gets the lock-out answer (429), the
same whether the password was right or wrong.
"""

from __future__ import annotations

from knox.auth import TokenAuthentication
from rest_framework import authentication, exceptions

from requests_app.services.errors import ServiceError
from signin.lockout import cool_off_minutes, lockout_error_body


class LockedOut(ServiceError):
    status = 429
    code = "locked_out"

    def __init__(self, request):
        body = lockout_error_body(request)
        super().__init__(body["message"], body["message_en"])
        self.headers = {"Retry-After": str(cool_off_minutes(request) * 60)}


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                raise LockedOut(request) from None
            raise


# The staff API's (requests_app.api.staff.StaffView): Basic first, so that an anonymous
# request gets 401 with a WWW-Authenticate challenge; integration tokens (signin.tokens) as
# ``Authorization: Token …``; the admin's session.
STAFF_AUTHENTICATION_CLASSES = [
    BasicAuthentication,
    TokenAuthentication,
    authentication.SessionAuthentication,
]
