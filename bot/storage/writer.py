"""Group commit: many concurrent writers, one transaction, one fsync.

Each `submit` enqueues a unit of statements and awaits its future. The writer task takes
every unit queued so far (up to `max_batch`), runs each inside its own SAVEPOINT within one
`BEGIN IMMEDIATE ... COMMIT`, and resolves the futures only after the COMMIT returned. A unit
whose statement fails is rolled back alone and gets the exception; the others still commit.
If the COMMIT itself fails (for instance the file is locked past the busy timeout), every unit
of that batch gets the exception: nothing is reported as stored that was not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Sequence[Any] | dict[str, Any] = ()


@dataclass(frozen=True, slots=True)
class WriteResult:
    lastrowid: int | None
    rowcount: int


@dataclass(slots=True)
class _Unit:
    statements: list[Statement]
    future: asyncio.Future[list[WriteResult]]
    results: list[WriteResult] = field(default_factory=list)


class WriterClosedError(RuntimeError):
    """A write was submitted after the writer was closed."""


class GroupCommitWriter:
    def __init__(self, connection: aiosqlite.Connection, *, max_batch: int = 512) -> None:
        self.connection = connection
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Unit | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def submit(self, statements: list[Statement]) -> list[WriteResult]:
        if self._closed:
            raise WriterClosedError("the database writer is closed")
        future: asyncio.Future[list[WriteResult]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Unit(statements, future))
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Commit everything already queued, then close the connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
        await self.connection.close()

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch: list[_Unit] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Unit]) -> None:
        conn = self.connection
        try:
            await conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._fail(batch, exc)
            return
        live: list[_Unit] = []
        for unit in batch:
            if await self._apply(unit):
                live.append(unit)
        try:
            await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            self._fail(live, exc)
            return
        self.batches += 1
        self.units += len(live)
        for unit in live:
            if not unit.future.done():
                unit.future.set_result(unit.results)

    async def _apply(self, unit: _Unit) -> bool:
        conn = self.connection
        await conn.execute("SAVEPOINT unit")
        try:
            for statement in unit.statements:
                cursor = await conn.execute(statement.sql, statement.params)
                unit.results.append(WriteResult(cursor.lastrowid, cursor.rowcount))
                await cursor.close()
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            await conn.execute("ROLLBACK TO unit")
            await conn.execute("RELEASE unit")
            unit.results.clear()
            if not unit.future.done():
                unit.future.set_exception(exc)
            return False
        await conn.execute("RELEASE unit")
        return True

    @staticmethod
    def _fail(units: list[_Unit], exc: BaseException) -> None:
        log.error("group commit of %d units failed: %s", len(units), exc)
        for unit in units:
            if not unit.future.done():
                unit.future.set_exception(exc)
