"""Group commit: many concurrent writers, one transaction, one trip to the database thread.

Each `submit` enqueues a unit of statements and awaits its future. The writer task takes
every unit queued so far (up to `max_batch`) and hands the whole batch to the writer's own
thread, which runs each unit inside its own SAVEPOINT within one `BEGIN IMMEDIATE ... COMMIT`.
The futures are resolved only after the COMMIT returned. A unit whose statement fails is
rolled back alone and gets the exception; the others still commit. If the COMMIT itself fails
(for instance the file is locked past the busy timeout), every unit of that batch gets the
exception: nothing is reported as stored that was not.

The writer owns a plain `sqlite3` connection on a single dedicated thread instead of going
through aiosqlite: aiosqlite hops to its thread once per statement, and a turn writes ~25
statements (message, reply, interaction, profile traits, insights, adaptation state), so the
hops, not SQLite, dominated the pipeline's latency. Reads still go through aiosqlite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    error: BaseException | None = None


class WriterClosedError(RuntimeError):
    """A write was submitted after the writer was closed."""


class GroupCommitWriter:
    def __init__(
        self,
        connection: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        *,
        max_batch: int = 512,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._connection = connection
        self._executor = executor
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Unit | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._after_commit = after_commit
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the writer's thread, outside any group commit (for
        migrations, before the hot path starts writing)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self._connection)

    async def submit(self, statements: list[Statement]) -> list[WriteResult]:
        if self._closed:
            raise WriterClosedError("the database writer is closed")
        future: asyncio.Future[list[WriteResult]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Unit(statements, future))
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Commit everything already queued, then close the connection and its thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
        await self.run(lambda connection: connection.close())
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
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
            if not batch:
                continue
            try:
                failure = await loop.run_in_executor(self._executor, self._commit, batch)
            except Exception as exc:  # the thread itself failed: nothing was stored
                failure = exc
            self._settle(batch, failure)

    def _settle(self, batch: list[_Unit], failure: BaseException | None) -> None:
        if failure is not None:
            log.error("group commit of %d units failed: %s", len(batch), failure)
        else:
            self.batches += 1
            if self._after_commit is not None:
                self._after_commit()
        for unit in batch:
            if unit.future.done():
                continue
            error = failure or unit.error
            if error is not None:
                unit.future.set_exception(error)
            else:
                self.units += 1
                unit.future.set_result(unit.results)

    def _commit(self, batch: list[_Unit]) -> BaseException | None:
        """On the writer thread: the whole batch in one transaction. Returns the error that
        failed the whole batch, if any; a single unit's error is kept on the unit."""
        conn = self._connection
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return exc
        for unit in batch:
            self._apply(conn, unit)
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return exc
        return None

    @staticmethod
    def _apply(conn: sqlite3.Connection, unit: _Unit) -> None:
        conn.execute("SAVEPOINT unit")
        try:
            for statement in unit.statements:
                cursor = conn.execute(statement.sql, statement.params)
                unit.results.append(WriteResult(cursor.lastrowid, cursor.rowcount))
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            conn.execute("ROLLBACK TO unit")
            unit.results.clear()
            unit.error = exc
        conn.execute("RELEASE unit")
