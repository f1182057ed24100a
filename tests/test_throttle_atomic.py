"""Throttle counters are atomic (issue 13 §2): 100 concurrent requests at a limit of 10, and
exactly 10 pass — with the tests' in-process cache and, when REDIS_URL is set, with Redis."""

import os
import threading
import time
import uuid
from collections import Counter

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import Client

from requests_app.api.counters import window_count, window_hit

AGENCIES = "/api/v1/agencies/"
REDIS_URL = os.environ.get("REDIS_URL", "")


def fire(n: int, path: str = AGENCIES) -> Counter:
    """``n`` GET requests from one client address, released at once by a barrier."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def one():
        client = Client(REMOTE_ADDR="203.0.113.5")
        barrier.wait()
        status = client.get(path).status_code
        with lock:
            statuses.append(status)
        connection.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def limit_agencies(settings, rate: str) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "agencies": rate},
    }


class LatentLocMemCache(LocMemCache):
    """The tests' in-process cache with a network's round trip before each call, as Redis
    has: a read-then-write counter lets every concurrent request read the same count."""

    def _round_trip(self):
        time.sleep(0.002)

    def get(self, *args, **kwargs):
        self._round_trip()
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        self._round_trip()
        return super().set(*args, **kwargs)

    def add(self, *args, **kwargs):
        self._round_trip()
        return super().add(*args, **kwargs)

    def incr(self, *args, **kwargs):
        self._round_trip()
        return super().incr(*args, **kwargs)


@pytest.fixture
def limited(transactional_db, settings):
    settings.CACHES = {
        "default": {"BACKEND": "tests.test_throttle_atomic.LatentLocMemCache", "LOCATION": "t"}
    }
    limit_agencies(settings, "10/hour")
    caches["default"].clear()
    yield
    caches["default"].clear()


def test_100_concurrent_requests_at_a_limit_of_10_let_exactly_10_through(limited):
    assert fire(100) == Counter({200: 10, 429: 90})


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL=redis://…")
def test_with_redis_too(transactional_db, settings):
    # Keys of this run only (a prefix of its own): nothing else in that Redis is touched.
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    limit_agencies(settings, "10/hour")
    redis = caches["default"]._cache.get_client(write=True)
    try:
        assert fire(100) == Counter({200: 10, 429: 90})
        # The window's key carries its expiry (set with the first hit, in the same transaction).
        keys = redis.keys(f"{prefix}:*throttle_agencies_*")
        assert len(keys) == 1
        assert 3595 <= redis.ttl(keys[0]) <= 3600
    finally:
        keys = redis.keys(f"{prefix}:*")
        if keys:
            redis.delete(*keys)


def test_the_window_opens_at_the_first_hit_and_counts_up(locmem_cache):
    assert window_hit(locmem_cache, "k", now=1000.0, window=60) == (1, 60.0)
    assert window_hit(locmem_cache, "k", now=1010.0, window=60) == (2, 50.0)
    assert window_count(locmem_cache, "k", now=1030.0, window=60) == (2, 30.0)
    assert window_count(locmem_cache, "other", now=1030.0, window=60) == (0, 0.0)


@pytest.fixture
def locmem_cache():
    backend = LocMemCache("counters-test", {})
    backend.clear()
    return backend


def test_an_unreachable_redis_counts_nothing_and_refuses_nobody(db, settings):
    from scripts.procs import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    limit_agencies(settings, "1/hour")
    assert window_hit(caches["default"], "k", now=0.0, window=60) == (0, 0.0)
    assert window_count(caches["default"], "k", now=0.0, window=60) == (0, 0.0)
    assert [Client().get(AGENCIES).status_code for _ in range(3)] == [200, 200, 200]
