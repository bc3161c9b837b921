"""The SQL of learning from feedback: bandit rewards, open replies and checkpoints,
experiments and the per-variant aggregates their reports are computed from (tables in
0004_learning.sql and 0005_implicit_feedback.sql)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database
from bot.storage.writer import Statement
from personality.experiments import Experiment, parse_experiment

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class AppliedReward:
    """A reward a bandit took (or must take, after a crash) exactly once."""

    interaction_id: int
    arm: int
    reward: float
    context: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Settlement:
    """A reward to claim for one user's interaction."""

    user_id: int
    reward: AppliedReward


@dataclass(frozen=True, slots=True)
class OpenInteraction:
    """A reply the bandit chose whose reward is not settled yet, with what settling needs."""

    interaction_id: int
    user_id: int
    arm: int | None
    explanation: Mapping[str, Any]
    sentiment: float | None
    """The sentiment of the user's message the reply answered."""
    created_at: float
    feedback: str | None
    """A press already stored for it ("up" or "down") that the bandit has not taken."""


_OPEN_SELECT = (
    "SELECT o.interaction_id, o.user_id, i.arm, i.explanation,"
    " json_extract(i.signals, '$.sentiment'), o.created_at, f.value"
    " FROM bandit_open o JOIN interactions i ON i.id = o.interaction_id"
    " LEFT JOIN feedback f ON f.interaction_id = o.interaction_id"
    " WHERE o.bandit_key = ?"
)


def _open_interaction(row: Sequence[Any]) -> OpenInteraction:
    sentiment = row[4]
    return OpenInteraction(
        interaction_id=row[0],
        user_id=row[1],
        arm=row[2],
        explanation=json.loads(row[3]),
        sentiment=float(sentiment) if isinstance(sentiment, int | float) else None,
        created_at=row[5],
        feedback=row[6],
    )


class BanditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load_state(self, key: str) -> dict[str, Any] | None:
        row = await self._db.fetchone("SELECT value FROM state WHERE key = ?", (key,))
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row[0])
        return state

    async def settle(
        self,
        key: str,
        rewards: Sequence[Settlement],
        now: float,
        *,
        close: Sequence[int] = (),
        open_next: int | None = None,
    ) -> list[bool]:
        """Claim `rewards` and close the open interactions `close` in one transaction, and
        open `open_next` when the bandit chose it; per reward, False if its interaction
        already had one (the claim's primary key is what makes a reward apply once)."""
        statements = [
            Statement(
                "INSERT INTO bandit_rewards (interaction_id, user_id, bandit_key, arm, reward,"
                " context, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (interaction_id) DO NOTHING",
                (
                    item.reward.interaction_id,
                    item.user_id,
                    key,
                    item.reward.arm,
                    item.reward.reward,
                    json.dumps(list(item.reward.context)),
                    now,
                ),
            )
            for item in rewards
        ]
        closed = sorted({*close, *(item.reward.interaction_id for item in rewards)})
        if closed:
            statements.append(
                Statement(
                    "DELETE FROM bandit_open WHERE interaction_id IN"
                    " (SELECT value FROM json_each(?))",
                    (json.dumps(closed),),
                )
            )
        if open_next is not None:
            statements.append(
                Statement(
                    "INSERT INTO bandit_open (interaction_id, user_id, bandit_key, created_at)"
                    " SELECT id, user_id, ?, created_at FROM interactions"
                    " WHERE id = ? AND arm IS NOT NULL ON CONFLICT (interaction_id) DO NOTHING",
                    (key, open_next),
                )
            )
        if not statements:
            return []
        results = await self._db.write_many(statements)
        return [result.rowcount == 1 for result in results[: len(rewards)]]

    async def open_for_user(self, key: str, user_id: int) -> list[OpenInteraction]:
        """The user's replies still waiting for their reward, oldest first."""
        rows = await self._db.fetchall(
            _OPEN_SELECT + " AND o.user_id = ? ORDER BY o.created_at, o.interaction_id",
            (key, user_id),
        )
        return [_open_interaction(row) for row in rows]

    async def due(self, key: str, opened_before: float, limit: int) -> list[OpenInteraction]:
        """Up to `limit` open replies created at or before `opened_before`, oldest first."""
        rows = await self._db.fetchall(
            _OPEN_SELECT + " AND o.created_at <= ? ORDER BY o.created_at, o.interaction_id"
            " LIMIT ?",
            (key, opened_before, limit),
        )
        return [_open_interaction(row) for row in rows]

    async def opened_at(self, key: str, interaction_id: int) -> float | None:
        """When the open reply `interaction_id` was sent; None if it is not open."""
        row = await self._db.fetchone(
            "SELECT created_at FROM bandit_open WHERE bandit_key = ? AND interaction_id = ?",
            (key, interaction_id),
        )
        return float(row[0]) if row else None

    async def unsaved(self, key: str) -> list[AppliedReward]:
        """Rewards claimed but not yet part of a checkpoint (the process stopped between)."""
        rows = await self._db.fetchall(
            "SELECT interaction_id, arm, reward, context FROM bandit_rewards"
            " WHERE bandit_key = ? AND in_state = 0 ORDER BY applied_at, interaction_id",
            (key,),
        )
        return [AppliedReward(row[0], row[1], row[2], tuple(json.loads(row[3]))) for row in rows]

    async def checkpoint(
        self, key: str, state: Mapping[str, Any], included: Sequence[int], now: float
    ) -> None:
        """Save the state and mark the rewards it includes, in one transaction."""
        await self._db.write_many(
            [
                Statement(
                    "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (key, json.dumps(dict(state)), now),
                ),
                Statement(
                    "UPDATE bandit_rewards SET in_state = 1 WHERE bandit_key = ?"
                    " AND interaction_id IN (SELECT value FROM json_each(?))",
                    (key, json.dumps(list(included))),
                ),
            ]
        )


@dataclass(frozen=True, slots=True)
class StoredExperiment:
    experiment: Experiment
    status: str
    """"draft", "running" or "stopped"."""
    created_at: float
    started_at: float | None
    stopped_at: float | None


@dataclass(frozen=True, slots=True)
class DailyTotals:
    """Sums over one variant's interactions of one day since the experiment started."""

    variant: str
    day: int
    interactions: int
    rated: int
    ups: int
    downs: int
    reward_sum: float
    reward_squares: float
    latency_sum: float
    latency_squares: float


_EXPERIMENT_COLUMNS = "definition, status, created_at, started_at, stopped_at"


def _experiment(row: Sequence[Any]) -> StoredExperiment:
    return StoredExperiment(parse_experiment(json.loads(row[0])), *row[1:5])


class ExperimentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, experiment: Experiment, now: float) -> bool:
        """Store a draft; False when an experiment with this id already exists."""
        result = await self._db.write(
            "INSERT INTO experiments (id, definition, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            (experiment.id, json.dumps(experiment.to_json()), now),
        )
        return result.rowcount == 1

    async def get(self, experiment_id: str) -> StoredExperiment | None:
        row = await self._db.fetchone(
            f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?", (experiment_id,)
        )
        return _experiment(row) if row else None

    async def all(self) -> list[StoredExperiment]:
        rows = await self._db.fetchall(
            f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments ORDER BY created_at, rowid"
        )
        return [_experiment(row) for row in rows]

    async def running(self) -> list[StoredExperiment]:
        rows = await self._db.fetchall(
            f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments WHERE status = 'running'"
        )
        return [_experiment(row) for row in rows]

    async def start(self, experiment_id: str, now: float) -> bool:
        """Draft -> running, unless another experiment is running; True if it started."""
        result = await self._db.write(
            "UPDATE experiments SET status = 'running', started_at = ?"
            " WHERE id = ? AND status = 'draft'"
            " AND NOT EXISTS (SELECT 1 FROM experiments WHERE status = 'running')",
            (now, experiment_id),
        )
        return result.rowcount == 1

    async def stop(self, experiment_id: str, now: float) -> bool:
        """Draft or running -> stopped; True if it was stopped now."""
        result = await self._db.write(
            "UPDATE experiments SET status = 'stopped', stopped_at = ?"
            " WHERE id = ? AND status IN ('draft', 'running')",
            (now, experiment_id),
        )
        return result.rowcount == 1

    async def users_per_variant(self, experiment_id: str) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT variant, COUNT(DISTINCT user_id) FROM interactions"
            " WHERE experiment_id = ? AND variant IS NOT NULL GROUP BY variant",
            (experiment_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def daily_totals(self, experiment_id: str, started_at: float) -> list[DailyTotals]:
        """Per variant and day since `started_at`: interactions, ratings, reward, latency.

        A rating counts on the day of the reply it rates; a changed rating counts as its
        latest value (the feedback row keeps one value per interaction).
        """
        rows = await self._db.fetchall(
            "SELECT i.variant, MAX(0, CAST((i.created_at - ?) / ? AS INTEGER)) AS day,"
            " COUNT(*), COUNT(f.id), COALESCE(SUM(f.value = 'up'), 0),"
            " COALESCE(SUM(f.value = 'down'), 0), COALESCE(SUM(f.reward), 0.0),"
            " COALESCE(SUM(f.reward * f.reward), 0.0), SUM(i.latency_ms),"
            " SUM(i.latency_ms * i.latency_ms)"
            " FROM interactions i LEFT JOIN feedback f ON f.interaction_id = i.id"
            " WHERE i.experiment_id = ? AND i.variant IS NOT NULL"
            " GROUP BY i.variant, day ORDER BY day, i.variant",
            (started_at, SECONDS_PER_DAY, experiment_id),
        )
        return [DailyTotals(*row) for row in rows]
