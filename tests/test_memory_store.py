"""The memories table on a real SQLite database: scoping, eviction, expiry, restarts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.storage.memories import MemoryStore, NewMemory
from tests.database import open_database
from tests.memory_support import add_user, unit

NOW = 1_700_000_000.0


def _memory(
    text: str, seed: int, *, pinned: bool = False, expires_at: float | None = None
) -> NewMemory:
    return NewMemory(text, "explicit" if pinned else "fact", unit(seed), 0.7, pinned, expires_at)


async def test_insert_and_load_matrix(db: Database) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db)
    first = await store.insert(user, _memory("I'm a nurse", 1), NOW)
    second = await store.insert(user, _memory("I have a dog", 2, pinned=True), NOW + 1)
    matrix = await store.load_matrix(user, NOW + 2)
    assert matrix.ids.tolist() == [first, second]
    np.testing.assert_allclose(matrix.embeddings[1], unit(2))
    assert matrix.pinned.tolist() == [False, True]
    assert matrix.chars.tolist() == [len("I'm a nurse"), len("I have a dog")]
    assert await store.texts(user, [second, first]) == {
        first: "I'm a nurse",
        second: "I have a dog",
    }


async def test_wrong_embedding_width_is_refused(db: Database) -> None:
    user = await add_user(db, "alice")
    bad = NewMemory("I'm a nurse", "fact", np.ones(10, np.float32), 0.7, False, None)
    with pytest.raises(ValueError, match="384"):
        await MemoryStore(db).insert(user, bad, NOW)


async def test_every_access_is_scoped_to_the_owner(db: Database) -> None:
    alice, bob = await add_user(db, "alice"), await add_user(db, "bob")
    store = MemoryStore(db)
    secret = await store.insert(alice, _memory("my pin is 1234", 1), NOW)
    assert len(await store.load_matrix(bob, NOW)) == 0
    assert await store.texts(bob, [secret]) == {}
    assert await store.listing(bob, NOW, 10) == []
    assert not await store.delete(bob, secret)
    assert not await store.refresh(bob, secret, _memory("hijack", 2), NOW)
    assert await store.texts(alice, [secret]) == {secret: "my pin is 1234"}


async def test_refresh_folds_a_repeat_into_the_memory(db: Database) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db)
    memory_id = await store.insert(user, _memory("I'm going to Rome", 1, expires_at=NOW + 10), NOW)
    assert await store.refresh(
        user, memory_id, _memory("I am going to Rome", 2, pinned=True), NOW + 5
    )
    (row,) = await db.fetchall(
        "SELECT text, kind, pinned, mentions, touched_at, expires_at FROM memories WHERE id = ?",
        (memory_id,),
    )
    assert tuple(row) == ("I am going to Rome", "explicit", 1, 2, NOW + 5, None)


async def test_expired_memories_are_not_loaded_and_are_deleted_by_cleanup(db: Database) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db)
    await store.insert(user, _memory("I'm flying tonight", 1, expires_at=NOW + 100), NOW)
    kept = await store.insert(user, _memory("I'm a nurse", 2), NOW)
    assert len(await store.load_matrix(user, NOW + 99)) == 2
    assert (await store.load_matrix(user, NOW + 100)).ids.tolist() == [kept]
    assert await store.count_live(user, NOW + 100) == 1
    assert await store.delete_expired(NOW + 100) == 1
    assert await store.count(user) == (1, 0)


async def test_at_the_bound_the_least_recently_used_unpinned_memory_makes_room(
    db: Database,
) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db, max_per_user=3)
    pinned = await store.insert(user, _memory("pinned", 1, pinned=True), NOW)
    old = await store.insert(user, _memory("old", 2), NOW + 1)
    used = await store.insert(user, _memory("used", 3), NOW + 2)
    await store.mark_recalled(user, [old], NOW + 3)
    newest = await store.insert(user, _memory("newest", 4), NOW + 4)
    assert (await store.load_matrix(user, NOW + 5)).ids.tolist() == [pinned, old, newest]
    assert used not in (await store.load_matrix(user, NOW + 5)).ids.tolist()


async def test_an_expired_memory_is_evicted_before_a_live_one(db: Database) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db, max_per_user=2)
    live = await store.insert(user, _memory("live", 1), NOW)
    await store.insert(user, _memory("plan", 2, expires_at=NOW + 10), NOW + 1)
    newest = await store.insert(user, _memory("newest", 3), NOW + 20)
    assert (await store.load_matrix(user, NOW + 20)).ids.tolist() == [live, newest]
    assert await store.count(user) == (2, 0)


async def test_memories_survive_a_restart(tmp_path: Path) -> None:
    first = await open_database(tmp_path / "a.db")
    user = await add_user(first, "alice")
    memory_id = await MemoryStore(first).insert(user, _memory("I'm a nurse", 7), NOW)
    await first.close()
    again = await open_database(tmp_path / "a.db")
    matrix = await MemoryStore(again).load_matrix(user, NOW)
    assert matrix.ids.tolist() == [memory_id]
    np.testing.assert_allclose(matrix.embeddings[0], unit(7))
    await again.close()


async def test_forgetting_the_user_erases_their_memories(db: Database) -> None:
    user = await add_user(db, "alice")
    store = MemoryStore(db)
    await store.insert(user, _memory("I'm a nurse", 1), NOW)
    await ConversationStore(db).forget_user(user)
    assert await store.count(user) == (0, 0)
