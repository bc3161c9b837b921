"""The strategy bandit in the running pipeline: choice, exactly-once rewards, restarts."""

from __future__ import annotations

import asyncio
import json
import logging

import numpy as np
import pytest

from bot.app import App
from bot.events import FeedbackEvent, FeedbackValue, Platform
from bot.learning import DEFAULT_KEY, StrategyBandit, signal_features
from personality.adaptation import STRATEGIES
from personality.bandits import CONTEXT_DIM, context_vector
from personality.profile import UserProfile
from personality.signals import MessageSignals
from tests.test_learning_support import learning_pipeline, make_bandit, press, rows, say

TEXTS = (
    "Hello! How are you today?",
    "I need this fixed right now, it is urgent!!",
    "I'm feeling a bit down lately, to be honest.",
    "Could you explain how photosynthesis works? 🌱",
)


def probe_inputs() -> list[tuple[UserProfile, MessageSignals]]:
    return [
        (UserProfile(), MessageSignals(sentiment=s, urgency=u, length=n))
        for s, u, n in ((0.8, 0.0, 20), (-0.6, 0.9, 300), (0.0, 0.3, 5), (0.4, 0.1, 900))
    ]


async def test_the_bandit_chooses_and_the_interaction_records_its_propensity(app: App) -> None:
    pipeline = learning_pipeline(app, make_bandit(app, bandit="epsilon"))
    results = [await say(pipeline, text) for text in TEXTS]
    stored = await rows(
        app,
        "SELECT strategy, arm, propensity, explanation FROM interactions ORDER BY id",
    )
    assert len(stored) == len(TEXTS)
    for result, (strategy, arm, propensity, explanation) in zip(results, stored, strict=True):
        assert isinstance(arm, int) and strategy == STRATEGIES[arm] == result.strategy
        assert isinstance(propensity, float) and 0.0 < propensity <= 1.0
        chosen = json.loads(str(explanation))["bandit"]
        assert chosen["arm"] == arm and chosen["propensity"] == propensity
        assert len(chosen["context"]) == CONTEXT_DIM and chosen["context"][0] == 1.0


def test_the_context_is_the_profile_and_the_message_signals() -> None:
    signals = MessageSignals(sentiment=-1.0, urgency=0.7, question_rate=0.5, length=1000)
    context = context_vector(UserProfile().means(), signal_features(signals))
    assert context.tolist()[-5:] == [0.0, 0.7, 0.5, 0.0, 1.0]


async def test_a_reward_reaches_the_bandit_exactly_once(app: App) -> None:
    bandit = make_bandit(app, bandit="epsilon")
    pipeline = learning_pipeline(app, bandit)
    first = await say(pipeline, TEXTS[0])
    assert first.reply.interaction_id
    one = first.reply.interaction_id

    assert (await press(pipeline, one, FeedbackValue.UP)).stored
    assert (await press(pipeline, one, FeedbackValue.UP)).stored  # a double press
    changed = await press(pipeline, one, FeedbackValue.DOWN)  # a changed rating
    assert changed.stored and changed.changed
    replay = FeedbackEvent(Platform.CONSOLE, "alice", one, FeedbackValue.UP)
    user = await _user_id(app)
    await bandit.on_feedback(replay, user)  # a replayed event
    await asyncio.gather(*(bandit.on_feedback(replay, user) for _ in range(5)))  # a burst
    second = await say(pipeline, TEXTS[1])  # the next message: the first reply is settled
    assert second.reply.interaction_id
    two = second.reply.interaction_id
    assert (await press(pipeline, two, FeedbackValue.DOWN)).stored

    state = bandit.state()
    assert sum(state["counts"]) == 2
    (arm_one,), (arm_two,) = await rows(app, "SELECT arm FROM interactions ORDER BY id")
    assert isinstance(arm_one, int) and isinstance(arm_two, int)
    expected_sums = [0.0] * len(STRATEGIES)
    expected_sums[arm_one] += 1.0  # the first rating counts, the change to 👎 does not
    assert state["sums"] == expected_sums
    applied = await rows(
        app, "SELECT interaction_id, reward, user_id FROM bandit_rewards ORDER BY 1"
    )
    assert applied == [(one, 1.0, user), (two, 0.0, user)]


async def test_presses_the_bandit_must_ignore(app: App) -> None:
    bandit = make_bandit(app, bandit="epsilon")
    without_bandit = learning_pipeline(app)
    chosen_by_config = await say(without_bandit, TEXTS[0])
    assert chosen_by_config.reply.interaction_id is not None
    pipeline = learning_pipeline(app, bandit)
    user = await _user_id(app)

    await press(pipeline, chosen_by_config.reply.interaction_id, FeedbackValue.UP)
    unknown = await press(pipeline, 9_999, FeedbackValue.UP)
    await bandit.on_feedback(
        FeedbackEvent(Platform.CONSOLE, "alice", 9_999, FeedbackValue.UP), user
    )
    someone_else = await say(pipeline, TEXTS[1], user="bob")
    assert someone_else.reply.interaction_id is not None
    await bandit.on_feedback(  # a press attributed to the wrong user row
        FeedbackEvent(
            Platform.CONSOLE, "alice", someone_else.reply.interaction_id, FeedbackValue.UP
        ),
        user,
    )

    assert not unknown.stored
    assert sum(bandit.state()["counts"]) == 0
    assert await rows(app, "SELECT * FROM bandit_rewards") == []


async def _user_id(app: App, name: str = "alice") -> int:
    user = await app.store.find_user("console", name)
    assert user is not None
    return user.id


async def _rate_all(app: App, save_every: int) -> tuple[StrategyBandit, list[int]]:
    bandit = make_bandit(app, save_every=save_every)
    pipeline = learning_pipeline(app, bandit)
    ids = []
    for index, text in enumerate(TEXTS * 2):
        result = await say(pipeline, text)
        assert result.reply.interaction_id is not None
        ids.append(result.reply.interaction_id)
        value = FeedbackValue.UP if index % 3 else FeedbackValue.DOWN
        await press(pipeline, result.reply.interaction_id, value)
    return bandit, ids


async def test_state_survives_a_restart_and_chooses_as_before(app: App) -> None:
    old, _ = await _rate_all(app, save_every=3)
    await old.save()
    restored = make_bandit(app)
    await restored.load()

    assert restored.state() == old.state()
    for profile, signals in probe_inputs():
        assert restored.choose(profile, signals) == old.choose(profile, signals)
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards WHERE in_state = 0") == [(0,)]
    saved = await rows(app, "SELECT value FROM state WHERE key = ?", (DEFAULT_KEY,))
    assert json.loads(str(saved[0][0]))["kind"] == "linucb"


async def test_rewards_claimed_after_the_last_checkpoint_are_replayed_once(app: App) -> None:
    crashed, ids = await _rate_all(app, save_every=5)  # one checkpoint, three rewards after it
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards WHERE in_state = 0") == [(3,)]

    restored = make_bandit(app)
    await restored.load()
    expected = crashed.state()
    np.testing.assert_allclose(restored.state()["a_inv"], expected["a_inv"], atol=1e-12)
    np.testing.assert_allclose(restored.state()["b"], expected["b"], atol=1e-12)

    await restored.save()
    again = make_bandit(app)
    await again.load()
    np.testing.assert_allclose(again.state()["b"], expected["b"], atol=1e-12)
    assert len(ids) == 8
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards WHERE in_state = 0") == [(0,)]


async def test_a_changed_bandit_kind_starts_fresh(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    linucb, _ = await _rate_all(app, save_every=1)
    thompson = make_bandit(app, bandit="thompson")
    with caplog.at_level(logging.WARNING, logger="bot.learning"):
        await thompson.load()
    assert "starting fresh" in caplog.text
    assert thompson.state()["kind"] == "thompson"
    assert sum(thompson.state()["successes"]) + sum(thompson.state()["failures"]) == 0
    assert linucb.state()["kind"] == "linucb"


async def test_choices_are_deterministic_with_an_injected_generator(app: App) -> None:
    first, second = make_bandit(app, bandit="epsilon"), make_bandit(app, bandit="epsilon")
    inputs = probe_inputs() * 10
    assert [first.choose(*i) for i in inputs] == [second.choose(*i) for i in inputs]
    arms = {first.choose(*i).arm for i in inputs}
    assert arms <= set(range(len(STRATEGIES)))
