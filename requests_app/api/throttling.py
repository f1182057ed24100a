"""Throttles of the public API, per client IP address.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on each request (DRF's
``SimpleRateThrottle`` reads them once at import, so overriding the setting would have no
effect). The client IP is DRF's ``get_ident``: ``REMOTE_ADDR``, or the address the trusted
proxies put in ``X-Forwarded-For`` when ``NUM_PROXIES`` says how many there are.

Counting is atomic (``requests_app.api.counters``): a rate of N per period lets exactly N
requests through in a window that opens with a client's first request and lasts the period,
however many arrive at once.
"""

from __future__ import annotations

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


class TrackingFailureThrottle(ClientIpRateThrottle):
    """Wrong tracking numbers or access codes, per client IP.

    Only failures count (the view calls :meth:`record_failure`); once a client has made as
    many as the rate allows within the window its first failure opened, every tracking
    request from it is refused — even one with the right code — until the window ends. That makes guessing a
    50-bit access code hopeless.
    """

    scope = "tracking_failure"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        failures, self.left = window_count(
            self.cache, self.key, now=self.timer(), window=self.duration
        )
        return failures < self.num_requests

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request, view)
        window_hit(self.cache, key, now=self.timer(), window=self.duration)
