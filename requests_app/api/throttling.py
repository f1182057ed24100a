"""Throttles of the public API.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on each request (DRF's
``SimpleRateThrottle`` reads them once at import, so overriding the setting would have no
effect). The client IP is DRF's ``get_ident``: ``REMOTE_ADDR``, or the address the trusted
proxies put in ``X-Forwarded-For`` when ``NUM_PROXIES`` says how many there are.

Following an application counts wrong access codes twice (the view calls ``record_failure``):

- per tracking number and client (``tracking_failure``, 10 an hour): after that many wrong codes
  for one application, that client may not try it again — not even with the right code —
  until the oldest failure leaves the window. Guessing a 50-bit code stays hopeless, and other
  applications, and other clients, are not touched: a portal that calls from its server does
  not lock every citizen out because one of them mistyped.
- per client across all numbers (``tracking_enumeration``, wider): a client trying many
  applications (enumeration) is stopped altogether.


Counting is atomic (``requests_app.api.counters``): a rate of N per period lets exactly N
requests through in a window that opens with a client's first request and lasts the period,
however many arrive at once.
"""

from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from requests_app.api.counters import window_count, window_hit


class ClientIpRateThrottle(SimpleRateThrottle):
    """Count every request of a client IP address against ``scope``'s rate."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self.left = window_hit(self.cache, self.key, now=self.timer(), window=self.duration)
        return count <= self.num_requests

    def wait(self):
        return self.left


class SubmissionThrottle(ClientIpRateThrottle):
    scope = "submission"


class TrackingThrottle(ClientIpRateThrottle):
    scope = "tracking"


class AgencyListThrottle(ClientIpRateThrottle):
    scope = "agencies"


class FailureThrottle(ClientIpRateThrottle):
    """Counts only failures (the view calls :meth:`record_failure`). Once as many as the rate
    allows have been counted under a request's key within the period, requests under that key
    are refused until the oldest failure leaves the window. A request without a key (see
    ``get_cache_key``) is not counted and not refused here."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        failures, self.left = window_count(
            self.cache, self.key, now=self.timer(), window=self.duration
        )
        return failures < self.num_requests

    def failures(self, request, view) -> int:
        """How many failures are counted under the request's key now (0 without a key)."""
        if self.rate is None:
            return 0
        key = self.get_cache_key(request, view)
        if key is None:
            return 0
        count, _left = window_count(self.cache, key, now=self.timer(), window=self.duration)
        return count

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request, view)
        if key is not None:
            window_hit(self.cache, key, now=self.timer(), window=self.duration)


def tracking_number_of(request) -> str | None:
    """The tracking number a follow-up request names, as the lookup reads it (trimmed,
    upper case), or ``None`` if the body names none."""
    # A DRF request carries the parsed body in ``data``; a plain Django form view in ``POST``.
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    number = data.get("tracking_number") if hasattr(data, "get") else None
    if not isinstance(number, str) or not number.strip():
        return None
    return number.strip().upper()


class TrackingFailureThrottle(FailureThrottle):
    """Wrong access codes for one application from one client."""

    scope = "tracking_failure"

    def get_cache_key(self, request, view):
        number = tracking_number_of(request)
        if number is None:
            return None
        # Hashed: the key holds no client text (cache backends restrict key characters).
        digest = hashlib.sha256(number.encode()).hexdigest()[:32]
        return self.cache_format % {
            "scope": self.scope,
            "ident": f"{digest}:{self.get_ident(request)}",
        }


class TrackingEnumerationThrottle(FailureThrottle):
    """Wrong tracking numbers or access codes from one client, whatever the application."""

    scope = "tracking_enumeration"
