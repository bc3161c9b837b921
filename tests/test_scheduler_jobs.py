from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.config import SchedulerSection
from bot.storage.db import Database
from scheduler import jobs
from scheduler.jobs import DAILY, WEEKLY, TaskService, UnknownTaskError
from tests.profile_support import make_user

DAY = 86_400.0
NOW = 1_000 * DAY


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def add_insights(db: Database, user: int, rows: Sequence[tuple[str, object, float]]) -> None:
    for trait, delta, created_at in rows:
        await db.write(
            "INSERT INTO insights (user_id, trait, delta, source, created_at)"
            " VALUES (?, ?, ?, 'test', ?)",
            (user, trait, delta, created_at),
        )


async def trait_values(db: Database, user: int) -> dict[str, float]:
    rows = await db.fetchall("SELECT trait, value FROM profile_traits WHERE user_id = ?", (user,))
    return {r[0]: r[1] for r in rows}


def service(db: Database, **hooks: object) -> TaskService:
    return TaskService(db, SchedulerSection(), Clock(NOW), hooks)  # type: ignore[arg-type]


async def test_daily_job_matches_the_hand_computed_example(db: Database) -> None:
    user = await make_user(db, "alice", NOW - DAY)
    # openness +3.0, conscientiousness +1.5, extraversion -0.5 over the last 30 days
    await add_insights(
        db,
        user,
        [("openness", 1.0, NOW - d * DAY) for d in (1, 2, 3)]
        + [("conscientiousness", 0.5, NOW - d * DAY) for d in (1, 5, 29)]
        + [("extraversion", -0.25, NOW - DAY), ("extraversion", -0.25, NOW - 2 * DAY)],
    )
    result = await service(db).daily_profile_update()
    changes = result.changes[user]
    assert changes["openness"].new - changes["openness"].old == pytest.approx(0.3)
    assert changes["conscientiousness"].new - changes["conscientiousness"].old == pytest.approx(
        0.15
    )
    assert changes["extraversion"].new - changes["extraversion"].old == pytest.approx(-0.05)
    assert await trait_values(db, user) == pytest.approx(
        {"openness": 0.8, "conscientiousness": 0.65, "extraversion": 0.45}
    )
    assert result.run.status == "completed"
    assert (result.run.users_processed, result.run.succeeded, result.run.failed) == (1, 1, 0)


async def test_daily_job_window_inactive_users_and_clamping(db: Database) -> None:
    active = await make_user(db, "active", NOW - 6 * DAY)
    inactive = await make_user(db, "inactive", NOW - 8 * DAY)
    await db.write(
        "INSERT INTO profile_traits (user_id, trait, value, updated_at)"
        " VALUES (?, 'humor', 0.95, 0)",
        (active,),
    )
    await add_insights(
        db,
        active,
        [("humor", 2.0, NOW - DAY), ("empathy", 5.0, NOW - 31 * DAY), ("empathy", -9.0, NOW)],
    )
    await add_insights(db, inactive, [("humor", 1.0, NOW - DAY)])
    result = await service(db).daily_profile_update()
    assert set(result.changes) == {active}
    assert result.changes[active]["humor"].new == 1.0
    assert result.changes[active]["empathy"].new == pytest.approx(0.0)
    assert await trait_values(db, inactive) == {}


async def test_a_corrupt_user_does_not_stop_the_others(db: Database) -> None:
    good = await make_user(db, "good", NOW - DAY)
    text_delta = await make_user(db, "text_delta", NOW - DAY)
    bad_trait = await make_user(db, "bad_trait", NOW - DAY)
    bad_value = await make_user(db, "bad_value", NOW - DAY)
    await add_insights(db, good, [("openness", 1.0, NOW - DAY)])
    await add_insights(db, text_delta, [("openness", "lots", NOW - DAY), ("humor", 1.0, NOW)])
    await add_insights(db, bad_trait, [("charisma", 1.0, NOW - DAY)])
    await add_insights(db, bad_value, [("openness", 1.0, NOW - DAY)])
    await db.write(
        "INSERT INTO profile_traits (user_id, trait, value, updated_at)"
        " VALUES (?, 'humor', 'x', 0)",
        (bad_value,),
    )
    tasks = service(db)
    result = await tasks.daily_profile_update()
    assert set(result.changes) == {good}
    assert (await trait_values(db, good))["openness"] == pytest.approx(0.6)
    assert await trait_values(db, text_delta) == {}
    assert result.run.status == "completed_with_errors"
    assert (result.run.users_processed, result.run.succeeded, result.run.failed) == (4, 1, 3)
    errors = await db.fetchall(
        "SELECT user_id, reason FROM system_task_errors WHERE task_id = ?", (result.run.id,)
    )
    assert {r[0] for r in errors} == {text_delta, bad_trait, bad_value}
    assert await tasks.last_completed(DAILY) == NOW


async def test_daily_job_in_chunks_updates_every_user(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "CHUNK_USERS", 2)
    users = [await make_user(db, f"user{n}", NOW - DAY) for n in range(5)]
    for user in users:
        await add_insights(db, user, [("humor", 1.0, NOW - DAY)])
    result = await service(db).daily_profile_update()
    assert sorted(result.changes) == users
    assert result.run.succeeded == 5 and result.run.status == "completed"
    for user in users:
        assert (await trait_values(db, user))["humor"] == pytest.approx(0.6)


async def test_weekly_cleanup_deletes_old_insights_and_runs_hooks(db: Database) -> None:
    user = await make_user(db, "alice", NOW)
    await add_insights(db, user, [("humor", 0.1, NOW - 91 * DAY), ("humor", 0.1, NOW - 89 * DAY)])
    calls: list[float] = []

    async def memories(now: float) -> int:
        calls.append(now)
        return 7

    async def broken(now: float) -> int:
        raise RuntimeError("disk on fire")

    run = await service(db, memories=memories).run_task(WEEKLY)
    assert run.status == "completed"
    assert run.detail["insights_deleted"] == 1 and run.detail["memories_deleted"] == 7
    assert calls == [NOW]
    remaining = await db.fetchone("SELECT COUNT(*) FROM insights")
    assert remaining is not None and remaining[0] == 1

    run = await service(db, memories=memories, broken=broken).run_task(WEEKLY)
    assert run.status == "completed_with_errors"
    assert run.failed == 1 and "disk on fire" in run.detail["broken_error"]


async def test_run_task_history_and_unknown_names(db: Database) -> None:
    tasks = service(db)
    assert await tasks.last_completed(DAILY) is None
    daily = await tasks.run_task(DAILY)
    weekly = await tasks.run_task(WEEKLY)
    history = await tasks.task_history()
    assert [r.id for r in history] == [weekly.id, daily.id]
    assert [r.name for r in await tasks.task_history(name=DAILY)] == [DAILY]
    assert DAILY in daily.summary() and "completed" in daily.summary()
    with pytest.raises(UnknownTaskError, match="daily_profile_update"):
        await tasks.run_task("nope")


async def test_a_run_that_cannot_write_is_recorded_as_failed(db: Database) -> None:
    await db.write("DROP TABLE profile_changes")
    run = await service(db).run_task(DAILY)
    assert run.status == "failed"
    assert "profile_changes" in run.detail["error"]
