"""Profiles, insight rows and the per-user adaptation state, on the tables of 0002_profiles.

Trait values live one row per (user, trait) in `profile_traits`, the table the daily job
updates in one statement; the short-term state is JSON in `profiles`. A profile update, its
traits and its insight rows are written in one atomic group commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.storage.db import Database
from bot.storage.writer import Statement
from personality.adaptation import PersonaState
from personality.profile import Insight, TraitEstimate, UserProfile

log = logging.getLogger(__name__)


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load_profile(self, user_id: int) -> UserProfile:
        """The user's profile; the prior when nothing is stored, a stored value that cannot be
        read falls back to the prior for that trait (and is logged)."""
        row = await self._db.fetchone(
            "SELECT state, messages FROM profiles WHERE user_id = ?", (user_id,)
        )
        traits: dict[str, dict[str, float]] = {}
        for trait_row in await self._db.fetchall(
            "SELECT trait, value, evidence FROM profile_traits WHERE user_id = ?", (user_id,)
        ):
            try:
                traits[trait_row[0]] = {
                    "mean": float(trait_row[1]),
                    "evidence": float(trait_row[2]),
                }
            except (TypeError, ValueError):
                log.warning(
                    "unreadable profile trait %s for a user; using the prior", trait_row[0]
                )
        data: dict[str, Any] = {"traits": traits}
        if row is not None:
            try:
                data["state"] = json.loads(row[0])
            except (TypeError, ValueError):
                log.warning("unreadable profile state for a user; using the default")
            data["messages"] = row[1]
        return UserProfile.from_json(data)

    def profile_statements(
        self,
        user_id: int,
        previous: UserProfile,
        profile: UserProfile,
        insights: Sequence[Insight],
        now: float,
        message_id: int | None = None,
    ) -> list[Statement]:
        """The writes that store an updated profile, for the caller's own transaction.

        Stored traits are moved by the change from `previous` to `profile` rather than
        overwritten, so a daily run that consolidated the row in between is not undone.
        """
        data = profile.to_json()
        statements = [
            Statement(
                "INSERT INTO profiles (user_id, state, messages, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state,"
                " messages = excluded.messages, updated_at = excluded.updated_at",
                (user_id, json.dumps(data["state"]), profile.messages, now),
            )
        ]
        statements += [
            Statement(
                "INSERT INTO profile_traits (user_id, trait, value, evidence, updated_at)"
                " VALUES (:user, :trait, :value, :evidence, :now)"
                " ON CONFLICT (user_id, trait) DO UPDATE SET"
                " value = MIN(1.0, MAX(0.0, profile_traits.value + :moved)),"
                " evidence = profile_traits.evidence + :gained, updated_at = :now",
                {
                    "user": user_id,
                    "trait": trait,
                    "value": est.mean,
                    "evidence": est.evidence,
                    "moved": est.mean - previous.value(trait),
                    "gained": est.evidence - previous.traits.get(trait, TraitEstimate()).evidence,
                    "now": now,
                },
            )
            for trait, est in profile.traits.items()
            if est != previous.traits.get(trait)
        ]
        statements += [
            Statement(
                "INSERT INTO insights (user_id, message_id, trait, delta, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, message_id, insight.trait, insight.delta, insight.source, now),
            )
            for insight in insights
        ]
        return statements

    async def load_persona_state(self, user_id: int) -> PersonaState:
        row = await self._db.fetchone(
            "SELECT traits, day, day_start, strategy_override, persona_override, locked"
            " FROM persona_state WHERE user_id = ?",
            (user_id,),
        )
        if row is None:
            return PersonaState()
        try:
            return PersonaState.from_json(
                {
                    "traits": json.loads(row[0]) if row[0] else None,
                    "day": row[1],
                    "day_start": json.loads(row[2]) if row[2] else None,
                    "strategy_override": row[3],
                    "persona_override": row[4],
                    "locked": bool(row[5]),
                }
            )
        except (TypeError, ValueError, AttributeError):
            log.warning("unreadable persona state for a user; starting from the persona")
            return PersonaState()

    async def save_persona_state(self, user_id: int, state: PersonaState, now: float) -> None:
        await self._db.write_many([self.persona_state_statement(user_id, state, now)])

    def persona_state_statement(self, user_id: int, state: PersonaState, now: float) -> Statement:
        """The write that stores the bot's adaptation state for a user."""
        data = state.to_json()
        return Statement(
            "INSERT INTO persona_state (user_id, traits, day, day_start, strategy_override,"
            " persona_override, locked, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET traits = excluded.traits, day = excluded.day,"
            " day_start = excluded.day_start, strategy_override = excluded.strategy_override,"
            " persona_override = excluded.persona_override, locked = excluded.locked,"
            " updated_at = excluded.updated_at",
            (
                user_id,
                json.dumps(data["traits"]) if data["traits"] is not None else None,
                data["day"],
                json.dumps(data["day_start"]) if data["day_start"] is not None else None,
                data["strategy_override"],
                data["persona_override"],
                int(data["locked"]),
                now,
            ),
        )
