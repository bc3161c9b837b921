"""Helpers for the memory and cache tests: a clock, deterministic embeddings, a database, and
a real `redis-server` on a free loopback port."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.storage.db import Database
from personality.memory import EMBEDDING_DIM

REDIS_BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"


def unit(seed: int, dim: int = EMBEDDING_DIM) -> npt.NDArray[np.float32]:
    """A deterministic random unit vector."""
    row: npt.NDArray[np.float32] = (
        np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    )
    row /= np.linalg.norm(row)
    return row


def at_cosine(base: npt.NDArray[np.float32], cosine: float, seed: int) -> npt.NDArray[np.float32]:
    """A unit vector whose cosine with unit vector `base` is exactly `cosine`."""
    other = unit(seed, base.shape[0])
    orthogonal = other - float(other @ base) * base
    orthogonal /= np.linalg.norm(orthogonal)
    row: npt.NDArray[np.float32] = (cosine * base + np.sqrt(1.0 - cosine**2) * orthogonal).astype(
        np.float32
    )
    return row


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    (
        "a",
        "an",
        "the",
        "i",
        "am",
        "is",
        "are",
        "was",
        "my",
        "me",
        "you",
        "your",
        "to",
        "of",
        "in",
        "on",
        "at",
        "and",
        "or",
        "for",
        "with",
        "what",
        "do",
        "does",
        "did",
        "it",
        "that",
        "this",
        "be",
        "have",
        "has",
        "m",
        "s",
        "ll",
        "ve",
        "re",
        "t",
        "d",
    )
)


class HashEmbedder:
    """Hashed bag of words (each word a signed random direction), L2-normalised: texts that
    share words are similar, others are near-orthogonal. Deterministic and model-free."""

    dim = EMBEDDING_DIM

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._row(text) for text in texts])

    async def embed_one(self, text: str) -> npt.NDArray[np.float32]:
        return self._row(text)

    def _row(self, text: str) -> npt.NDArray[np.float32]:
        row = np.zeros(self.dim, np.float32)
        for word in _WORD.findall(text.lower()):
            if word in _STOP:
                continue
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            row += unit(seed, self.dim)
        norm = float(np.linalg.norm(row))
        if norm:
            row /= norm
        return row


async def add_user(db: Database, name: str, now: float = 1_700_000_000.0) -> int:
    result = await db.write(
        "INSERT INTO users (platform, platform_user_id, display_name, created_at, last_seen_at)"
        " VALUES ('console', ?, ?, ?, ?)",
        (name, name, now, now),
    )
    assert result.lastrowid is not None
    return result.lastrowid
