"""Implicit feedback in the strategy bandit's reward: the next message, the reply window and
the press settle each reply once (rules in bot/learning.py, weights in personality/rewards)."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from bot import learning
from bot.app import App
from bot.clock import ManualClock
from bot.core import Pipeline, TurnResult
from bot.events import FeedbackEvent, FeedbackValue, Platform
from bot.learning import StrategyBandit
from personality.rewards import ImplicitFeedback, combine_reward, implicit_reward
from tests.test_learning_support import learning_pipeline, make_bandit, press, rows, say

WINDOW = 600.0  # [learning] reply_window_s, the default
SAD = "I'm so sad and miserable today, everything is awful."
HAPPY = "This is wonderful, thank you so much, I love it!"
NEUTRAL = "Tell me about the weather on Mars."


def interaction_id(result: TurnResult) -> int:
    assert result.reply.interaction_id is not None
    return result.reply.interaction_id


async def reward_of(app: App, interaction: int) -> float | None:
    found = await rows(
        app, "SELECT reward FROM bandit_rewards WHERE interaction_id = ?", (interaction,)
    )
    if not found:
        return None
    (value,) = found[0]
    assert isinstance(value, float)
    return value


async def open_ids(app: App) -> list[int]:
    found = await rows(app, "SELECT interaction_id FROM bandit_open ORDER BY 1")
    return [int(str(row[0])) for row in found]


async def stored_sentiment(app: App, interaction: int) -> float:
    ((signals,),) = await rows(
        app, "SELECT signals FROM interactions WHERE id = ?", (interaction,)
    )
    return float(json.loads(str(signals))["sentiment"])


def updates(bandit: StrategyBandit) -> int:
    return int(sum(bandit.state()["counts"]))


@pytest.fixture
def bandit(app: App) -> StrategyBandit:
    return make_bandit(app, bandit="epsilon")


@pytest.fixture
def pipeline(app: App, bandit: StrategyBandit) -> Pipeline:
    return learning_pipeline(app, bandit)


async def test_a_reply_within_the_window_earns_more_than_silence(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    answered = interaction_id(await say(pipeline, NEUTRAL, user="alice"))
    silent = interaction_id(await say(pipeline, NEUTRAL, user="bob"))
    clock.advance(30)
    next_result = await say(pipeline, NEUTRAL, user="alice")
    follow_up = interaction_id(next_result)
    assert await open_ids(app) == [silent, follow_up]

    assert await bandit.settle_due(clock.now()) == 0  # bob's window is still open
    clock.advance(WINDOW - 30)
    assert await bandit.settle_due(clock.now()) == 1  # bob's closed; alice's follow-up not yet
    clock.advance(30)
    assert await bandit.settle_due(clock.now()) == 1

    expected = implicit_reward(
        ImplicitFeedback(
            reply_delay_s=30,
            sentiment_before=await stored_sentiment(app, answered),
            sentiment_after=next_result.signals.sentiment,
            turns_after=1,
        ),
        reply_window_s=WINDOW,
    )
    assert expected is not None
    assert await reward_of(app, answered) == pytest.approx(expected)
    assert await reward_of(app, silent) == 0.0
    assert await reward_of(app, follow_up) == 0.0
    assert expected > 0.0
    assert updates(bandit) == 3
    assert await open_ids(app) == []


async def test_a_quicker_reply_earns_more(
    app: App, clock: ManualClock, pipeline: Pipeline
) -> None:
    quick = interaction_id(await say(pipeline, NEUTRAL, user="alice"))
    slow = interaction_id(await say(pipeline, NEUTRAL, user="bob"))
    clock.advance(10)
    await say(pipeline, NEUTRAL, user="alice")
    clock.advance(400)
    await say(pipeline, NEUTRAL, user="bob")

    quick_reward, slow_reward = await reward_of(app, quick), await reward_of(app, slow)
    assert quick_reward is not None and slow_reward is not None
    assert quick_reward > slow_reward > 0.0


async def test_a_sad_to_happy_next_message_earns_more_than_happy_to_sad(
    app: App, clock: ManualClock, pipeline: Pipeline
) -> None:
    cheered = await say(pipeline, SAD, user="alice")
    saddened = await say(pipeline, HAPPY, user="bob")
    clock.advance(20)
    cheered_next = await say(pipeline, HAPPY, user="alice")
    saddened_next = await say(pipeline, SAD, user="bob")
    assert cheered.signals.sentiment < 0 < cheered_next.signals.sentiment
    assert saddened.signals.sentiment > 0 > saddened_next.signals.sentiment

    up = await reward_of(app, interaction_id(cheered))
    down = await reward_of(app, interaction_id(saddened))
    assert up is not None and down is not None
    assert 0.0 <= down < up <= 1.0


async def test_a_message_after_the_window_counts_as_no_reply(
    app: App, clock: ManualClock, pipeline: Pipeline
) -> None:
    late = interaction_id(await say(pipeline, SAD))
    clock.advance(WINDOW + 1)
    await say(pipeline, HAPPY)  # settle_due did not run: the outcome must not depend on it
    assert await reward_of(app, late) == 0.0


async def test_a_press_within_the_window_settles_at_once_with_the_press_alone(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    pressed = interaction_id(await say(pipeline, NEUTRAL))
    clock.advance(5)
    assert (await press(pipeline, pressed, FeedbackValue.UP)).stored
    assert await reward_of(app, pressed) == 1.0
    assert await open_ids(app) == []

    clock.advance(5)
    await say(pipeline, SAD)  # the next message finds nothing left to settle
    clock.advance(WINDOW)
    await bandit.settle_due(clock.now())
    assert await reward_of(app, pressed) == 1.0
    assert updates(bandit) == 2  # the press, then the silent second reply


async def test_a_press_after_the_window_closed_includes_the_missing_reply(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    pressed = interaction_id(await say(pipeline, NEUTRAL))
    clock.advance(WINDOW + 60)
    await press(pipeline, pressed, FeedbackValue.UP)
    assert await reward_of(app, pressed) == pytest.approx(combine_reward(True, 0.0))
    assert await reward_of(app, pressed) == pytest.approx(0.8)
    assert await bandit.settle_due(clock.now()) == 0


async def test_a_stored_press_the_bandit_missed_is_combined_when_the_reply_settles(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    """A press the core stored while the bandit's listener failed still counts, blended."""
    answered = interaction_id(await say(pipeline, SAD, user="alice"))
    silent = interaction_id(await say(pipeline, NEUTRAL, user="bob"))
    for interaction, user in ((answered, "alice"), (silent, "bob")):
        found = await app.store.find_user("console", user)
        assert found is not None
        await app.store.record_feedback(interaction, found.id, "up", 1.0, clock.now())
    clock.advance(60)
    next_result = await say(pipeline, HAPPY, user="alice")
    clock.advance(WINDOW)
    await bandit.settle_due(clock.now())

    implicit = implicit_reward(
        ImplicitFeedback(
            reply_delay_s=60,
            sentiment_before=await stored_sentiment(app, answered),
            sentiment_after=next_result.signals.sentiment,
            turns_after=1,
        ),
        reply_window_s=WINDOW,
    )
    assert implicit is not None
    assert await reward_of(app, answered) == pytest.approx(0.8 + 0.2 * implicit)
    assert await reward_of(app, silent) == pytest.approx(0.8)


async def test_a_press_after_settlement_is_stored_but_not_learned_again(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    first = interaction_id(await say(pipeline, NEUTRAL))
    clock.advance(10)
    await say(pipeline, NEUTRAL)
    settled = await reward_of(app, first)
    assert settled is not None and updates(bandit) == 1

    outcome = await press(pipeline, first, FeedbackValue.DOWN)
    assert outcome.stored
    assert await rows(app, "SELECT value FROM feedback WHERE interaction_id = ?", (first,)) == [
        ("down",)
    ]
    assert await reward_of(app, first) == settled
    assert updates(bandit) == 1


async def test_racing_settlements_apply_one_reward(
    app: App, clock: ManualClock, bandit: StrategyBandit, pipeline: Pipeline
) -> None:
    racing = interaction_id(await say(pipeline, NEUTRAL))
    clock.advance(WINDOW + 1)
    user = await app.store.find_user("console", "alice")
    assert user is not None
    press_event = FeedbackEvent(Platform.CONSOLE, "alice", racing, FeedbackValue.UP)
    await asyncio.gather(
        bandit.settle_due(clock.now()),
        bandit.on_feedback(press_event, user.id),
        bandit.settle_due(clock.now()),
        bandit.on_feedback(press_event, user.id),
    )
    assert updates(bandit) == 1
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards") == [(1,)]
    assert await open_ids(app) == []


async def test_implicit_rewards_are_replayed_once_after_a_restart(
    app: App, clock: ManualClock
) -> None:
    crashed = make_bandit(app, save_every=100)  # LinUCB; nothing checkpointed
    pipeline = learning_pipeline(app, crashed)
    for index, text in enumerate((SAD, HAPPY, NEUTRAL, HAPPY, SAD)):
        await say(pipeline, text, user=f"user{index % 2}")
        clock.advance(45)
    clock.advance(WINDOW)
    await crashed.settle_due(clock.now())
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards WHERE in_state = 0") == [(5,)]

    restored = make_bandit(app)
    await restored.load()
    np.testing.assert_allclose(restored.state()["b"], crashed.state()["b"], atol=1e-12)
    np.testing.assert_allclose(restored.state()["a_inv"], crashed.state()["a_inv"], atol=1e-12)
    await restored.save()
    again = make_bandit(app)
    await again.load()
    np.testing.assert_allclose(again.state()["b"], crashed.state()["b"], atol=1e-12)
    assert await rows(app, "SELECT COUNT(*) FROM bandit_rewards WHERE in_state = 0") == [(0,)]


async def test_settle_due_settles_every_silent_user_in_batches(
    app: App,
    clock: ManualClock,
    bandit: StrategyBandit,
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(learning, "_SETTLE_BATCH", 2)
    silent = [interaction_id(await say(pipeline, NEUTRAL, user=f"u{n}")) for n in range(5)]
    assert await bandit.settle_due(clock.now() + WINDOW - 1) == 0
    assert await bandit.settle_due(clock.now() + WINDOW) == 5
    assert await bandit.settle_due(clock.now() + WINDOW) == 0
    assert [await reward_of(app, i) for i in silent] == [0.0] * 5
    assert await open_ids(app) == []


async def test_only_replies_the_bandit_chose_are_opened(app: App) -> None:
    bandit = make_bandit(app)
    configured = learning_pipeline(app)  # no chooser: the configured strategy answers
    configured.on_turn(bandit.on_turn)
    await say(configured, NEUTRAL)
    assert await open_ids(app) == []


async def test_forget_erases_the_open_replies(app: App, pipeline: Pipeline) -> None:
    await say(pipeline, NEUTRAL)
    user = await app.store.find_user("console", "alice")
    assert user is not None and await open_ids(app) != []
    await app.store.forget_user(user.id)
    assert await open_ids(app) == []
