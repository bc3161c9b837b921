"""Users, messages, interactions and feedback: the rows the pipeline writes for every turn."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database
from bot.storage.writer import Statement


@dataclass(frozen=True, slots=True)
class StoredUser:
    id: int
    platform: str
    platform_user_id: str
    display_name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """Everything one answered message leaves behind."""

    user_id: int
    chat_id: str
    platform_message_id: str
    user_text: str
    reply_text: str
    persona: str
    strategy: str
    provider: str
    latency_ms: float
    traits: Mapping[str, float]
    signals: Mapping[str, Any]
    explanation: Mapping[str, Any]
    created_at: float
    variant: str | None = None
    experiment_id: str | None = None
    arm: int | None = None
    propensity: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: Sequence[Statement] = ()
    """Other writes of this turn (profile, adaptation state), committed with it."""


@dataclass(frozen=True, slots=True)
class StoredInteraction:
    id: int
    user_id: int
    platform: str
    platform_user_id: str
    strategy: str
    arm: int | None
    propensity: float | None
    variant: str | None
    experiment_id: str | None
    explanation: Mapping[str, Any]
    feedback: str | None


class ConversationStore:
    def __init__(self, db: Database, *, cached_users: int = 10_000) -> None:
        self._db = db
        self._users: OrderedDict[tuple[str, str], StoredUser] = OrderedDict()
        self._cached_users = cached_users

    async def ensure_user(
        self, platform: str, platform_user_id: str, display_name: str, now: float
    ) -> StoredUser:
        """The user's row, created on first sight, its name kept current.

        Known users are served from memory: their `last_seen_at` is updated by the turn's own
        write (`record_turn`), so the hot path makes no extra round trip for them.
        """
        key = (platform, platform_user_id)
        cached = self._users.get(key)
        if cached is not None and cached.display_name == display_name:
            self._users.move_to_end(key)
            return cached
        await self._db.write(
            "INSERT INTO users (platform, platform_user_id, display_name, created_at,"
            " last_seen_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, platform_user_id) DO UPDATE SET"
            " display_name = excluded.display_name, last_seen_at = excluded.last_seen_at",
            (platform, platform_user_id, display_name, now, now),
        )
        row = await self._db.fetchone(
            "SELECT id, platform, platform_user_id, display_name, created_at FROM users"
            " WHERE platform = ? AND platform_user_id = ?",
            (platform, platform_user_id),
        )
        if row is None:  # pragma: no cover - the row was just committed
            raise LookupError("user row vanished after insert")
        user = self._users[key] = StoredUser(*row)
        if len(self._users) > self._cached_users:
            self._users.popitem(last=False)
        return user

    async def find_user(self, platform: str, platform_user_id: str) -> StoredUser | None:
        row = await self._db.fetchone(
            "SELECT id, platform, platform_user_id, display_name, created_at FROM users"
            " WHERE platform = ? AND platform_user_id = ?",
            (platform, platform_user_id),
        )
        return StoredUser(*row) if row else None

    async def record_turn(self, turn: TurnRecord) -> int:
        """Store the message, the reply and what produced it in one transaction; returns the
        interaction id that feedback buttons refer to."""
        # The two messages are inserted back to back in one transaction on the single writer
        # connection, so the user's message is the row just before the reply.
        results = await self._db.write_many(
            [
                Statement(
                    "INSERT INTO messages (user_id, chat_id, platform_message_id, role, text,"
                    " created_at) VALUES (?, ?, ?, 'user', ?, ?)",
                    (
                        turn.user_id,
                        turn.chat_id,
                        turn.platform_message_id,
                        turn.user_text,
                        turn.created_at,
                    ),
                ),
                Statement(
                    "INSERT INTO messages (user_id, chat_id, role, text, created_at)"
                    " VALUES (?, ?, 'bot', ?, ?)",
                    (turn.user_id, turn.chat_id, turn.reply_text, turn.created_at),
                ),
                Statement(
                    "INSERT INTO interactions (user_id, message_id, reply_message_id, chat_id,"
                    " persona, strategy, variant, experiment_id, arm, propensity, provider,"
                    " latency_ms, prompt_tokens, completion_tokens, traits, signals,"
                    " explanation, created_at) VALUES (?, last_insert_rowid() - 1,"
                    " last_insert_rowid(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        turn.user_id,
                        turn.chat_id,
                        turn.persona,
                        turn.strategy,
                        turn.variant,
                        turn.experiment_id,
                        turn.arm,
                        turn.propensity,
                        turn.provider,
                        turn.latency_ms,
                        turn.prompt_tokens,
                        turn.completion_tokens,
                        json.dumps(dict(turn.traits)),
                        json.dumps(dict(turn.signals)),
                        json.dumps(dict(turn.explanation)),
                        turn.created_at,
                    ),
                ),
                Statement(
                    "UPDATE users SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?",
                    (turn.created_at, turn.user_id),
                ),
                *turn.extra,
            ]
        )
        interaction_id = results[2].lastrowid
        if interaction_id is None:  # pragma: no cover - sqlite always reports it
            raise LookupError("interaction id missing after insert")
        return interaction_id

    async def recent_turns(self, user_id: int, limit: int) -> list[tuple[str, str]]:
        """The user's last `limit` messages and replies, oldest first, as (role, text)."""
        rows = await self._db.fetchall(
            "SELECT role, text FROM messages WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [(row[0], row[1]) for row in reversed(rows)]

    async def interaction(self, interaction_id: int) -> StoredInteraction | None:
        row = await self._db.fetchone(
            "SELECT i.id, i.user_id, u.platform, u.platform_user_id, i.strategy, i.arm,"
            " i.propensity, i.variant, i.experiment_id, i.explanation, f.value"
            " FROM interactions i JOIN users u ON u.id = i.user_id"
            " LEFT JOIN feedback f ON f.interaction_id = i.id WHERE i.id = ?",
            (interaction_id,),
        )
        if row is None:
            return None
        return StoredInteraction(
            id=row["id"],
            user_id=row["user_id"],
            platform=row["platform"],
            platform_user_id=row["platform_user_id"],
            strategy=row["strategy"],
            arm=row["arm"],
            propensity=row["propensity"],
            variant=row["variant"],
            experiment_id=row["experiment_id"],
            explanation=json.loads(row["explanation"]),
            feedback=row["value"],
        )

    async def last_interaction(self, user_id: int) -> StoredInteraction | None:
        row = await self._db.fetchone(
            "SELECT MAX(id) FROM interactions WHERE user_id = ?", (user_id,)
        )
        return await self.interaction(row[0]) if row and row[0] is not None else None

    async def record_feedback(
        self, interaction_id: int, user_id: int, value: str, reward: float, now: float
    ) -> None:
        """Store or change the rating of one reply (a second press replaces the first)."""
        await self._db.write(
            "INSERT INTO feedback (interaction_id, user_id, value, reward, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id) DO UPDATE SET"
            " value = excluded.value, reward = excluded.reward, updated_at = excluded.updated_at",
            (interaction_id, user_id, value, reward, now, now),
        )

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, as JSON-able data (for /export)."""
        tables = {
            "user": "SELECT * FROM users WHERE id = ?",
            "messages": "SELECT * FROM messages WHERE user_id = ? ORDER BY id",
            "insights": "SELECT * FROM insights WHERE user_id = ? ORDER BY id",
            "interactions": "SELECT * FROM interactions WHERE user_id = ? ORDER BY id",
            "feedback": "SELECT * FROM feedback WHERE user_id = ? ORDER BY id",
        }
        export: dict[str, Any] = {}
        for name, sql in tables.items():
            rows = [dict(row) for row in await self._db.fetchall(sql, (user_id,))]
            export[name] = rows[0] if name == "user" and rows else rows
        return export

    async def forget_user(self, user_id: int) -> None:
        """Erase the user and, by cascade, everything stored about them."""
        await self._db.write("DELETE FROM users WHERE id = ?", (user_id,))
        for key, user in list(self._users.items()):
            if user.id == user_id:
                del self._users[key]
