"""Long-term memory glue: remember, recall, list and forget, on the store behind a cache.

Per user the cache holds the memory matrix (key "matrix") and the results of recent recalls
(key "recall:<hash of the query embedding>") in the namespace "memories:<user id>"; every
write for that user drops the namespace. A cached recall is reused until its TTL, unless one
of its memories has expired since. Recording that memories were recalled does not drop the
cache: ranking does not read `last_recalled_at` (only eviction at `max_per_user` does).

The cache is an optimisation: when it fails (`CacheError`), recall reads the store and a
failed invalidation is logged (entries then live at most until their TTL).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.cache.base import Cache, CacheError
from bot.config import MemorySection
from bot.storage.memories import MemoryStore, NewMemory, StoredMemory
from personality.memory import (
    IMPORTANCE,
    MemoryCandidate,
    MemoryMatrix,
    RecallPolicy,
    bounded,
    extract,
    find_duplicate,
    normalised,
    rank,
)
from personality.signals import Embedding

log = logging.getLogger(__name__)


class TextEmbedder(Protocol):
    """What the service needs to embed a text it was not given an embedding for
    (`bot.embedding.AsyncEmbedder` is one)."""

    async def embed_one(self, text: str) -> Embedding: ...


@dataclass(frozen=True, slots=True)
class RecalledMemory:
    id: int
    text: str
    score: float
    similarity: float


@dataclass(frozen=True, slots=True)
class Remembered:
    """The outcome of storing one statement."""

    id: int
    text: str
    refreshed: bool
    """True when it repeated an existing memory, which was updated instead."""
    truncated: bool


class MemoryFullError(Exception):
    """The user has `max_per_user` pinned memories; nothing can make room for another."""


def _namespace(user_id: int) -> str:
    return f"memories:{user_id}"


def _recall_key(query: Embedding) -> str:
    return "recall:" + hashlib.blake2b(normalised(query).tobytes(), digest_size=16).hexdigest()


class MemoryService:
    def __init__(
        self,
        store: MemoryStore,
        cache: Cache,
        embedder: TextEmbedder,
        *,
        policy: RecallPolicy,
        max_chars: int = 1000,
        max_per_user: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._cache = cache
        self._embedder = embedder
        self._policy = policy
        self.max_chars = max_chars
        self._max_per_user = max_per_user
        self._clock = clock

    @classmethod
    def from_section(
        cls,
        store: MemoryStore,
        cache: Cache,
        embedder: TextEmbedder,
        section: MemorySection,
        clock: Callable[[], float] = time.time,
    ) -> MemoryService:
        policy = RecallPolicy(section.top_k, section.token_budget, section.similarity_floor)
        return cls(
            store,
            cache,
            embedder,
            policy=policy,
            max_chars=section.max_chars,
            max_per_user=section.max_per_user,
            clock=clock,
        )

    async def observe(
        self, user_id: int, text: str, embedding: Embedding | None
    ) -> list[Remembered]:
        """Store what the documented cues find memorable in a user's message. `embedding` is
        the message's own (reused when the statement is the whole message); other statements
        are embedded alone."""
        stored: list[Remembered] = []
        whole = bounded(text, self.max_chars)[0]
        for candidate in extract(text, self.max_chars):
            vector = embedding if candidate.text == whole else None
            try:
                stored.append(await self._store_candidate(user_id, candidate, vector, False))
            except MemoryFullError:
                log.info("memory of user %s is full of pinned memories", _hashed(user_id))
        return stored

    async def remember(self, user_id: int, text: str) -> Remembered:
        """Store `text` as a pinned memory (/remember). Raises ValueError when it has no
        words and MemoryFullError when the user has no room left."""
        body, truncated = bounded(text, self.max_chars)
        if not any(char.isalnum() for char in body):
            raise ValueError("a memory needs at least one letter or digit")
        candidate = MemoryCandidate(body, "explicit", IMPORTANCE["explicit"], True)
        return await self._store_candidate(user_id, candidate, None, truncated)

    async def recall(self, user_id: int, query: Embedding | None) -> list[RecalledMemory]:
        """The user's memories for a message with embedding `query`, best first (none when
        the message could not be embedded)."""
        if query is None:
            return []
        now = self._clock()
        namespace, key = _namespace(user_id), _recall_key(query)
        cached = await self._cache_get(namespace, key)
        if cached is not None:
            until, memories = _decode_recall(cached)
            if until > now:
                return memories
        matrix = await self._matrix(user_id, now)
        ranked = rank(matrix, query, now, self._policy)
        texts = await self._store.texts(user_id, [r.id for r in ranked])
        memories = [
            RecalledMemory(r.id, texts[r.id], r.score, r.similarity)
            for r in ranked
            if r.id in texts
        ]
        until = min((r.expires_at for r in ranked), default=float("inf"))
        await self._cache_set(namespace, key, _encode_recall(until, memories))
        return memories

    async def mark_recalled(self, user_id: int, memories: Sequence[RecalledMemory]) -> None:
        """Record that these memories went into a reply's prompt (call after replying)."""
        await self._store.mark_recalled(user_id, [m.id for m in memories], self._clock())

    async def listing(self, user_id: int, limit: int, offset: int = 0) -> list[StoredMemory]:
        return await self._store.listing(user_id, self._clock(), limit, offset)

    async def count(self, user_id: int) -> int:
        """How many live memories the user has."""
        return await self._store.count_live(user_id, self._clock())

    async def forget(self, user_id: int, memory_id: int) -> bool:
        """Delete the user's memory `memory_id`; False if the user has none with that id."""
        deleted = await self._store.delete(user_id, memory_id)
        if deleted:
            await self.invalidate(user_id)
        return deleted

    async def delete_expired(self) -> int:
        """The weekly cleanup. Caches need no invalidation: expired memories are filtered
        out at recall time."""
        return await self._store.delete_expired(self._clock())

    async def invalidate(self, user_id: int) -> None:
        """Drop the user's cached memories (call after erasing the user with /forget)."""
        try:
            await self._cache.invalidate(_namespace(user_id))
        except CacheError:
            log.exception("memory cache of user %s not invalidated", _hashed(user_id))

    async def _store_candidate(
        self,
        user_id: int,
        candidate: MemoryCandidate,
        embedding: Embedding | None,
        truncated: bool,
    ) -> Remembered:
        now = self._clock()
        vector = normalised(
            embedding if embedding is not None else await self._embedder.embed_one(candidate.text)
        )
        expires_at = None if candidate.expires_in_s is None else now + candidate.expires_in_s
        memory = NewMemory(
            candidate.text,
            candidate.kind,
            vector,
            candidate.importance,
            candidate.pinned,
            expires_at,
        )
        matrix = await self._matrix(user_id, now)
        duplicate = find_duplicate(matrix, vector, now)
        if duplicate is not None and await self._store.refresh(user_id, duplicate, memory, now):
            await self.invalidate(user_id)
            return Remembered(duplicate, candidate.text, True, truncated)
        total, pinned = await self._store.count(user_id)
        if total >= self._max_per_user and pinned >= self._max_per_user:
            raise MemoryFullError(f"{pinned} pinned memories, the most kept per user")
        memory_id = await self._store.insert(user_id, memory, now)
        await self.invalidate(user_id)  # recall results are stale either way
        if total < self._max_per_user:
            # Nothing was evicted, so the cached matrix plus this row is exactly what the
            # store holds: keep it warm instead of reloading every embedding next time.
            grown = matrix.with_row(
                memory_id,
                vector,
                memory.importance,
                now,
                expires_at,
                len(memory.text),
                memory.pinned,
            )
            await self._cache_set(_namespace(user_id), "matrix", grown.to_bytes())
        return Remembered(memory_id, candidate.text, False, truncated)

    async def _matrix(self, user_id: int, now: float) -> MemoryMatrix:
        namespace = _namespace(user_id)
        cached = await self._cache_get(namespace, "matrix")
        if cached is not None:
            return MemoryMatrix.from_bytes(cached)
        matrix = await self._store.load_matrix(user_id, now)
        await self._cache_set(namespace, "matrix", matrix.to_bytes())
        return matrix

    async def _cache_get(self, namespace: str, key: str) -> bytes | None:
        try:
            return await self._cache.get(namespace, key)
        except CacheError as exc:
            log.warning("memory cache read failed, reading the store: %s", exc)
            return None

    async def _cache_set(self, namespace: str, key: str, value: bytes) -> None:
        try:
            await self._cache.set(namespace, key, value)
        except CacheError as exc:
            log.warning("memory cache write failed: %s", exc)


def _hashed(user_id: int) -> str:
    return hashlib.blake2b(str(user_id).encode(), digest_size=6).hexdigest()


def _encode_recall(until: float, memories: Sequence[RecalledMemory]) -> bytes:
    items = [[m.id, m.text, m.score, m.similarity] for m in memories]
    return json.dumps({"until": until, "items": items}).encode("utf-8")


def _decode_recall(data: bytes) -> tuple[float, list[RecalledMemory]]:
    payload = json.loads(data)
    items = [RecalledMemory(int(i), str(t), float(s), float(c)) for i, t, s, c in payload["items"]]
    return float(payload["until"]), items


LIST_LIMIT = 50
"""/memories shows at most this many memories (a user may have 10,000)."""
LIST_PREVIEW_CHARS = 200


class MemoryCommands:
    """The logic of /remember, /memories and /forget_memory; each returns the reply text.

    A /forget_memory for another user's id gets exactly the answer for a missing id, so
    nobody learns which ids exist.
    """

    def __init__(self, service: MemoryService) -> None:
        self._service = service

    async def remember(self, user_id: int, text: str) -> str:
        try:
            stored = await self._service.remember(user_id, text)
        except ValueError:
            return (
                "Tell me what to remember in words, for example: /remember my sister's "
                "name is Ana. (An empty note or emoji alone can't be recalled.)"
            )
        except MemoryFullError:
            return (
                "You already have as many pinned memories as I can keep. "
                "Delete one with /forget_memory ID first (/memories lists them)."
            )
        cut = (
            f"That was long, so I kept the first {self._service.max_chars} characters. "
            if stored.truncated
            else ""
        )
        if stored.refreshed:
            return f"{cut}I already knew that; I updated memory #{stored.id}: {stored.text}"
        return f"{cut}Got it, I'll remember (memory #{stored.id}): {stored.text}"

    async def memories(self, user_id: int) -> str:
        shown = await self._service.listing(user_id, LIST_LIMIT)
        if not shown:
            return "I don't remember anything about you yet. Tell me with /remember TEXT."
        lines = ["Here is what I remember about you (/forget_memory ID deletes one):"]
        for memory in shown:
            text, cut = bounded(memory.text, LIST_PREVIEW_CHARS)
            pin = " (pinned)" if memory.pinned else ""
            lines.append(f"#{memory.id}{pin}: {text}{'…' if cut else ''}")
        total = await self._service.count(user_id)
        if total > len(shown):
            lines.append(f"… and {total - len(shown)} more.")
        return "\n".join(lines)

    async def forget_memory(self, user_id: int, argument: str) -> str:
        token = argument.strip().removeprefix("#")
        if not token.isascii() or not token.isdigit() or len(token) > 18:
            return "Usage: /forget_memory ID, with an ID from /memories."
        if await self._service.forget(user_id, int(token)):
            return f"Forgotten: memory #{token}."
        return f"I have no memory #{token} of yours. /memories lists them."
