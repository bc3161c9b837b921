from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import SchedulerSection
from bot.storage.db import Database
from scheduler.jobs import DAILY, WEEKLY, TaskService
from scheduler.runner import SchedulerRunner, build_triggers, previous_fire_time

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_triggers_fire_in_the_configured_zone() -> None:
    triggers = build_triggers(SchedulerSection(), ZONE)
    monday_noon = at(2026, 11, 23, 12, 0)
    assert triggers[DAILY].get_next_fire_time(None, monday_noon) == at(2026, 11, 24, 2, 0)
    assert triggers[WEEKLY].get_next_fire_time(None, monday_noon) == at(2026, 11, 29, 3, 0)


def test_previous_fire_time() -> None:
    triggers = build_triggers(SchedulerSection(daily_hour=2), ZONE)
    assert previous_fire_time(triggers[DAILY], at(2026, 11, 23, 1, 59)) == at(2026, 11, 22, 2, 0)
    assert previous_fire_time(triggers[DAILY], at(2026, 11, 23, 2, 0)) == at(2026, 11, 23, 2, 0)
    assert previous_fire_time(triggers[WEEKLY], at(2026, 11, 25, 9, 0)) == at(2026, 11, 22, 3, 0)


async def test_missed_runs_run_once_at_start_up(db: Database) -> None:
    clock = Clock(at(2026, 11, 23, 9, 30))
    tasks = TaskService(db, SchedulerSection(), clock)
    # The last daily run completed yesterday at 02:00; today's 02:00 was missed.
    clock.now = at(2026, 11, 22, 2, 0).timestamp()
    await tasks.run_task(DAILY)
    clock.now = at(2026, 11, 22, 3, 0).timestamp()
    await tasks.run_task(WEEKLY)
    clock.now = at(2026, 11, 23, 9, 30).timestamp()

    runner = SchedulerRunner(tasks, SchedulerSection(), ZONE, clock)
    try:
        assert await runner.start() == [DAILY]
        history = await tasks.task_history()
        assert [r.name for r in history] == [DAILY, WEEKLY, DAILY]
        assert history[0].started_at == clock.now
        jobs = {job.id: job for job in runner.scheduler.get_jobs()}
        assert set(jobs) == {DAILY, WEEKLY}
        assert jobs[DAILY].trigger.get_next_fire_time(None, at(2026, 11, 23, 9, 30)) == at(
            2026, 11, 24, 2, 0
        )
    finally:
        runner.shutdown()
    # Started again the same day: nothing is missed any more.
    again = SchedulerRunner(tasks, SchedulerSection(), ZONE, clock)
    assert await again.missed_tasks() == []


async def test_a_fresh_database_catches_up_both_jobs(db: Database) -> None:
    clock = Clock(at(2026, 11, 23, 9, 30))
    runner = SchedulerRunner(
        TaskService(db, SchedulerSection(), clock), SchedulerSection(), ZONE, clock
    )
    assert await runner.missed_tasks() == [DAILY, WEEKLY]


async def test_a_failed_run_does_not_count_as_done(db: Database) -> None:
    clock = Clock(at(2026, 11, 23, 2, 5))
    tasks = TaskService(db, SchedulerSection(), clock)
    await db.write(
        "INSERT INTO system_tasks (name, started_at, finished_at, status)"
        " VALUES (?, ?, ?, 'failed')",
        (DAILY, clock.now - 60, clock.now - 50),
    )
    await tasks.run_task(WEEKLY)
    runner = SchedulerRunner(tasks, SchedulerSection(), ZONE, clock)
    assert await runner.missed_tasks() == [DAILY]
