"""The in-process cache: per-namespace TTL, least-recently-used eviction, an injected clock."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Namespace:
    expires_at: float
    values: dict[str, bytes] = field(default_factory=dict)
    nbytes: int = 0


class MemoryCache:
    """Namespaces in LRU order; the least recently used go first when more than `max_entries`
    keys or `max_bytes` of values are held. Not shared between processes."""

    def __init__(
        self,
        *,
        ttl_s: float = 300.0,
        max_entries: int = 10_000,
        max_bytes: int = 512 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._spaces: OrderedDict[str, _Namespace] = OrderedDict()
        self._entries = 0
        self._bytes = 0

    @property
    def entries(self) -> int:
        return self._entries

    @property
    def nbytes(self) -> int:
        return self._bytes

    async def get(self, namespace: str, key: str) -> bytes | None:
        space = self._live(namespace)
        if space is None:
            return None
        self._spaces.move_to_end(namespace)
        return space.values.get(key)

    async def set(self, namespace: str, key: str, value: bytes) -> None:
        space = self._live(namespace)
        if space is None:
            space = self._spaces[namespace] = _Namespace(self._clock() + self.ttl_s)
        old = space.values.get(key)
        if old is not None:
            self._account(space, -1, -len(old))
        space.values[key] = value
        self._account(space, 1, len(value))
        self._spaces.move_to_end(namespace)
        self._evict(keep=namespace)

    async def invalidate(self, namespace: str) -> None:
        self._drop(namespace)

    async def close(self) -> None:
        for namespace in list(self._spaces):
            self._drop(namespace)

    def _live(self, namespace: str) -> _Namespace | None:
        space = self._spaces.get(namespace)
        if space is not None and space.expires_at <= self._clock():
            self._drop(namespace)
            return None
        return space

    def _account(self, space: _Namespace, entries: int, nbytes: int) -> None:
        space.nbytes += nbytes
        self._entries += entries
        self._bytes += nbytes

    def _drop(self, namespace: str) -> None:
        space = self._spaces.pop(namespace, None)
        if space is not None:
            self._entries -= len(space.values)
            self._bytes -= space.nbytes

    def _evict(self, keep: str) -> None:
        """Drop least recently used namespaces until within bounds; the one just written is
        kept even if it alone exceeds them (so a set is always readable right after)."""
        while self._entries > self._max_entries or self._bytes > self._max_bytes:
            oldest = next(iter(self._spaces))
            if oldest == keep:
                return
            self._drop(oldest)
