"""Text messages (短信) to applicants: pluggable backends, chosen by ``SMS_BACKEND`` as Django
chooses its e-mail backend.

- ``requests_app.sms.ConsoleBackend`` (the default): writes each message to standard output
  (the phone number masked), for development and the demo.
- ``requests_app.sms.HttpGatewayBackend``: POSTs JSON to an SMS gateway, configured by the
  environment (``SMS_GATEWAY_URL``, ``SMS_GATEWAY_TOKEN``, ``SMS_SIGN_NAME``,
  ``SMS_GATEWAY_TIMEOUT``). The body is ``{"phone", "text", "sign", "reference"}``; a 2xx
  answer is accepted and its JSON ``id`` (if any) kept as the gateway's reference; 429 and 5xx
  and network errors are temporary (retried), any other status is a permanent refusal.

A backend sends one message and returns the gateway's reference (``""`` when it gives none),
or raises :class:`SmsTemporaryError` / :class:`SmsRejected`. Rows, retries and statuses are the
notification service's (``services.notifications.sms_send``).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """A message was not sent."""


class SmsTemporaryError(SmsError):
    """Worth trying again later (the gateway is busy or unreachable)."""


class SmsRejected(SmsError):
    """The gateway refused the message; trying again will not help."""


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


class ConsoleBackend:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, phone: str, text: str, reference: str) -> str:
        self.stream.write(f"[短信] {masked(phone)} {reference}: {text}\n")
        self.stream.flush()
        return ""


class HttpGatewayBackend:
    def __init__(self):
        self.url = settings.SMS_GATEWAY_URL
        if not self.url:
            raise SmsRejected("SMS_GATEWAY_URL is not set")
        self.token = settings.SMS_GATEWAY_TOKEN
        self.sign = settings.SMS_SIGN_NAME
        self.timeout = settings.SMS_GATEWAY_TIMEOUT

    def send(self, *, phone: str, text: str, reference: str) -> str:
        body = json.dumps(
            {"phone": phone, "text": text, "sign": self.sign, "reference": reference},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 (the URL is configuration)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            reason = f"gateway answered {error.code}"
            if error.code == 429 or error.code >= 500:
                raise SmsTemporaryError(reason) from error
            raise SmsRejected(reason) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsTemporaryError(f"gateway unreachable: {error}") from error
        try:
            found = json.loads(answer or b"{}")
        except ValueError:
            return ""
        return str(found.get("id", ""))[:100] if isinstance(found, dict) else ""


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
