"""Shared counters of the SMS engine: per-recipient rate limits and daily caps, and the recent
error rate of each provider (for failover). With ``MIANSHEN_REDIS_URL`` they live in Redis, so
every worker sees the same counts; in the embedded default they live in this process.

The recipient key is the mobile's blind index (``mobile_index``): never the number itself.
Quiet hours are here too, being a question of "when may this go out".
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import redis

from app.settings import SmsSettings

ALLOWED, HOUR_FULL, DAY_FULL = 0, 1, 2

# Atomic check-and-count over the hour window and the day window of each recipient of a batch
# (KEYS are hour key, day key pairs, in order; a recipient twice in a batch is counted twice).
_CONSUME = """
local results = {}
for i = 1, #KEYS / 2 do
  local hour_key, day_key = KEYS[2 * i - 1], KEYS[2 * i]
  local hour = tonumber(redis.call('GET', hour_key) or '0')
  local day = tonumber(redis.call('GET', day_key) or '0')
  if day >= tonumber(ARGV[2]) then
    results[i] = 2
  elseif hour >= tonumber(ARGV[1]) then
    results[i] = 1
  else
    redis.call('INCR', hour_key); redis.call('EXPIRE', hour_key, 7200)
    redis.call('INCR', day_key); redis.call('EXPIRE', day_key, 172800)
    results[i] = 0
  end
end
return results
"""


class QuietHours:
    def __init__(self, settings: SmsSettings) -> None:
        self.enabled = settings.quiet_hours_enabled
        self.start, self.end = settings.quiet_start_hour, settings.quiet_end_hour
        self.zone = ZoneInfo(settings.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def is_quiet(self, moment: datetime) -> bool:
        hour = self.local(moment).hour
        return self.enabled and (hour >= self.start or hour < self.end)

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself outside quiet hours, else the next 08:00 local time."""
        if not self.is_quiet(moment):
            return moment
        local = self.local(moment)
        morning = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if local.hour >= self.start:
            morning += timedelta(days=1)
        return morning.astimezone(moment.tzinfo)

    def next_hour(self, moment: datetime) -> datetime:
        local = self.local(moment).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return self.next_allowed(local.astimezone(moment.tzinfo))

    def next_day(self, moment: datetime) -> datetime:
        local = self.local(moment).replace(hour=0, minute=0, second=0, microsecond=0)
        return self.next_allowed((local + timedelta(days=1)).astimezone(moment.tzinfo))


class RateLimiter(Protocol):
    def consume(self, recipients: list[str], now: datetime) -> list[int]:
        """For each recipient: ``ALLOWED`` (counted), ``HOUR_FULL`` or ``DAY_FULL``."""
        ...


class ProviderHealth(Protocol):
    def record(self, provider: str, ok: int, failed: int, now: float | None = None) -> None: ...

    def error_rate(self, provider: str, now: float | None = None) -> tuple[float, int]:
        """``(share of failed hand-offs, number of hand-offs)`` over the recent window."""
        ...


def _windows(quiet: QuietHours, now: datetime) -> tuple[str, str]:
    local = quiet.local(now)
    return local.strftime("%Y%m%d%H"), local.strftime("%Y%m%d")


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, settings: SmsSettings) -> None:
        self.client = client
        self.per_hour, self.per_day = (
            settings.per_recipient_per_hour,
            settings.per_recipient_per_day,
        )
        self.quiet = QuietHours(settings)
        self.script = client.register_script(_CONSUME)

    CHUNK = 1000  # recipients per script call: one round trip each, Redis never blocked long

    def consume(self, recipients: list[str], now: datetime) -> list[int]:
        hour, day = _windows(self.quiet, now)
        results: list[int] = []
        for start in range(0, len(recipients), self.CHUNK):
            keys = []
            for recipient in recipients[start : start + self.CHUNK]:
                keys += [f"sms:rate:h:{hour}:{recipient}", f"sms:rate:d:{day}:{recipient}"]
            results.extend(
                int(r) for r in self.script(keys=keys, args=[self.per_hour, self.per_day])
            )
        return results


class MemoryRateLimiter:
    def __init__(self, settings: SmsSettings) -> None:
        self.per_hour, self.per_day = (
            settings.per_recipient_per_hour,
            settings.per_recipient_per_day,
        )
        self.quiet = QuietHours(settings)
        self.counts: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def consume(self, recipients: list[str], now: datetime) -> list[int]:
        hour, day = _windows(self.quiet, now)
        results = []
        with self.lock:
            for recipient in recipients:
                hour_key, day_key = f"h:{hour}:{recipient}", f"d:{day}:{recipient}"
                if self.counts[day_key] >= self.per_day:
                    results.append(DAY_FULL)
                elif self.counts[hour_key] >= self.per_hour:
                    results.append(HOUR_FULL)
                else:
                    self.counts[hour_key] += 1
                    self.counts[day_key] += 1
                    results.append(ALLOWED)
        return results


class RedisProviderHealth:
    """Counters in 10-second buckets; the error rate sums the buckets of the last window."""

    BUCKET = 10

    def __init__(self, client: redis.Redis, settings: SmsSettings) -> None:
        self.client = client
        self.window = settings.health_window_seconds

    def record(self, provider: str, ok: int, failed: int, now: float | None = None) -> None:
        bucket = int((now or time.time()) // self.BUCKET)
        key = f"sms:health:{provider}:{bucket}"
        pipe = self.client.pipeline(transaction=False)
        if ok:
            pipe.hincrby(key, "ok", ok)
        if failed:
            pipe.hincrby(key, "failed", failed)
        pipe.expire(key, self.window + 2 * self.BUCKET)
        pipe.execute()

    def error_rate(self, provider: str, now: float | None = None) -> tuple[float, int]:
        bucket = int((now or time.time()) // self.BUCKET)
        buckets = range(bucket - self.window // self.BUCKET + 1, bucket + 1)
        pipe = self.client.pipeline(transaction=False)
        for number in buckets:
            pipe.hmget(f"sms:health:{provider}:{number}", "ok", "failed")
        ok = failed = 0
        for ok_count, failed_count in pipe.execute():
            ok += int(ok_count or 0)
            failed += int(failed_count or 0)
        total = ok + failed
        return (failed / total if total else 0.0), total


class MemoryProviderHealth:
    BUCKET = 10

    def __init__(self, settings: SmsSettings) -> None:
        self.window = settings.health_window_seconds
        self.counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        self.lock = threading.Lock()

    def record(self, provider: str, ok: int, failed: int, now: float | None = None) -> None:
        bucket = int((now or time.time()) // self.BUCKET)
        with self.lock:
            self.counts[(provider, bucket)][0] += ok
            self.counts[(provider, bucket)][1] += failed

    def error_rate(self, provider: str, now: float | None = None) -> tuple[float, int]:
        bucket = int((now or time.time()) // self.BUCKET)
        ok = failed = 0
        with self.lock:
            for number in range(bucket - self.window // self.BUCKET + 1, bucket + 1):
                counts = self.counts.get((provider, number), [0, 0])
                ok, failed = ok + counts[0], failed + counts[1]
        total = ok + failed
        return (failed / total if total else 0.0), total


def choose_provider(
    order: list[str], health: ProviderHealth, settings: SmsSettings, now: float | None = None
) -> str:
    """The first provider in preference order whose recent error rate is acceptable; when all
    are failing, the least bad one (a message is never dropped for want of a provider)."""
    rates = []
    for provider in order:
        rate, samples = health.error_rate(provider, now)
        if samples < settings.failover_min_samples or rate < settings.failover_error_rate:
            return provider
        rates.append((rate, provider))
    return min(rates)[1]


def limits_from_settings(
    settings: SmsSettings, redis_url: str | None
) -> tuple[RateLimiter, ProviderHealth]:
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=3)
        return RedisRateLimiter(client, settings), RedisProviderHealth(client, settings)
    return MemoryRateLimiter(settings), MemoryProviderHealth(settings)
