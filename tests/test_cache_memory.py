"""The in-process cache's own promises: TTL on an injected clock and bounded size (LRU)."""

from __future__ import annotations

from bot.cache import MemoryCache
from tests.clocks import FakeClock


async def test_entries_expire_ttl_after_the_namespace_was_filled() -> None:
    clock = FakeClock()
    cache = MemoryCache(ttl_s=300.0, clock=clock)
    await cache.set("memories:1", "matrix", b"m")
    clock.advance(200)
    await cache.set("memories:1", "recall:a", b"r")
    assert await cache.get("memories:1", "matrix") == b"m"
    clock.advance(99.9)
    assert await cache.get("memories:1", "recall:a") == b"r"
    clock.advance(0.1)
    assert await cache.get("memories:1", "matrix") is None
    assert await cache.get("memories:1", "recall:a") is None
    assert cache.entries == 0
    assert cache.nbytes == 0


async def test_a_namespace_filled_after_expiry_starts_a_new_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(ttl_s=10.0, clock=clock)
    await cache.set("memories:1", "k", b"1")
    clock.advance(10)
    await cache.set("memories:1", "k", b"2")
    clock.advance(9)
    assert await cache.get("memories:1", "k") == b"2"


async def test_least_recently_used_namespace_goes_first_past_max_entries() -> None:
    cache = MemoryCache(max_entries=2, clock=FakeClock())
    await cache.set("memories:1", "k", b"1")
    await cache.set("memories:2", "k", b"2")
    assert await cache.get("memories:1", "k") == b"1"  # 1 is now the most recently used
    await cache.set("memories:3", "k", b"3")
    assert await cache.get("memories:2", "k") is None
    assert await cache.get("memories:1", "k") == b"1"
    assert await cache.get("memories:3", "k") == b"3"
    assert cache.entries == 2


async def test_byte_bound_evicts_but_keeps_the_value_just_written() -> None:
    cache = MemoryCache(max_bytes=100, clock=FakeClock())
    await cache.set("memories:1", "k", b"x" * 60)
    await cache.set("memories:2", "k", b"y" * 60)
    assert await cache.get("memories:1", "k") is None
    await cache.set("memories:3", "k", b"z" * 500)
    assert await cache.get("memories:3", "k") == b"z" * 500
    assert cache.nbytes == 500


async def test_replacing_a_value_keeps_the_accounting_exact() -> None:
    cache = MemoryCache(clock=FakeClock())
    await cache.set("memories:1", "k", b"x" * 10)
    await cache.set("memories:1", "k", b"x" * 3)
    assert (cache.entries, cache.nbytes) == (1, 3)
    await cache.invalidate("memories:1")
    assert (cache.entries, cache.nbytes) == (0, 0)
