"""Remember, recall, list and forget through the service, on a real database and cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.cache import Cache, MemoryCache
from bot.cache.redis import RedisCache
from bot.memory_service import MemoryCommands, MemoryService
from bot.storage.db import Database
from bot.storage.memories import MemoryStore
from personality.memory import DAY_S, MemoryMatrix, RecallPolicy
from tests.clocks import FakeClock
from tests.database import open_database
from tests.memory_support import HashEmbedder, add_user

EMBED = HashEmbedder()


class CountingStore(MemoryStore):
    """The real store, counting how often a user's matrix is read from the database."""

    loads = 0

    async def load_matrix(self, user_id: int, now: float) -> MemoryMatrix:
        self.loads += 1
        return await super().load_matrix(user_id, now)


def _service(
    db: Database, cache: Cache, clock: FakeClock, *, max_per_user: int = 10_000
) -> tuple[MemoryService, CountingStore]:
    store = CountingStore(db, max_per_user=max_per_user)
    service = MemoryService(
        store,
        cache,
        EMBED,
        policy=RecallPolicy(top_k=5, token_budget=300, similarity_floor=0.35),
        max_chars=1000,
        max_per_user=max_per_user,
        clock=clock,
    )
    return service, store


async def _tell(service: MemoryService, user: int, text: str) -> list[int]:
    return [m.id for m in await service.observe(user, text, await EMBED.embed_one(text))]


async def _recall(service: MemoryService, user: int, text: str) -> list[str]:
    return [m.text for m in await service.recall(user, await EMBED.embed_one(text))]


async def test_a_repeated_fact_updates_the_memory_instead_of_adding_one(
    db: Database, cache: Cache
) -> None:
    service, _ = _service(db, cache, FakeClock())
    user = await add_user(db, "alice")
    (first,) = await _tell(service, user, "I'm a nurse")
    (again,) = await _tell(service, user, "I am a nurse!")
    assert again == first
    assert await service.count(user) == 1
    assert await _recall(service, user, "nurse") == ["I am a nurse!"]


async def test_recall_finds_the_related_memory_and_nothing_for_unrelated_text(
    db: Database, cache: Cache
) -> None:
    service, _ = _service(db, cache, FakeClock())
    user = await add_user(db, "alice")
    await _tell(service, user, "my sister Ana is getting married in May")
    await _tell(service, user, "I love hiking in the mountains")
    assert await _recall(service, user, "when is Ana getting married") == [
        "my sister Ana is getting married in May"
    ]
    assert await _recall(service, user, "how does photosynthesis work") == []


async def test_two_users_with_similar_facts_never_see_each_others(
    db: Database, cache: Cache
) -> None:
    service, _ = _service(db, cache, FakeClock())
    alice, bob = await add_user(db, "alice"), await add_user(db, "bob")
    await _tell(service, alice, "my sister Ana is getting married in May")
    await _tell(service, bob, "my sister Ana is getting married in June")
    query = "tell me about my sister Ana getting married"
    assert await _recall(service, alice, query) == ["my sister Ana is getting married in May"]
    assert await _recall(service, bob, query) == ["my sister Ana is getting married in June"]
    commands = MemoryCommands(service)
    assert "June" not in await commands.memories(alice)
    assert "May" not in await commands.memories(bob)


async def test_recall_is_cached_until_the_ttl_and_sees_every_write(db: Database) -> None:
    clock = FakeClock()
    service, store = _service(db, MemoryCache(ttl_s=300.0, clock=clock), clock)
    user = await add_user(db, "alice")
    await _tell(service, user, "I have a dog called Rex")
    assert store.loads == 1  # read once to look for a duplicate, then kept warm by the write
    assert await _recall(service, user, "my dog Rex") == ["I have a dog called Rex"]
    assert await _recall(service, user, "how is Rex the dog") == ["I have a dog called Rex"]
    assert store.loads == 1  # both queries ranked the cached matrix
    clock.advance(299)
    assert await _recall(service, user, "my dog Rex") == ["I have a dog called Rex"]
    assert store.loads == 1
    clock.advance(1)
    await _recall(service, user, "my dog Rex")
    assert store.loads == 2  # the TTL ran out
    await _tell(service, user, "my dog Rex loves the beach")
    assert len(await _recall(service, user, "my dog Rex")) == 2  # the write is seen at once


async def test_recording_a_recall_keeps_the_cache(db: Database) -> None:
    clock = FakeClock()
    service, store = _service(db, MemoryCache(clock=clock), clock)
    user = await add_user(db, "alice")
    await _tell(service, user, "I have a dog called Rex")
    recalled = await service.recall(user, await EMBED.embed_one("Rex the dog"))
    await service.mark_recalled(user, recalled)
    loads = store.loads
    await service.recall(user, await EMBED.embed_one("Rex the dog again"))
    assert store.loads == loads
    (row,) = await db.fetchall("SELECT last_recalled_at FROM memories")
    assert row[0] == clock.now


async def test_expired_memories_are_never_recalled_even_from_the_cache(db: Database) -> None:
    clock = FakeClock()
    service, _ = _service(db, MemoryCache(ttl_s=30 * DAY_S, clock=clock), clock)
    user = await add_user(db, "alice")
    await _tell(service, user, "I'm going to the dentist tomorrow")
    await _tell(service, user, "I hate the dentist drill")
    query = "the dentist appointment"
    assert len(await _recall(service, user, query)) == 2
    clock.advance(2 * DAY_S)
    assert await _recall(service, user, query) == ["I hate the dentist drill"]
    assert await service.delete_expired() == 1
    assert await service.count(user) == 1


async def test_memories_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    first = await open_database(tmp_path / "r.db")
    user = await add_user(first, "alice")
    service, _ = _service(first, MemoryCache(clock=clock), clock)
    await _tell(service, user, "I'm allergic to peanuts")
    await first.close()
    again = await open_database(tmp_path / "r.db")
    service, _ = _service(again, MemoryCache(clock=clock), clock)
    assert await _recall(service, user, "can I eat peanuts") == ["I'm allergic to peanuts"]
    await again.close()


async def test_a_dead_cache_falls_back_to_the_store(db: Database) -> None:
    dead = RedisCache.from_url("redis://127.0.0.1:1/0", ttl_s=300.0)
    service, _ = _service(db, dead, FakeClock())
    user = await add_user(db, "alice")
    await _tell(service, user, "I live in Porto")
    assert await _recall(service, user, "weather in Porto") == ["I live in Porto"]
    await dead.close()


async def test_remember_pins_and_bounds_a_huge_text(db: Database, cache: Cache) -> None:
    service, _ = _service(db, cache, FakeClock())
    commands = MemoryCommands(service)
    user = await add_user(db, "alice")
    reply = await commands.remember(user, "my garden " * 10_000)
    assert "kept the first 1000 characters" in reply
    (row,) = await db.fetchall("SELECT length(text), pinned, kind FROM memories")
    assert row[0] <= 1000
    assert (row[1], row[2]) == (1, "explicit")


@pytest.mark.parametrize("text", ["", "   ", "🎉🎉🎉", "👍 🙂"])
async def test_remember_refuses_empty_and_emoji_only(
    db: Database, cache: Cache, text: str
) -> None:
    service, _ = _service(db, cache, FakeClock())
    user = await add_user(db, "alice")
    reply = await MemoryCommands(service).remember(user, text)
    assert reply.startswith("Tell me what to remember in words")
    assert await service.count(user) == 0


async def test_remember_when_every_slot_is_pinned(db: Database, cache: Cache) -> None:
    service, _ = _service(db, cache, FakeClock(), max_per_user=2)
    commands = MemoryCommands(service)
    user = await add_user(db, "alice")
    await commands.remember(user, "my bike lock code is 1234")
    await commands.remember(user, "my favourite colour is teal")
    reply = await commands.remember(user, "my cat is called Miso")
    assert "as many pinned memories as I can keep" in reply
    assert await service.count(user) == 2


async def test_memories_lists_only_the_users_own_with_ids(db: Database, cache: Cache) -> None:
    service, _ = _service(db, cache, FakeClock())
    commands = MemoryCommands(service)
    alice, bob = await add_user(db, "alice"), await add_user(db, "bob")
    assert "don't remember anything" in await commands.memories(alice)
    await commands.remember(alice, "my locker is 12")
    (mine,) = await _tell(service, alice, "I work as a baker")
    await commands.remember(bob, "bob's secret")
    listing = await commands.memories(alice)
    assert f"#{mine}: I work as a baker" in listing
    assert "(pinned): my locker is 12" in listing
    assert "secret" not in listing


async def test_forget_memory_refuses_someone_elses_id_as_if_it_did_not_exist(
    db: Database, cache: Cache
) -> None:
    service, _ = _service(db, cache, FakeClock())
    commands = MemoryCommands(service)
    alice, bob = await add_user(db, "alice"), await add_user(db, "bob")
    await commands.remember(alice, "my bank pin is 9876")
    (alices,) = await service.listing(alice, 10)
    missing = alices.id + 1000
    foreign = await commands.forget_memory(bob, str(alices.id))
    absent = await commands.forget_memory(bob, str(missing))
    assert foreign.replace(str(alices.id), "N") == absent.replace(str(missing), "N")
    assert await service.count(alice) == 1
    assert (await commands.forget_memory(bob, "abc")).startswith("Usage: /forget_memory ID")
    assert (await commands.forget_memory(bob, "9" * 40)).startswith("Usage")


async def test_forget_memory_deletes_and_drops_the_cache(db: Database, cache: Cache) -> None:
    service, _ = _service(db, cache, FakeClock())
    commands = MemoryCommands(service)
    user = await add_user(db, "alice")
    await commands.remember(user, "my dog is called Rex")
    assert await _recall(service, user, "dog Rex") == ["my dog is called Rex"]
    (memory,) = await service.listing(user, 10)
    assert (
        await commands.forget_memory(user, f"#{memory.id}") == f"Forgotten: memory #{memory.id}."
    )
    assert await _recall(service, user, "dog Rex") == []


async def test_a_statement_inside_a_longer_message_gets_its_own_embedding(db: Database) -> None:
    clock = FakeClock()
    service, store = _service(db, MemoryCache(clock=clock), clock)
    user = await add_user(db, "alice")
    message = "Hi! I'm a nurse. How are you?"
    (memory,) = await service.observe(user, message, await EMBED.embed_one(message))
    assert memory.text == "I'm a nurse."
    matrix = await store.load_matrix(user, clock.now)
    np.testing.assert_allclose(matrix.embeddings[0], await EMBED.embed_one("I'm a nurse."))


async def test_a_message_without_embedding_recalls_nothing(db: Database) -> None:
    clock = FakeClock()
    service, _ = _service(db, MemoryCache(clock=clock), clock)
    user = await add_user(db, "alice")
    await service.observe(user, "I'm a nurse", None)
    assert await service.recall(user, None) == []
    assert await _recall(service, user, "nurse") == ["I'm a nurse"]


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_new_memory_keeps_the_matrix_warm_and_is_recalled_at_once(
    db: Database, backend: str, request: pytest.FixtureRequest
) -> None:
    clock = FakeClock()
    cache: Cache = MemoryCache(clock=clock)
    if backend == "redis":
        cache = RedisCache.from_url(request.getfixturevalue("redis_url"))
    service, store = _service(db, cache, clock)
    user = await add_user(db, "alice")
    await _tell(service, user, "I have a dog called Rex")
    assert await _recall(service, user, "my dog Rex") == ["I have a dog called Rex"]
    loads = store.loads
    await _tell(service, user, "my cat Tom sleeps on the sofa all day")
    assert await _recall(service, user, "Tom the cat") == ["my cat Tom sleeps on the sofa all day"]
    assert store.loads == loads  # the write grew the cached matrix instead of dropping it
    fresh = await store.load_matrix(user, clock.now)
    cached = MemoryMatrix.from_bytes(await cache.get(f"memories:{user}", "matrix") or b"")
    assert list(cached.ids) == list(fresh.ids)
    assert np.allclose(cached.embeddings, fresh.embeddings)
    assert list(cached.chars) == list(fresh.chars)
    await cache.close()


async def test_an_insert_that_evicts_reloads_the_matrix(db: Database) -> None:
    clock = FakeClock()
    service, store = _service(db, MemoryCache(clock=clock), clock, max_per_user=2)
    user = await add_user(db, "alice")
    await _tell(service, user, "I have a dog called Rex")
    clock.advance(1)
    await _tell(service, user, "I work as a nurse at night")
    clock.advance(1)
    await _tell(service, user, "my favourite food is ramen")  # evicts the oldest
    loads = store.loads
    recalled = await _recall(service, user, "my dog Rex")
    assert "I have a dog called Rex" not in recalled
    assert store.loads == loads + 1  # eviction dropped the cached matrix: read again
