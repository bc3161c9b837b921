"""The Redis cache: one hash per namespace, so a namespace is dropped with one DEL.

The hash gets its TTL when it is created (`PEXPIRE ... NX`, Redis >= 7.0), so every key of a
namespace lives at most `ttl_s` seconds, like `MemoryCache`. The client is injected
(`RedisCache(redis=...)`, built with the default `decode_responses=False`); `from_url` builds
one. Redis errors surface as `CacheError`.
"""

from __future__ import annotations

import math

from bot.cache.base import CacheError

try:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - redis is a core dependency
    raise ImportError("the Redis cache needs the 'redis' package: pip install redis") from exc


class RedisCache:
    def __init__(self, redis: Redis, *, ttl_s: float = 300.0, prefix: str = "attune:") -> None:
        self.ttl_s = ttl_s
        self._redis = redis
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, ttl_s: float = 300.0, prefix: str = "attune:") -> RedisCache:
        return cls(Redis.from_url(url), ttl_s=ttl_s, prefix=prefix)

    async def get(self, namespace: str, key: str) -> bytes | None:
        try:
            value = await self._redis.hget(self._prefix + namespace, key)
        except RedisError as exc:
            raise CacheError(f"redis get failed: {exc}") from exc
        if isinstance(value, str):  # binary values cannot survive decode_responses=True
            raise TypeError("RedisCache needs a client built with decode_responses=False")
        return value

    async def set(self, namespace: str, key: str, value: bytes) -> None:
        name = self._prefix + namespace
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(name, key, value)
                pipe.pexpire(name, max(1, math.ceil(self.ttl_s * 1000)), nx=True)
                await pipe.execute()
        except RedisError as exc:
            raise CacheError(f"redis set failed: {exc}") from exc

    async def invalidate(self, namespace: str) -> None:
        try:
            await self._redis.delete(self._prefix + namespace)
        except RedisError as exc:
            raise CacheError(f"redis invalidate failed: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()
