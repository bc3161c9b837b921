"""The database: one read connection and one group-commit writer on a WAL-mode SQLite file.

Reads go straight to the read connection (WAL lets them run while a write commits). Writes
are handed to the `GroupCommitWriter`, which commits everything queued so far in one
transaction; a caller's `await` returns only after its rows are durably committed, so nothing
the bot acknowledges can be lost, and many concurrent writers share one fsync.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.storage.checkpoint import Checkpointer
from bot.storage.writer import GroupCommitWriter, Statement, WriteResult

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


class StorageError(Exception):
    """The database cannot be used (locked past the busy timeout, unreadable, full)."""


_PRAGMAS = ("PRAGMA foreign_keys = ON", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")


async def connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A read connection with the pragmas every attune connection needs."""
    _make_folder(path)
    try:
        conn = await aiosqlite.connect(
            str(path), timeout=busy_timeout_ms / 1000, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
    except sqlite3.Error as exc:
        await conn.close()
        raise StorageError(f"cannot set up database {path}: {exc}") from exc
    return conn


def _connect_writer(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """The writer's connection, opened on the writer's own thread. Its commits never
    checkpoint: the `Checkpointer` does that on its own thread."""
    _make_folder(path)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _make_folder(path: Path) -> None:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)


class Database:
    def __init__(
        self,
        path: Path,
        reader: aiosqlite.Connection,
        writer: GroupCommitWriter,
        checkpointer: Checkpointer,
    ) -> None:
        self.path = path
        self._reader = reader
        self._writer = writer
        self._checkpointer = checkpointer

    @classmethod
    async def open(
        cls, path: Path, *, busy_timeout_ms: int = 5000, max_batch: int = 512
    ) -> Database:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        loop = asyncio.get_running_loop()
        try:
            write_conn = await loop.run_in_executor(
                executor, _connect_writer, path, busy_timeout_ms
            )
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        checkpointer = Checkpointer(path, busy_timeout_ms)
        writer = GroupCommitWriter(
            write_conn, executor, max_batch=max_batch, after_commit=checkpointer.notify_commit
        )
        try:
            read_conn = await connect(path, busy_timeout_ms)
        except StorageError:
            await writer.close()
            await checkpointer.close()
            raise
        writer.start()
        return cls(path, read_conn, writer, checkpointer)

    async def run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the writer's thread, outside the group commit: for
        migrations, before anything else writes."""
        return await self._writer.run(work)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        # One trip to the reader thread that executes, fetches and resets the statement.
        # With execute, fetch and close as separate trips, another query could run while
        # the first statement was still open, inside its read transaction, and see a
        # snapshot from before writes that had already committed.
        try:
            return list(await self._reader.execute_fetchall(sql, params))
        except sqlite3.OperationalError as exc:
            raise StorageError(f"read failed: {exc}") from exc

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def write(self, sql: str, params: Params = ()) -> WriteResult:
        """Run one statement in the next group commit; returns once it is committed."""
        (result,) = await self._writer.submit([Statement(sql, params)])
        return result

    async def write_many(self, statements: Iterable[Statement]) -> list[WriteResult]:
        """Run statements atomically (all or none) in the next group commit."""
        return await self._writer.submit(list(statements))

    def commit_stats(self) -> dict[str, int]:
        """How many group commits ran and how many write units they carried."""
        return {
            "group_commits": self._writer.batches,
            "units": self._writer.units,
            "checkpoints": self._checkpointer.runs,
        }

    async def close(self) -> None:
        """Flush queued writes, then close both connections."""
        await self._writer.close()
        await self._reader.close()
        await self._checkpointer.close()
