"""The background jobs as set-based SQL, each run recorded in `system_tasks`.

- daily_profile_update: for users seen in the last `active_days`, each trait becomes
  clamp(current + dampening x sum(insight deltas of the last `insight_days`)), 0.5 where no
  value is stored yet. Statements run over all users at once (no query per user), one
  atomic write per range of CHUNK_USERS user ids. A user whose data cannot be used (a
  non-numeric delta, an unknown trait, a stored value outside [0, 1]) is skipped and listed
  in `system_task_errors`; the others are still updated and the run is
  "completed_with_errors".
- weekly_cleanup: deletes insights older than `retention_days` and the change records of
  runs that old, then calls each cleanup hook (e.g. expired memories). A failing hook is
  logged and counted; the run is then "completed_with_errors".

A run that cannot write at all is recorded as "failed" with the error in `detail`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config import SchedulerSection
from bot.storage.db import Database, StorageError
from bot.storage.writer import Statement
from personality.signals import TRAITS

log = logging.getLogger(__name__)

DAILY = "daily_profile_update"
WEEKLY = "weekly_cleanup"
TASK_NAMES = (DAILY, WEEKLY)
SECONDS_PER_DAY = 86_400.0
CHUNK_USERS = 20_000
"""The daily job commits per range of this many user ids, so hot-path writes queued behind
it wait for one chunk (about a second at 100,000 users), not for the whole run."""

Clock = Callable[[], float]
CleanupHook = Callable[[float], Awaitable[int]]
"""Called with the current time (Unix seconds); deletes what has expired by its own rules
(e.g. bot/storage/memories.py MemoryStore.delete_expired) and returns the rows removed."""

_KNOWN_TRAITS = ", ".join(f"'{t}'" for t in TRAITS)
# Unusable data of active users: one sequential scan of the recent insights (unary + keeps
# SQLite from walking an index for a filter that matches nearly every row).
_RECORD_ERRORS = f"""
INSERT INTO system_task_errors (task_id, user_id, reason)
SELECT :task, bad.user_id, MIN(bad.reason) FROM (
    SELECT i.user_id, 'unusable insight' AS reason FROM insights i
    WHERE +i.created_at >= :insight_since
      AND (typeof(i.delta) NOT IN ('integer', 'real') OR i.trait NOT IN ({_KNOWN_TRAITS}))
    UNION ALL
    SELECT pt.user_id, 'unusable stored trait' FROM profile_traits pt
    WHERE typeof(pt.value) NOT IN ('integer', 'real') OR NOT pt.value BETWEEN 0.0 AND 1.0
) bad JOIN users u ON u.id = bad.user_id
WHERE u.last_seen_at >= :active_since
GROUP BY bad.user_id
"""
# Sums per (user, trait) straight off the covering index insights_user_trait (0002), in
# index order, so no temporary B-tree and no table lookups.
_RECORD_CHANGES = """
INSERT INTO profile_changes (task_id, user_id, trait, old_value, new_value)
SELECT :task, s.user_id, s.trait, COALESCE(pt.value, 0.5),
       MIN(1.0, MAX(0.0, COALESCE(pt.value, 0.5) + :dampening * s.total))
FROM (
    SELECT i.user_id, i.trait, SUM(i.delta) AS total
    FROM insights i JOIN users u ON u.id = i.user_id
    WHERE i.user_id BETWEEN :low AND :high
      AND i.created_at >= :insight_since AND u.last_seen_at >= :active_since
      AND i.user_id NOT IN (SELECT user_id FROM system_task_errors WHERE task_id = :task)
    GROUP BY i.user_id, i.trait
) s
LEFT JOIN profile_traits pt ON pt.user_id = s.user_id AND pt.trait = s.trait
"""
_APPLY_CHANGES = """
INSERT INTO profile_traits (user_id, trait, value, evidence, updated_at)
SELECT user_id, trait, new_value, 0.0, :now FROM profile_changes
WHERE task_id = :task AND user_id BETWEEN :low AND :high
ON CONFLICT (user_id, trait) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""
_FINISH_DAILY = """
UPDATE system_tasks SET
    finished_at = :now,
    succeeded = (SELECT COUNT(DISTINCT user_id) FROM profile_changes WHERE task_id = :task),
    failed = (SELECT COUNT(*) FROM system_task_errors WHERE task_id = :task),
    users_processed = (SELECT COUNT(DISTINCT user_id) FROM profile_changes WHERE task_id = :task)
        + (SELECT COUNT(*) FROM system_task_errors WHERE task_id = :task),
    status = CASE WHEN EXISTS (SELECT 1 FROM system_task_errors WHERE task_id = :task)
        THEN 'completed_with_errors' ELSE 'completed' END
WHERE id = :task
"""


class UnknownTaskError(LookupError):
    """`run_task` was given a name that is not a task."""


@dataclass(frozen=True, slots=True)
class TaskRun:
    id: int
    name: str
    started_at: float
    finished_at: float | None
    users_processed: int
    succeeded: int
    failed: int
    status: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for `/admin task history`."""
        took = f"{self.finished_at - self.started_at:.1f}s" if self.finished_at else "-"
        return (
            f"#{self.id} {self.name} {self.status} started {self.started_at:.0f} took {took}: "
            f"{self.users_processed} users, {self.succeeded} ok, {self.failed} failed"
        )


@dataclass(frozen=True, slots=True)
class TraitChange:
    old: float
    new: float


@dataclass(frozen=True, slots=True)
class DailyResult:
    run: TaskRun
    changes: Mapping[int, Mapping[str, TraitChange]]
    """Per user id, per trait: the value before and after the run (empty when the run was
    asked not to collect them; they stay recorded in `profile_changes` either way)."""


class TaskService:
    """Runs the jobs (one at a time) and reads their history."""

    def __init__(
        self,
        db: Database,
        settings: SchedulerSection,
        clock: Clock,
        cleanup_hooks: Mapping[str, CleanupHook] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._hooks = dict(cleanup_hooks or {})
        self._lock = asyncio.Lock()

    def add_cleanup_hook(self, name: str, hook: CleanupHook) -> None:
        self._hooks[name] = hook

    async def run_task(self, name: str) -> TaskRun:
        """Run a task now (for `/admin task run NAME` and the scheduler)."""
        if name == DAILY:
            return (await self.daily_profile_update(with_changes=False)).run
        if name == WEEKLY:
            return await self.weekly_cleanup()
        raise UnknownTaskError(f"unknown task {name!r}; tasks: {', '.join(TASK_NAMES)}")

    async def daily_profile_update(self, *, with_changes: bool = True) -> DailyResult:
        """Consolidate a month of insights into the stored traits of every active user.

        Scheduled and admin runs pass `with_changes=False`: at 100,000 users the changes are
        some 650,000 rows, recorded in the database but not worth holding in memory.
        """
        async with self._lock:
            now = self._clock()
            task = await self._start(DAILY, now)
            params: dict[str, Any] = {
                "task": task,
                "now": now,
                "active_since": now - self._settings.active_days * SECONDS_PER_DAY,
                "insight_since": now - self._settings.insight_days * SECONDS_PER_DAY,
                "dampening": self._settings.dampening,
            }
            try:
                await self._db.write(_RECORD_ERRORS, params)
                bounds = await self._db.fetchone("SELECT MIN(id), MAX(id) FROM users")
                low, last = (bounds[0], bounds[1]) if bounds and bounds[0] is not None else (0, -1)
                while low <= last:
                    chunk = {**params, "low": low, "high": low + CHUNK_USERS - 1}
                    await self._db.write_many(
                        [Statement(_RECORD_CHANGES, chunk), Statement(_APPLY_CHANGES, chunk)]
                    )
                    low += CHUNK_USERS
                await self._db.write(_FINISH_DAILY, {"task": task, "now": self._clock()})
            except (StorageError, sqlite3.Error) as exc:
                log.exception("daily profile update %d failed", task)
                return DailyResult(await self._fail(task, exc), {})
            run = await self._run(task)
            log.info(
                "daily profile update %d: %d users, %d failed", task, run.succeeded, run.failed
            )
            return DailyResult(run, await self.changes(task) if with_changes else {})

    async def weekly_cleanup(self) -> TaskRun:
        async with self._lock:
            now = self._clock()
            task = await self._start(WEEKLY, now)
            cutoff = now - self._settings.retention_days * SECONDS_PER_DAY
            try:
                results = await self._db.write_many(
                    [
                        Statement("DELETE FROM insights WHERE created_at < ?", (cutoff,)),
                        Statement(
                            "DELETE FROM profile_changes WHERE task_id IN"
                            " (SELECT id FROM system_tasks WHERE started_at < ?)",
                            (cutoff,),
                        ),
                    ]
                )
            except (StorageError, sqlite3.Error) as exc:
                log.exception("weekly cleanup %d failed", task)
                return await self._fail(task, exc)
            detail: dict[str, Any] = {
                "insights_deleted": results[0].rowcount,
                "changes_deleted": results[1].rowcount,
            }
            failed = 0
            for name, hook in self._hooks.items():
                try:
                    detail[f"{name}_deleted"] = await hook(now)
                except Exception as exc:  # a hook is plug-in code: log it, keep cleaning
                    log.exception("cleanup hook %s failed", name)
                    detail[f"{name}_error"] = repr(exc)
                    failed += 1
            steps = 2 + len(self._hooks)
            await self._finish(task, steps - failed, failed, detail)
            return await self._run(task)

    async def changes(self, task_id: int) -> dict[int, dict[str, TraitChange]]:
        """The trait changes a daily run made, per user."""
        changes: dict[int, dict[str, TraitChange]] = {}
        for row in await self._db.fetchall(
            "SELECT user_id, trait, old_value, new_value FROM profile_changes WHERE task_id = ?",
            (task_id,),
        ):
            changes.setdefault(row[0], {})[row[1]] = TraitChange(row[2], row[3])
        return changes

    async def task_history(self, limit: int = 10, name: str | None = None) -> list[TaskRun]:
        """Recent runs, newest first."""
        where, params = ("WHERE name = ?", (name, limit)) if name else ("", (limit,))
        rows = await self._db.fetchall(
            "SELECT id, name, started_at, finished_at, users_processed, succeeded, failed,"
            f" status, detail FROM system_tasks {where} ORDER BY id DESC LIMIT ?",
            params,
        )
        return [_task_run(row) for row in rows]

    async def last_completed(self, name: str) -> float | None:
        """When the latest run of `name` that completed (with or without errors) started."""
        row = await self._db.fetchone(
            "SELECT MAX(started_at) FROM system_tasks WHERE name = ?"
            " AND status IN ('completed', 'completed_with_errors')",
            (name,),
        )
        return float(row[0]) if row is not None and row[0] is not None else None

    async def _start(self, name: str, now: float) -> int:
        result = await self._db.write(
            "INSERT INTO system_tasks (name, started_at, status) VALUES (?, ?, 'running')",
            (name, now),
        )
        if result.lastrowid is None:  # pragma: no cover - sqlite always reports it
            raise LookupError("task id missing after insert")
        return result.lastrowid

    async def _finish(
        self, task: int, succeeded: int, failed: int, detail: Mapping[str, Any]
    ) -> None:
        await self._db.write(
            "UPDATE system_tasks SET finished_at = ?, succeeded = ?, failed = ?, status = ?,"
            " detail = ? WHERE id = ?",
            (
                self._clock(),
                succeeded,
                failed,
                "completed_with_errors" if failed else "completed",
                json.dumps(dict(detail)),
                task,
            ),
        )

    async def _fail(self, task: int, exc: BaseException) -> TaskRun:
        await self._db.write(
            "UPDATE system_tasks SET finished_at = ?, status = 'failed', detail = ? WHERE id = ?",
            (self._clock(), json.dumps({"error": repr(exc)}), task),
        )
        return await self._run(task)

    async def _run(self, task: int) -> TaskRun:
        row = await self._db.fetchone(
            "SELECT id, name, started_at, finished_at, users_processed, succeeded, failed,"
            " status, detail FROM system_tasks WHERE id = ?",
            (task,),
        )
        if row is None:  # pragma: no cover - the row was written by this run
            raise LookupError(f"task {task} vanished")
        return _task_run(row)


def _task_run(row: sqlite3.Row) -> TaskRun:
    return TaskRun(
        id=row[0],
        name=row[1],
        started_at=row[2],
        finished_at=row[3],
        users_processed=row[4],
        succeeded=row[5],
        failed=row[6],
        status=row[7],
        detail=json.loads(row[8]),
    )
