"""Benchmark for issue 6: recall with N memories (default 10,000) for one user; prints JSON.

Modes, each quoted as p50/p99 in microseconds:
- cold: nothing cached (the user's matrix is read from SQLite, ranked, winners' texts read);
- warm: the matrix is cached, this query is not (rank + read the winners' texts);
- hit: this query's recall is cached.
The baseline, measured in the same run, is a naive recall: read every memory row with its
text and embedding and score it in a Python loop. Ratios are mode p50 / baseline p50.
Memory: bytes of the cached matrix, its encoding, the in-process cache after a recall, and
the SQLite file per N memories. Targets: cold p99 < 5 ms, hit p99 < 50 us.

Run: .venv/bin/python bench/memory_bench.py [--memories N] [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cache import Cache, MemoryCache
from bot.memory_service import MemoryService
from bot.storage.db import Database
from bot.storage.memories import MemoryStore
from bot.storage.migrations import apply_migrations
from personality.memory import EMBEDDING_DIM, RecallPolicy

NOW = 1_700_000_000.0
USER = 1
Vector = npt.NDArray[np.float32]


class _NoEmbedder:
    async def embed_one(self, text: str) -> Vector:
        raise RuntimeError("the benchmark only recalls")


def unit_rows(rng: np.random.Generator, count: int) -> npt.NDArray[np.float32]:
    rows: npt.NDArray[np.float32] = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def fill(path: Path, count: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    vectors = unit_rows(rng, count)
    words = ["sister", "nurse", "hiking", "ramen", "Leeds", "cat", "Spanish", "tea", "books"]
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO users (id, platform, platform_user_id, created_at, last_seen_at)"
            " VALUES (?, 'bench', 'u', ?, ?)",
            (USER, NOW, NOW),
        )
        conn.executemany(
            "INSERT INTO memories (user_id, text, kind, embedding, importance, pinned,"
            " created_at, touched_at, expires_at) VALUES (?, ?, 'fact', ?, ?, 0, ?, ?, ?)",
            (
                (
                    USER,
                    f"memory {i}: I like {words[i % len(words)]} " + "and more " * (i % 8),
                    vectors[i].tobytes(),
                    float(rng.random()),
                    NOW - float(rng.random()) * 90 * 86_400,
                    NOW - float(rng.random()) * 90 * 86_400,
                    None if i % 10 else NOW + 86_400.0,
                )
                for i in range(count)
            ),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return vectors


def queries(
    vectors: npt.NDArray[np.float32], count: int, rng: np.random.Generator
) -> list[Vector]:
    """Queries at cosine ~0.6 to a stored memory, so every recall returns something."""
    picks = vectors[rng.integers(0, len(vectors), count)]
    noise = unit_rows(rng, count)
    rows = 0.6 * picks + 0.8 * noise
    return list((rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32))


async def timed(runs: int, step: Callable[[int], Awaitable[object]]) -> list[float]:
    samples: list[float] = []
    for i in range(runs):
        start = time.perf_counter()
        await step(i)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": round(ordered[len(ordered) // 2], 1),
        "p99_us": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "runs": len(ordered),
    }


async def naive_recall(db: Database, query: Vector) -> list[str]:
    rows = await db.fetchall(
        "SELECT text, embedding FROM memories WHERE user_id = ?"
        " AND (expires_at IS NULL OR expires_at > ?)",
        (USER, NOW),
    )
    scored = [(float(np.frombuffer(r[1], np.float32) @ query), r[0]) for r in rows]
    scored.sort(reverse=True)
    return [text for score, text in scored[:5] if score >= 0.35]


async def run_modes(
    service: MemoryService, cache: Cache, qs: list[Vector], runs: int
) -> dict[str, dict[str, float]]:
    namespace = f"memories:{USER}"

    async def cold(i: int) -> object:
        await cache.invalidate(namespace)
        return await service.recall(USER, qs[i])

    await service.recall(USER, qs[0])  # warm the matrix for the next mode
    warm_queries = qs[1:]

    async def warm(i: int) -> object:
        return await service.recall(USER, warm_queries[i])

    async def hit(i: int) -> object:
        return await service.recall(USER, qs[0])

    results = {"cold": summary(await timed(min(runs, 200), cold))}
    await service.recall(USER, qs[0])
    results["warm"] = summary(await timed(min(runs, len(warm_queries)), warm))
    results["hit"] = summary(await timed(runs * 4, hit))
    return results


async def main(count: int, runs: int, redis_url: str | None) -> dict[str, object]:
    rng = np.random.default_rng(6)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = await Database.open(path)
        await apply_migrations(db)
        empty_bytes = path.stat().st_size
        await db.close()
        vectors = fill(path, count, rng)
        db_bytes = path.stat().st_size - empty_bytes
        db = await Database.open(path)
        qs = queries(vectors, runs + 1, rng)
        policy = RecallPolicy()
        memory_cache = MemoryCache()
        service = MemoryService(
            MemoryStore(db), memory_cache, _NoEmbedder(), policy=policy, clock=lambda: NOW
        )
        baseline = summary(await timed(min(runs, 50), lambda i: naive_recall(db, qs[i])))
        modes = await run_modes(service, memory_cache, qs, runs)
        recalled = await service.recall(USER, qs[0])
        matrix = await MemoryStore(db).load_matrix(USER, NOW)
        report: dict[str, object] = {
            "memories": count,
            "live_memories": len(matrix),
            "recalled_per_query": len(recalled),
            "baseline_naive_recall": baseline,
            "memory_cache": modes,
            "ratio_p50_vs_baseline": {
                mode: round(values["p50_us"] / baseline["p50_us"], 5)
                for mode, values in modes.items()
            },
            "bytes": {
                "matrix_in_memory": matrix.nbytes,
                "matrix_encoded": len(matrix.to_bytes()),
                "memory_cache_after_recall": memory_cache.nbytes,
                "sqlite_file": db_bytes,
                "per_memory_matrix": round(matrix.nbytes / max(1, len(matrix)), 1),
            },
            "targets": {"cold_p99_us": 5000, "hit_p99_us": 50},
        }
        if redis_url is not None:
            from bot.cache.redis import RedisCache  # only when asked for

            redis_cache = RedisCache.from_url(redis_url, prefix="bench:")
            redis_service = MemoryService(
                MemoryStore(db), redis_cache, _NoEmbedder(), policy=policy, clock=lambda: NOW
            )
            report["redis_cache"] = await run_modes(redis_service, redis_cache, qs, runs)
            await redis_cache.invalidate(f"memories:{USER}")
            await redis_cache.close()
        await db.close()
        return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--redis", default=None, help="redis://host:port/db to bench Redis too")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.memories, args.runs, args.redis)), indent=2))
