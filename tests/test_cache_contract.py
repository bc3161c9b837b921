"""One contract, every cache backend: the in-process LRU and Redis (a real server)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.cache import Cache, CacheError, MemoryCache, build_cache
from bot.cache.redis import RedisCache
from bot.config import CacheSection


async def test_missing_key_is_none(cache: Cache) -> None:
    assert await cache.get("memories:1", "matrix") is None


async def test_set_then_get_returns_the_same_bytes(cache: Cache) -> None:
    value = bytes(range(256)) * 10
    await cache.set("memories:1", "matrix", value)
    assert await cache.get("memories:1", "matrix") == value


async def test_set_replaces_the_value(cache: Cache) -> None:
    await cache.set("memories:1", "k", b"old")
    await cache.set("memories:1", "k", b"new")
    assert await cache.get("memories:1", "k") == b"new"


async def test_namespaces_are_separate(cache: Cache) -> None:
    await cache.set("memories:1", "matrix", b"alice")
    await cache.set("memories:2", "matrix", b"bob")
    assert await cache.get("memories:1", "matrix") == b"alice"
    assert await cache.get("memories:2", "matrix") == b"bob"


async def test_invalidate_drops_every_key_of_one_namespace_only(cache: Cache) -> None:
    await cache.set("memories:1", "matrix", b"m")
    await cache.set("memories:1", "recall:abc", b"r")
    await cache.set("memories:2", "matrix", b"other")
    await cache.invalidate("memories:1")
    assert await cache.get("memories:1", "matrix") is None
    assert await cache.get("memories:1", "recall:abc") is None
    assert await cache.get("memories:2", "matrix") == b"other"


async def test_invalidating_an_unknown_namespace_is_harmless(cache: Cache) -> None:
    await cache.invalidate("memories:404")
    assert await cache.get("memories:404", "matrix") is None


async def test_empty_value_is_a_hit(cache: Cache) -> None:
    await cache.set("memories:1", "recall:x", b"")
    assert await cache.get("memories:1", "recall:x") == b""


@pytest.mark.redis
async def test_redis_namespace_ttl_is_set_once_when_created(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    cache = RedisCache(client, ttl_s=300.0, prefix="t:")
    await cache.set("memories:1", "a", b"1")
    first = await client.pttl("t:memories:1")
    await client.pexpire("t:memories:1", 1000)
    await cache.set("memories:1", "b", b"2")
    assert 0 < first <= 300_000
    assert 0 < await client.pttl("t:memories:1") <= 1000  # a later set does not extend it
    await cache.close()


@pytest.mark.redis
async def test_unreachable_redis_raises_cache_error() -> None:
    cache = RedisCache.from_url("redis://127.0.0.1:1/0", ttl_s=1.0)
    with pytest.raises(CacheError):
        await cache.get("memories:1", "matrix")
    with pytest.raises(CacheError):
        await cache.set("memories:1", "matrix", b"x")
    with pytest.raises(CacheError):
        await cache.invalidate("memories:1")
    await cache.close()


@pytest.mark.redis
async def test_build_cache_follows_the_backend_setting(redis_url: str) -> None:
    memory = build_cache(CacheSection(backend="memory"))
    redis = build_cache(CacheSection(backend="redis", url=redis_url, ttl_s=12.0))
    assert isinstance(memory, MemoryCache)
    assert isinstance(redis, RedisCache)
    assert redis.ttl_s == 12.0
    await redis.set("memories:9", "k", b"v")
    assert await redis.get("memories:9", "k") == b"v"
    await memory.close()
    await redis.close()
