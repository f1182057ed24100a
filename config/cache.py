"""A Redis cache that behaves as an empty cache while Redis cannot be reached.

The cache holds nothing the service cannot do without: throttle counters and the calendar's
version number. Django's ``RedisCache`` raises ``redis.exceptions.ConnectionError`` from every
call when Redis is down, which turned every throttled public request into a 500 (issue 6: a
submission made while Redis is down must still be accepted). Here a read answers "missing", a
write is dropped, a warning is logged (at most once a minute per process), and the next call
tries Redis again. Throttling is therefore off while Redis is down: availability first.
"""

from __future__ import annotations

import logging
import math
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WARN_EVERY_SECONDS = 60


class FailOpenRedisCache(RedisCache):
    _last_warning = 0.0

    def _unavailable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCache._last_warning > WARN_EVERY_SECONDS:
            FailOpenRedisCache._last_warning = now
            logger.warning(
                "cache unavailable (%s): %s; answering as an empty cache", operation, error
            )

    def add(self, *args, **kwargs):
        try:
            return super().add(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("add", error)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as error:
            self._unavailable("get", error)
            return default

    def set(self, *args, **kwargs):
        try:
            super().set(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("set", error)

    def touch(self, *args, **kwargs):
        try:
            return super().touch(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("touch", error)
            return False

    def delete(self, *args, **kwargs):
        try:
            return super().delete(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("delete", error)
            return False

    def get_many(self, *args, **kwargs):
        try:
            return super().get_many(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("get_many", error)
            return {}

    def has_key(self, *args, **kwargs):
        try:
            return super().has_key(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("has_key", error)
            return False

    def set_many(self, data, *args, **kwargs):
        try:
            return super().set_many(data, *args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("set_many", error)
            return list(data)

    def delete_many(self, *args, **kwargs):
        try:
            super().delete_many(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("delete_many", error)

    # --- atomic counters (requests_app.api.counters) --------------------------------------------
    def window_hit(self, key, *, window: float) -> tuple[int, float]:
        """``SET key 0 EX window NX; INCR key; PTTL key`` in one transaction: the count, this
        hit included, and the seconds left. (0, 0) while Redis is unreachable."""
        try:
            key = self.make_and_validate_key(key)
            client = self._cache.get_client(key, write=True)
            pipe = client.pipeline(transaction=True)
            pipe.set(key, 0, ex=max(1, math.ceil(window)), nx=True)
            pipe.incr(key)
            pipe.pttl(key)
            _created, count, ttl_ms = pipe.execute()
            return int(count), max(0, ttl_ms) / 1000
        except UNAVAILABLE as error:
            self._unavailable("window_hit", error)
            return 0, 0.0

    def window_count(self, key) -> tuple[int, float]:
        try:
            key = self.make_and_validate_key(key)
            client = self._cache.get_client(key)
            pipe = client.pipeline(transaction=True)
            pipe.get(key)
            pipe.pttl(key)
            count, ttl_ms = pipe.execute()
            return int(count or 0), max(0, ttl_ms) / 1000
        except UNAVAILABLE as error:
            self._unavailable("window_count", error)
            return 0, 0.0

    def incr(self, *args, **kwargs):
        try:
            return super().incr(*args, **kwargs)
        except UNAVAILABLE as error:
            self._unavailable("incr", error)
            return 0
