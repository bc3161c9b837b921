"""A token bucket per user: short bursts are fine, a sustained flood is slowed down."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bot.clock import Clock


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self, clock: Clock, *, capacity: float, refill_per_s: float, max_users: int = 100_000
    ) -> None:
        self._clock = clock
        self._capacity = capacity
        self._refill = refill_per_s
        self._max_users = max_users
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        now = self._clock.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self._capacity, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_users:
                self._buckets.popitem(last=False)  # the least recently seen user
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._refill)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False
