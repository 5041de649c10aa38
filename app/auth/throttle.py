"""Fixed-window request counters: per API key (requests per second) and per client IP (sign-in
attempts per minute). With ``MIANSHEN_REDIS_URL`` every process shares the counts in Redis;
otherwise they live in this process. A counter key never holds personal data (API key ids and
IP addresses only)."""

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


class Throttle(Protocol):
    def hit(self, name: str, limit: int, window_seconds: int) -> int:
        """Count one request of ``name``; 0 when allowed, else seconds until the window ends."""


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


class RedisThrottle:
    def __init__(self, client: redis.Redis) -> None:
        self._incr = client.register_script(_INCR)

    def hit(self, name: str, limit: int, window_seconds: int) -> int:
        now = time.time()
        window = int(now // window_seconds)
        count = int(self._incr(keys=[f"ms:throttle:{name}:{window}"], args=[window_seconds + 1]))
        return 0 if count <= limit else _seconds_left(now, window, window_seconds)


def _seconds_left(now: float, window: int, window_seconds: int) -> int:
    return max(1, int((window + 1) * window_seconds - now + 0.999))


@lru_cache
def _throttle_for(redis_url: str | None) -> Throttle:
    if redis_url:
        return RedisThrottle(redis.Redis.from_url(redis_url))
    return MemoryThrottle()


def throttle() -> Throttle:
    return _throttle_for(get_settings().redis_url)
