from __future__ import annotations

import pytest

from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.storage.profiles import ProfileStore
from personality.adaptation import AdaptationLimits, PersonaState, adapt
from personality.profile import UserProfile, update_profile
from tests.profile_support import COMPANION, SAD, make_user


async def test_unknown_user_gets_prior_profile_and_fresh_state(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    assert await store.load_profile(user) == UserProfile()
    assert await store.load_persona_state(user) == PersonaState()


async def test_profile_and_insights_round_trip(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    profile, insights = update_profile(UserProfile(), SAD, 0.2)
    await db.write_many(store.profile_statements(user, UserProfile(), profile, insights, 101.0))
    assert await store.load_profile(user) == profile
    rows = await db.fetchall(
        "SELECT trait, delta, source, created_at FROM insights WHERE user_id = ?", (user,)
    )
    assert {(r[0], r[2], r[3]) for r in rows} == {(i.trait, i.source, 101.0) for i in insights}


async def test_a_daily_run_between_load_and_save_is_not_undone(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    first, insights = update_profile(UserProfile(), SAD, 0.2)
    await db.write_many(store.profile_statements(user, UserProfile(), first, insights, 101.0))
    loaded = await store.load_profile(user)
    await db.write(  # the daily job consolidates humor meanwhile
        "UPDATE profile_traits SET value = value + 0.2 WHERE user_id = ? AND trait = 'humor'",
        (user,),
    )
    second, insights = update_profile(loaded, SAD, 0.2)
    await db.write_many(store.profile_statements(user, loaded, second, insights, 102.0))
    stored = await store.load_profile(user)
    assert stored.value("humor") == pytest.approx(second.value("humor") + 0.2)
    assert stored.traits["humor"].evidence == second.traits["humor"].evidence


async def test_persona_state_round_trip(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    result = adapt(
        COMPANION, UserProfile(), SAD, PersonaState(), "mirror", AdaptationLimits(), 1e6
    )
    state = result.state.with_strategy("complement").with_persona("tutor").with_lock(True)
    await store.save_persona_state(user, state, 102.0)
    assert await store.load_persona_state(user) == state
    await store.save_persona_state(user, PersonaState.reset(), 103.0)
    assert await store.load_persona_state(user) == PersonaState()


async def test_corrupt_rows_fall_back_to_defaults(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    await db.write(
        "INSERT INTO profiles (user_id, state, messages, updated_at) VALUES (?, 'not json', 3, 0)",
        (user,),
    )
    await db.write(
        "INSERT INTO profile_traits (user_id, trait, value, updated_at)"
        " VALUES (?, 'humor', 'garbage', 0)",
        (user,),
    )
    await db.write(
        "INSERT INTO persona_state (user_id, traits, updated_at) VALUES (?, '{oops', 0)", (user,)
    )
    profile = await store.load_profile(user)
    assert profile.value("humor") == 0.5 and profile.messages == 3
    assert await store.load_persona_state(user) == PersonaState()


async def test_forget_erases_profile_rows(db: Database) -> None:
    store = ProfileStore(db)
    user = await make_user(db, "alice", 100.0)
    profile, insights = update_profile(UserProfile(), SAD, 0.2)
    await db.write_many(store.profile_statements(user, UserProfile(), profile, insights, 101.0))
    await store.save_persona_state(user, PersonaState(locked=True), 101.0)
    await ConversationStore(db).forget_user(user)
    for table in ("profiles", "profile_traits", "persona_state", "insights"):
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert row is not None and row[0] == 0, table
