"""Caches: the `Cache` seam, an in-process LRU (default) and Redis (`[cache] backend`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.cache.base import Cache, CacheError
from bot.cache.memory import MemoryCache
from bot.config import CacheSection

__all__ = ["Cache", "CacheError", "MemoryCache", "build_cache"]


def build_cache(section: CacheSection, clock: Callable[[], float] = time.monotonic) -> Cache:
    """The cache `[cache]` asks for (the config loader has validated `backend`)."""
    if section.backend == "redis":
        from bot.cache.redis import RedisCache  # imported only when Redis is configured

        return RedisCache.from_url(section.url, ttl_s=section.ttl_s)
    return MemoryCache(ttl_s=section.ttl_s, max_entries=section.max_entries, clock=clock)
