"""The database: one read connection and one group-commit writer on a WAL-mode SQLite file.

Reads go straight to the read connection (WAL lets them run while a write commits). Writes
are handed to the `GroupCommitWriter`, which commits everything queued so far in one
transaction; a caller's `await` returns only after its rows are durably committed, so nothing
the bot acknowledges can be lost, and many concurrent writers share one fsync.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.writer import GroupCommitWriter, Statement, WriteResult

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


class StorageError(Exception):
    """The database cannot be used (locked past the busy timeout, unreadable, full)."""


async def connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    """A connection with the pragmas every attune connection needs."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = await aiosqlite.connect(
            str(path), timeout=busy_timeout_ms / 1000, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        await conn.close()
        raise StorageError(f"cannot set up database {path}: {exc}") from exc
    return conn


class Database:
    def __init__(
        self, path: Path, reader: aiosqlite.Connection, writer: GroupCommitWriter
    ) -> None:
        self.path = path
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(
        cls, path: Path, *, busy_timeout_ms: int = 5000, max_batch: int = 512
    ) -> Database:
        write_conn = await connect(path, busy_timeout_ms)
        try:
            read_conn = await connect(path, busy_timeout_ms)
        except StorageError:
            await write_conn.close()
            raise
        writer = GroupCommitWriter(write_conn, max_batch=max_batch)
        writer.start()
        return cls(path, read_conn, writer)

    @property
    def write_connection(self) -> aiosqlite.Connection:
        """For migrations only, before any other write is queued."""
        return self._writer.connection

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        try:
            async with self._reader.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.OperationalError as exc:
            raise StorageError(f"read failed: {exc}") from exc

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        try:
            async with self._reader.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            raise StorageError(f"read failed: {exc}") from exc

    async def write(self, sql: str, params: Params = ()) -> WriteResult:
        """Run one statement in the next group commit; returns once it is committed."""
        (result,) = await self._writer.submit([Statement(sql, params)])
        return result

    async def write_many(self, statements: Iterable[Statement]) -> list[WriteResult]:
        """Run statements atomically (all or none) in the next group commit."""
        return await self._writer.submit(list(statements))

    async def close(self) -> None:
        """Flush queued writes, then close both connections."""
        await self._writer.close()
        await self._reader.close()
