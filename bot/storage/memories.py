"""The memories table: one user's long-term memories, always read and written per user.

Every statement is scoped by `user_id`, including those addressed by a memory id, so a
caller can never read, refresh or delete another user's memory by guessing its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.storage.db import Database
from bot.storage.writer import Statement
from personality.memory import EMBEDDING_DIM, MemoryMatrix
from personality.signals import Embedding

_INF = float("inf")


@dataclass(frozen=True, slots=True)
class NewMemory:
    text: str
    kind: str
    embedding: Embedding
    importance: float
    pinned: bool
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class StoredMemory:
    id: int
    text: str
    kind: str
    pinned: bool
    created_at: float
    expires_at: float | None


def _blob(embedding: Embedding) -> bytes:
    row = np.asarray(embedding, dtype="<f4").reshape(-1)
    if row.shape[0] != EMBEDDING_DIM:
        raise ValueError(f"memory embeddings have {EMBEDDING_DIM} values, not {row.shape[0]}")
    return row.tobytes()


class MemoryStore:
    def __init__(self, db: Database, *, max_per_user: int = 10_000) -> None:
        self._db = db
        self._max_per_user = max_per_user

    async def load_matrix(self, user_id: int, now: float) -> MemoryMatrix:
        """The user's memories that have not expired at `now`."""
        rows = await self._db.fetchall(
            "SELECT id, embedding, importance, touched_at, COALESCE(expires_at, ?),"
            " length(text), pinned FROM memories"
            " WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
            (_INF, user_id, now),
        )
        if not rows:
            return MemoryMatrix.empty()
        ids, blobs, importance, touched, expires, chars, pinned = zip(*rows, strict=True)
        embeddings = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(rows), -1)
        return MemoryMatrix(
            np.array(ids, np.int64),
            embeddings.astype(np.float32, copy=False),
            np.array(importance, np.float32),
            np.array(touched, np.float64),
            np.array(expires, np.float64),
            np.array(chars, np.int32),
            np.array(pinned, np.bool_),
        )

    async def count(self, user_id: int) -> tuple[int, int]:
        """How many memories the user has (expired or not), and how many are pinned."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), COALESCE(SUM(pinned), 0) FROM memories WHERE user_id = ?",
            (user_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def count_live(self, user_id: int, now: float) -> int:
        """How many of the user's memories have not expired at `now`."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM memories"
            " WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?)",
            (user_id, now),
        )
        return int(row[0]) if row else 0

    async def insert(self, user_id: int, memory: NewMemory, now: float) -> int:
        """Store a memory; if the user is at `max_per_user`, an unpinned memory makes room
        for it in the same transaction: an expired one first, else the one used least
        recently (recalled or told)."""
        results = await self._db.write_many(
            [
                Statement(
                    "DELETE FROM memories WHERE id IN (SELECT id FROM memories"
                    " WHERE user_id = ? AND pinned = 0"
                    " ORDER BY COALESCE(expires_at <= ?, 0) DESC,"
                    " COALESCE(last_recalled_at, touched_at), id LIMIT max(0,"
                    " (SELECT COUNT(*) FROM memories WHERE user_id = ?) - ? + 1))",
                    (user_id, now, user_id, self._max_per_user),
                ),
                Statement(
                    "INSERT INTO memories (user_id, text, kind, embedding, importance, pinned,"
                    " created_at, touched_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user_id,
                        memory.text,
                        memory.kind,
                        _blob(memory.embedding),
                        memory.importance,
                        int(memory.pinned),
                        now,
                        now,
                        memory.expires_at,
                    ),
                ),
            ]
        )
        memory_id = results[-1].lastrowid
        if memory_id is None:  # pragma: no cover - sqlite always reports it
            raise LookupError("memory id missing after insert")
        return memory_id

    async def refresh(self, user_id: int, memory_id: int, memory: NewMemory, now: float) -> bool:
        """Fold a near-duplicate into an existing memory: the newest wording and embedding,
        the higher importance, pinned if either is; the expiry of the newest statement (none
        once pinned). Returns whether the user's memory existed."""
        result = await self._db.write(
            "UPDATE memories SET text = ?, embedding = ?, importance = max(importance, ?),"
            " pinned = max(pinned, ?), mentions = mentions + 1, touched_at = ?,"
            " expires_at = CASE WHEN max(pinned, ?) = 1 THEN NULL ELSE ? END,"
            " kind = CASE WHEN ? = 1 THEN 'explicit' ELSE kind END"
            " WHERE id = ? AND user_id = ?",
            (
                memory.text,
                _blob(memory.embedding),
                memory.importance,
                int(memory.pinned),
                now,
                int(memory.pinned),
                memory.expires_at,
                int(memory.pinned),
                memory_id,
                user_id,
            ),
        )
        return result.rowcount == 1

    async def texts(self, user_id: int, ids: Sequence[int]) -> dict[int, str]:
        """The texts of the user's memories among `ids` (others' ids are ignored)."""
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = await self._db.fetchall(
            f"SELECT id, text FROM memories WHERE user_id = ? AND id IN ({marks})",
            (user_id, *ids),
        )
        return {int(row[0]): str(row[1]) for row in rows}

    async def listing(
        self, user_id: int, now: float, limit: int, offset: int = 0
    ) -> list[StoredMemory]:
        """The user's live memories, oldest first."""
        rows = await self._db.fetchall(
            "SELECT id, text, kind, pinned, created_at, expires_at FROM memories"
            " WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?)"
            " ORDER BY id LIMIT ? OFFSET ?",
            (user_id, now, limit, offset),
        )
        return [
            StoredMemory(int(r[0]), str(r[1]), str(r[2]), bool(r[3]), float(r[4]), r[5])
            for r in rows
        ]

    async def delete(self, user_id: int, memory_id: int) -> bool:
        """Delete the user's memory; False if the user has no memory with that id."""
        result = await self._db.write(
            "DELETE FROM memories WHERE id = ? AND user_id = ?", (memory_id, user_id)
        )
        return result.rowcount == 1

    async def delete_expired(self, now: float) -> int:
        """Delete every memory expired at `now` (the weekly job); returns how many."""
        result = await self._db.write("DELETE FROM memories WHERE expires_at <= ?", (now,))
        return result.rowcount

    async def mark_recalled(self, user_id: int, ids: Sequence[int], now: float) -> None:
        """Record that these memories went into a prompt (eviction keeps used ones longest)."""
        if not ids:
            return
        marks = ", ".join("?" * len(ids))
        await self._db.write(
            f"UPDATE memories SET last_recalled_at = ? WHERE user_id = ? AND id IN ({marks})",
            (now, user_id, *ids),
        )
