"""Throttles of the public API, per client IP address.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on each request (DRF's
``SimpleRateThrottle`` reads them once at import, so overriding the setting would have no
effect). The client IP is DRF's ``get_ident``: ``REMOTE_ADDR``, or the address the trusted
proxies put in ``X-Forwarded-For`` when ``NUM_PROXIES`` says how many there are.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ClientIpRateThrottle(SimpleRateThrottle):
    """Count every request of a client IP address against ``scope``'s rate."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SubmissionThrottle(ClientIpRateThrottle):
    scope = "submission"


class TrackingThrottle(ClientIpRateThrottle):
    scope = "tracking"


class AgencyListThrottle(ClientIpRateThrottle):
    scope = "agencies"


class TrackingFailureThrottle(ClientIpRateThrottle):
    """Wrong tracking numbers or access codes, per client IP.

    Only failures count (the view calls :meth:`record_failure`); once a client has made as
    many as the rate allows within its period, every tracking request from it is refused —
    even one with the right code — until the oldest failure leaves the window. That makes
    guessing a 50-bit access code hopeless.
    """

    scope = "tracking_failure"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        self.history = [moment for moment in self.history if moment > self.now - self.duration]
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request, view)
        now = self.timer()
        history = [m for m in self.cache.get(key, []) if m > now - self.duration]
        history.insert(0, now)
        self.cache.set(key, history, self.duration)
