"""WAL checkpoints off the commit path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, and it
fsyncs the database file: every few hundred turns one message paid for it (the pipeline's
p99 went from 2.0 to 5.5 ms). The writer connection turns automatic checkpoints off, and
this class runs PASSIVE checkpoints on a connection and thread of its own after every
`every` group commits: PASSIVE never waits for readers or the writer, and the writer goes
on appending to the WAL while a checkpoint copies pages back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: Path, busy_timeout_ms: int, *, every: int = 64) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._every = every
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-ckpt")
        self._connection: sqlite3.Connection | None = None
        self._since = 0
        self._running: Future[None] | None = None
        self.runs = 0

    def notify_commit(self) -> None:
        """Called after each group commit; starts a checkpoint every `every` commits unless
        one is still running."""
        self._since += 1
        if self._since < self._every or (self._running is not None and not self._running.done()):
            return
        self._since = 0
        self._running = self._executor.submit(self._checkpoint, "PASSIVE")

    async def close(self) -> None:
        """A last full checkpoint (the WAL is emptied), then the connection and thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._checkpoint, "TRUNCATE")
        await loop.run_in_executor(self._executor, self._close_connection)
        self._executor.shutdown(wait=True)

    def _checkpoint(self, mode: str) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    str(self._path), timeout=self._busy_timeout_ms / 1000, isolation_level=None
                )
            self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
            self.runs += 1
        except sqlite3.Error as exc:  # a missed checkpoint only lets the WAL grow a while
            log.warning("WAL checkpoint (%s) failed: %s", mode, exc)

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
