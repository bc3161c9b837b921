"""APScheduler set-up: the daily and weekly jobs on cron triggers, and missed-run catch-up.

The daily job fires at `daily_hour`:00 and the weekly one on `weekly_day` at `weekly_hour`:00,
both in the bot's time zone. At start-up, a job whose last completed run started before its
most recent scheduled time (the process was down then), or that never ran, runs once at
once. Time comes from the injected clock, so the catch-up logic is tested with fixed times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import SchedulerSection
from scheduler.jobs import DAILY, WEEKLY, Clock, TaskService

log = logging.getLogger(__name__)


def build_triggers(settings: SchedulerSection, timezone: str) -> dict[str, CronTrigger]:
    zone = ZoneInfo(timezone)
    return {
        DAILY: CronTrigger(hour=settings.daily_hour, minute=0, timezone=zone),
        WEEKLY: CronTrigger(
            day_of_week=settings.weekly_day, hour=settings.weekly_hour, minute=0, timezone=zone
        ),
    }


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` the trigger fired (looking back up to 8 days)."""
    previous: datetime | None = None
    candidate = trigger.get_next_fire_time(None, now - timedelta(days=8))
    while candidate is not None and candidate <= now:
        previous = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(seconds=1))
    return previous


class SchedulerRunner:
    def __init__(
        self,
        tasks: TaskService,
        settings: SchedulerSection,
        timezone: str,
        clock: Clock,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        self._tasks = tasks
        self._zone = ZoneInfo(timezone)
        self._clock = clock
        self._triggers = build_triggers(settings, timezone)
        self._scheduler = scheduler or AsyncIOScheduler(timezone=self._zone)

    @property
    def scheduler(self) -> AsyncIOScheduler:
        return self._scheduler

    async def missed_tasks(self) -> list[str]:
        """Tasks whose most recent scheduled time passed without a completed run."""
        now = datetime.fromtimestamp(self._clock(), self._zone)
        missed = []
        for name, trigger in self._triggers.items():
            due = previous_fire_time(trigger, now)
            last = await self._tasks.last_completed(name)
            if due is not None and (last is None or last < due.timestamp()):
                missed.append(name)
        return missed

    async def start(self) -> list[str]:
        """Run missed tasks once, then schedule both jobs; returns the tasks caught up."""
        missed = await self.missed_tasks()
        for name in missed:
            log.info("task %s missed its last scheduled run; running it now", name)
            await self.run_scheduled(name)
        for name, trigger in self._triggers.items():
            self._scheduler.add_job(
                self.run_scheduled,
                trigger,
                args=[name],
                id=name,
                name=name,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
        self._scheduler.start()
        return missed

    async def run_scheduled(self, name: str) -> None:
        """One run of `name`; job failures are recorded by the task itself."""
        run = await self._tasks.run_task(name)
        log.info("task %s run %d finished: %s", name, run.id, run.status)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
