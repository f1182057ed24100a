"""Atomic request counters on Django's cache: a count per key over a window that starts at the
key's first hit and lasts ``window`` seconds.

A throttle that reads a list of moments, appends one and writes it back lets concurrent
requests all read the same list: 38 submissions passed a limit of 30 and 11–13 guesses a
limit of 10 (issue 13). Here a hit is one atomic increment:

- on Redis (``config.cache.FailOpenRedisCache.window_hit``) ``SET key 0 EX window NX``,
  ``INCR key`` and ``PTTL key`` in one MULTI/EXEC transaction: N concurrent requests get the
  counts 1..N, each once, and the key always carries its expiry;
- on any other cache ``add`` then ``incr``: atomic where the backend's ``incr`` is
  (LocMemCache holds a lock, within one process); the file cache of a server-less
  development run is not atomic across processes (use Redis in production).
"""

from __future__ import annotations

import math

from django.core.cache.backends.base import BaseCache


def _since_key(key: str) -> str:
    return f"{key}:since"


def window_hit(cache: BaseCache, key: str, *, now: float, window: float) -> tuple[int, float]:
    """Count one more under ``key``: the count (this one included) and the seconds left in
    the window. A count of 0 means the cache could not count (an unreachable Redis)."""
    if hasattr(cache, "window_hit"):
        return cache.window_hit(key, window=window)
    timeout = math.ceil(window)
    cache.add(key, 0, timeout=timeout)
    cache.add(_since_key(key), now, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.add(key, 0, timeout=timeout)
        count = cache.incr(key)
    since = cache.get(_since_key(key), now)
    return count, max(0.0, since + window - now)


def window_count(cache: BaseCache, key: str, *, now: float, window: float) -> tuple[int, float]:
    """The count under ``key`` and the seconds left in its window (0 when none is open)."""
    if hasattr(cache, "window_count"):
        return cache.window_count(key)
    count = cache.get(key, 0)
    since = cache.get(_since_key(key))
    left = max(0.0, since + window - now) if since is not None else 0.0
    return count, left
