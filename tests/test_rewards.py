"""personality.rewards: the documented blend of explicit and implicit feedback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personality.rewards import (
    ImplicitFeedback,
    RewardWeights,
    combine_reward,
    conversation_length_score,
    implicit_reward,
    reply_score,
    reward,
    sentiment_shift_score,
)


def test_thumbs_alone_are_one_and_zero() -> None:
    assert reward(True, ImplicitFeedback()) == 1.0
    assert reward(False, ImplicitFeedback()) == 0.0


def test_no_signal_means_no_reward() -> None:
    assert reward(None, ImplicitFeedback()) is None


def test_reply_score_decays_over_the_window() -> None:
    assert reply_score(0.0, window_s=600, window_closed=False) == 1.0
    assert reply_score(300.0, window_s=600, window_closed=False) == 0.5
    assert reply_score(900.0, window_s=600, window_closed=True) == 0.0
    assert reply_score(None, window_s=600, window_closed=False) is None
    assert reply_score(None, window_s=600, window_closed=True) == 0.0


def test_sentiment_shift_and_length_scores() -> None:
    assert sentiment_shift_score(-1.0, 1.0) == 1.0
    assert sentiment_shift_score(0.2, 0.2) == 0.5
    assert sentiment_shift_score(0.5, -0.5) == 0.25
    assert sentiment_shift_score(None, 0.3) is None
    assert conversation_length_score(2) == pytest.approx(0.4)
    assert conversation_length_score(12) == 1.0
    assert conversation_length_score(None) is None


def test_implicit_reward_is_the_weighted_mean_of_known_signals() -> None:
    everything = ImplicitFeedback(
        reply_delay_s=0.0, sentiment_before=0.0, sentiment_after=0.0, turns_after=0
    )
    assert implicit_reward(everything) == pytest.approx(0.4 * 1.0 + 0.35 * 0.5 + 0.25 * 0.0)
    only_reply = ImplicitFeedback(reply_delay_s=150.0)
    assert implicit_reward(only_reply) == pytest.approx(0.75)


def test_thumbs_dominate_the_implicit_reward() -> None:
    assert combine_reward(True, 0.0) == pytest.approx(0.8)
    assert combine_reward(False, 1.0) == pytest.approx(0.2)
    assert combine_reward(None, 0.3) == 0.3
    custom = RewardWeights(explicit=1.0)
    assert combine_reward(False, 1.0, weights=custom) == 0.0


def test_invalid_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="implicit reward"):
        combine_reward(True, 1.5)
    with pytest.raises(ValueError, match="explicit"):
        RewardWeights(explicit=1.5)
    with pytest.raises(ValueError, match="reply"):
        RewardWeights(reply=-1.0)
    with pytest.raises(ValueError, match="window_s"):
        reply_score(1.0, window_s=0, window_closed=False)


optional_float = st.none() | st.floats(allow_nan=True, allow_infinity=True)


@given(
    thumbs=st.none() | st.booleans(),
    delay=optional_float,
    before=optional_float,
    after=optional_float,
    turns=st.none() | st.integers(0, 1000),
    closed=st.booleans(),
)
def test_reward_is_always_in_unit_interval(
    thumbs: bool | None,
    delay: float | None,
    before: float | None,
    after: float | None,
    turns: int | None,
    closed: bool,
) -> None:
    value = reward(thumbs, ImplicitFeedback(delay, before, after, turns, closed))
    if value is not None:
        assert 0.0 <= value <= 1.0
    if thumbs is not None:
        assert value is not None
