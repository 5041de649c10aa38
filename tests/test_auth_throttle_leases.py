"""Per-key rate limits claimed from Redis in leases (``RedisThrottle.take``): processes sharing
one Redis never admit more than the limit in a window together, refuse at most
``lease_size - 1`` requests per other process below it, and call Redis once per lease."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from app.auth.throttle import RedisThrottle, lease_size

pytestmark = pytest.mark.redis


def _workers(redis_url: str, count: int) -> list[RedisThrottle]:
    return [RedisThrottle(redis.Redis.from_url(redis_url)) for _ in range(count)]


@pytest.mark.parametrize(("limit", "workers"), [(4, 2), (100, 3), (5_000, 2), (1_000_000, 3)])
def test_leases_never_exceed_the_limit_across_workers(redis_url: str, limit: int,
                                                      workers: int) -> None:
    name, now = f"key:{uuid.uuid4().hex[:12]}", 1_900_000_000.5
    throttles = _workers(redis_url, workers)
    attempts = min(limit * 2, 20_000)
    admitted = sum(throttles[i % workers].take(name, limit, 1, now) == 0
                   for i in range(attempts))
    assert admitted <= limit
    if limit < attempts:
        assert admitted >= limit - (workers - 1) * (lease_size(limit) - 1)
    if lease_size(limit) == 1:  # below 40/s a lease is one request: exact
        assert admitted == limit
    # the next window starts afresh; a refused one stays refused
    assert throttles[0].take(name, limit, 1, now + 1) == 0
    if limit < attempts:
        assert throttles[1].take(name, limit, 1, now) == 1


def test_one_redis_call_per_lease(redis_url: str) -> None:
    name, now = f"key:{uuid.uuid4().hex[:12]}", 1_900_000_100.5
    (throttle,) = _workers(redis_url, 1)
    calls = 0
    script = throttle._incrby

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return script(*args, **kwargs)

    throttle._incrby = counting  # type: ignore[assignment]
    for _ in range(1_000):
        assert throttle.take(name, 1_000_000, 1, now) == 0
    assert calls == 1_000 // lease_size(1_000_000)
    client = redis.Redis.from_url(redis_url)
    window = int(now)
    assert int(client.get(f"ms:throttle:{name}:{window}") or 0) == 1_000  # what was claimed
