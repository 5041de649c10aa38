"""Fixed-window request counters: per API key (requests per second) and per client IP (sign-in
attempts per minute). With ``MIANSHEN_REDIS_URL`` every process shares the counts in Redis;
otherwise they live in this process. A counter key never holds personal data (API key ids and
IP addresses only).

``take`` is ``hit`` for high request rates (API keys): a process claims its share of a window
from Redis in leases of ``lease_size(limit)`` requests (one ``INCRBY``) and spends them locally,
so a key at 2,000 requests/s costs Redis tens of calls per second, not thousands. Leases never
add up to more than ``limit``, so a key is never admitted more often than its limit across
processes; what a lease costs is fairness at the very edge of the limit: a process holding
unspent requests of its last lease when another runs out refuses at most ``lease_size - 1``
requests per other process below the limit (under 5 % of it per process; exact below 40/s).
A refused window is remembered locally, so a key far over its limit costs Redis nothing more.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from functools import lru_cache
from typing import Protocol

import redis

from app.settings import get_settings

_INCR = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

_INCRBY = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

LEASE_MAX = 50
REDIS_TIMEOUT = 0.5  # seconds; Redis unreachable or stalled: the request fails (503 for API keys)
LEASE_DIVISOR = 20


def lease_size(limit: int) -> int:
    """Requests one lease claims: 1/20 of the limit, 1 to 50."""
    return max(1, min(LEASE_MAX, limit // LEASE_DIVISOR))


class Throttle(Protocol):
    def hit(self, name: str, limit: int, window_seconds: int) -> int:
        """Count one request of ``name``; 0 when allowed, else seconds until the window ends."""

    def take(self, name: str, limit: int, window_seconds: int, now: float | None = None) -> int:
        """``hit`` through leases (see the module docstring); ``now`` for tests."""


class MemoryThrottle:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = defaultdict(int)
        self._lock = threading.Lock()

    def hit(self, name: str, limit: int, window_seconds: int) -> int:
        now = time.time()
        window = int(now // window_seconds)
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts = defaultdict(
                    int, {k: v for k, v in self._counts.items() if k[1] >= window}
                )
            self._counts[(name, window)] += 1
            count = self._counts[(name, window)]
        return 0 if count <= limit else _seconds_left(now, window, window_seconds)

    def take(self, name: str, limit: int, window_seconds: int, now: float | None = None) -> int:
        return self.hit(name, limit, window_seconds)  # in-process counts are exact already


class _Lease:
    __slots__ = ("exhausted", "left", "window")

    def __init__(self, window: int, left: int, exhausted: bool) -> None:
        self.window, self.left, self.exhausted = window, left, exhausted


class RedisThrottle:
    def __init__(self, client: redis.Redis) -> None:
        self._incr = client.register_script(_INCR)
        self._incrby = client.register_script(_INCRBY)
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def hit(self, name: str, limit: int, window_seconds: int) -> int:
        now = time.time()
        window = int(now // window_seconds)
        count = int(self._incr(keys=[f"ms:throttle:{name}:{window}"], args=[window_seconds + 1]))
        return 0 if count <= limit else _seconds_left(now, window, window_seconds)

    def take(self, name: str, limit: int, window_seconds: int, now: float | None = None) -> int:
        now = time.time() if now is None else now
        window = int(now // window_seconds)
        with self._lock:
            lease = self._leases.get(name)
            if lease is not None and lease.window == window:
                if lease.left > 0:
                    lease.left -= 1
                    return 0
                if lease.exhausted:
                    return _seconds_left(now, window, window_seconds)
            size = lease_size(limit)
            total = int(self._incrby(keys=[f"ms:throttle:{name}:{window}"],
                                     args=[window_seconds + 1, size]))
            granted = min(size, limit - (total - size))
            if len(self._leases) > 10_000:
                self._leases = {k: v for k, v in self._leases.items() if v.window >= window}
            self._leases[name] = _Lease(window, max(0, granted - 1), total >= limit)
        return 0 if granted > 0 else _seconds_left(now, window, window_seconds)


def _seconds_left(now: float, window: int, window_seconds: int) -> int:
    return max(1, int((window + 1) * window_seconds - now + 0.999))


@lru_cache
def _throttle_for(redis_url: str | None) -> Throttle:
    if redis_url:  # bounded waits: a lease may be claimed on the event loop
        return RedisThrottle(redis.Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT,
                                                  socket_connect_timeout=REDIS_TIMEOUT))
    return MemoryThrottle()


def throttle() -> Throttle:
    return _throttle_for(get_settings().redis_url)
