from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage.db import Database
from bot.storage.migrations import DEFAULT_DIR, MigrationError, apply_migrations
from bot.storage.writer import Statement


async def test_migrations_apply_once_and_record_checksums(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        first = await apply_migrations(db)
        assert first[0].filename == "0001_init.sql"
        assert await apply_migrations(db) == []
        rows = await db.fetchall("SELECT version, checksum FROM schema_migrations")
        assert len(rows) == len(first)
        assert all(len(row["checksum"]) == 64 for row in rows)
        pragma = await db.fetchone("PRAGMA journal_mode")
        assert pragma is not None and pragma[0] == "wal"
        keys = await db.fetchone("PRAGMA foreign_keys")
        assert keys is not None and keys[0] == 1
    finally:
        await db.close()


async def test_an_edited_applied_migration_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_init.sql").write_text((DEFAULT_DIR / "0001_init.sql").read_text())
    db = await Database.open(tmp_path / "b.db")
    try:
        await apply_migrations(db, folder)
        (folder / "0001_init.sql").write_text(
            "-- edited\n" + (DEFAULT_DIR / "0001_init.sql").read_text()
        )
        with pytest.raises(MigrationError, match=r"0001_init\.sql was edited"):
            await apply_migrations(db, folder)
    finally:
        await db.close()


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_bad.sql").write_text(
        "CREATE TABLE t (x INTEGER);\nINSERT INTO nowhere VALUES (1);"
    )
    db = await Database.open(tmp_path / "c.db")
    try:
        with pytest.raises(MigrationError, match=r"0001_bad\.sql failed"):
            await apply_migrations(db, folder)
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 't'") is None
        assert await db.fetchall("SELECT * FROM schema_migrations") == []
    finally:
        await db.close()


async def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "init.sql").write_text("SELECT 1;")
    db = await Database.open(tmp_path / "d.db")
    try:
        with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
            await apply_migrations(db, folder)
    finally:
        await db.close()


async def test_concurrent_writes_share_commits(db: Database) -> None:
    async def insert(i: int) -> int | None:
        result = await db.write(
            "INSERT INTO state (key, value, updated_at) VALUES (?, ?, 0)", (f"k{i}", str(i))
        )
        return result.lastrowid

    ids = await asyncio.gather(*(insert(i) for i in range(300)))
    assert len(set(ids)) == 300
    row = await db.fetchone("SELECT COUNT(*) FROM state")
    assert row is not None and row[0] == 300
    writer = db._writer  # the batching itself is what is under test
    assert writer.units == 300
    assert writer.batches < 300


async def test_a_failing_unit_does_not_spoil_its_batch(db: Database) -> None:
    good = db.write_many([Statement("INSERT INTO state VALUES ('a', '1', 0)")])
    bad = db.write_many(
        [
            Statement("INSERT INTO state VALUES ('b', '1', 0)"),
            Statement("INSERT INTO state VALUES ('b', 'duplicate', 0)"),
        ]
    )
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], sqlite3.IntegrityError)
    rows = await db.fetchall("SELECT key FROM state ORDER BY key")
    assert [r[0] for r in rows] == ["a"]  # all of the failed unit was rolled back


async def test_close_flushes_what_was_queued(tmp_path: Path) -> None:
    path = tmp_path / "flush.db"
    db = await Database.open(path)
    await apply_migrations(db)
    pending = [
        asyncio.ensure_future(db.write("INSERT INTO state VALUES (?, 'v', 0)", (f"k{i}",)))
        for i in range(50)
    ]
    await asyncio.sleep(0)  # let the writes reach the queue; nothing waits on time here
    await db.close()
    await asyncio.gather(*pending)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT COUNT(*) FROM state").fetchone()[0] == 50


async def test_locked_database_fails_clearly_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = await Database.open(path, busy_timeout_ms=50)
    await apply_migrations(db)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await db.write("INSERT INTO state VALUES ('x', 'y', 0)")
        other.execute("ROLLBACK")
        await db.write("INSERT INTO state VALUES ('x', 'y', 0)")
        row = await db.fetchone("SELECT value FROM state WHERE key = 'x'")
        assert row is not None and row[0] == "y"
    finally:
        other.close()
        await db.close()


async def test_a_committed_write_is_visible_to_the_next_read_under_load(db: Database) -> None:
    """Regression: reads that left their statement open between trips to the reader thread
    let other reads run inside a stale snapshot and miss rows that had been committed."""

    async def write_then_read(i: int) -> bool:
        await db.write("INSERT INTO state VALUES (?, 'v', 0)", (f"k{i}",))
        return await db.fetchone("SELECT key FROM state WHERE key = ?", (f"k{i}",)) is not None

    seen = await asyncio.gather(*(write_then_read(i) for i in range(1000)))
    assert all(seen)
    assert db._writer.batches >= 2  # the race needs reads overlapping a later commit


async def test_checkpoints_run_off_the_commit_path_and_close_empties_the_wal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    db = await Database.open(path)
    await apply_migrations(db)
    for i in range(200):  # one group commit each: the checkpointer runs every 64
        await db.write("INSERT INTO state VALUES (?, 'v', 0)", (f"k{i}",))
    await db.close()
    # At least one periodic checkpoint ran, then the final one at close (same thread, in order).
    assert db.commit_stats()["checkpoints"] >= 2
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT COUNT(*) FROM state").fetchone()[0] == 200
