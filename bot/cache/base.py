"""The cache seam: byte values grouped in per-owner namespaces, dropped together.

A namespace (for instance one user's memories) holds several keys; `invalidate` drops all of
them at once, which is what "invalidated on every write for that user" needs. Entries live
at most `ttl_s` seconds after their namespace was first filled. Implementations: `MemoryCache`
(in-process LRU, the default) and `RedisCache` (shared between processes).
"""

from __future__ import annotations

from typing import Protocol


class CacheError(Exception):
    """The cache backend cannot be reached; callers fall back to the store."""


class Cache(Protocol):
    ttl_s: float

    async def get(self, namespace: str, key: str) -> bytes | None:
        """The cached value, or None when absent or expired."""
        ...

    async def set(self, namespace: str, key: str, value: bytes) -> None: ...

    async def invalidate(self, namespace: str) -> None:
        """Drop every key of `namespace`."""
        ...

    async def close(self) -> None: ...
