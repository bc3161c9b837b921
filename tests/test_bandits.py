"""personality.bandits: propensities, learning, validation and JSON round trips."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personality.bandits import (
    CONTEXT_DIM,
    CONTEXT_FEATURES,
    Bandit,
    EpsilonGreedy,
    LinUCB,
    ThompsonSampling,
    bandit_from_json,
    context_vector,
)
from personality.signals import TRAITS

DIM = 4


def make(kind: str, n_arms: int, seed: int = 0, rng: np.random.Generator | None = None) -> Bandit:
    rng = rng or np.random.default_rng(seed)
    if kind == "epsilon":
        return EpsilonGreedy(n_arms, 0.2, rng)
    if kind == "thompson":
        return ThompsonSampling(n_arms, rng)
    return LinUCB(n_arms, DIM, 1.0, rng=rng)


KINDS = ("epsilon", "thompson", "linucb")
history = st.lists(
    st.tuples(
        st.integers(0, 4), st.floats(0, 1), st.lists(st.floats(0, 1), min_size=DIM, max_size=DIM)
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(KINDS), n_arms=st.integers(1, 5), steps=history, seed=st.integers(0, 99)
)
def test_propensity_is_a_probability(
    kind: str, n_arms: int, steps: list[tuple[int, float, list[float]]], seed: int
) -> None:
    bandit = make(kind, n_arms, seed)
    for arm, reward, features in steps:
        bandit.update(arm % n_arms, reward, np.array(features))
    choice = bandit.select(np.array([0.5] * DIM))
    assert 0 <= choice.arm < n_arms
    assert 0.0 < choice.propensity <= 1.0


def test_epsilon_greedy_propensity_is_exact_and_matches_frequency() -> None:
    bandit = EpsilonGreedy(4, 0.3, np.random.default_rng(3))
    context = np.zeros(1)
    for arm, reward in enumerate((0.1, 0.2, 0.9, 0.4)):
        bandit.update(arm, reward, context)
    choices = [bandit.select(context) for _ in range(4000)]
    by_arm = {c.arm: c.propensity for c in choices}
    assert by_arm[2] == pytest.approx(0.3 / 4 + 0.7)
    assert by_arm[0] == pytest.approx(0.3 / 4)
    frequency = Counter(c.arm for c in choices)
    assert frequency[2] / 4000 == pytest.approx(by_arm[2], abs=0.03)


def test_epsilon_greedy_tries_every_arm_first() -> None:
    bandit = EpsilonGreedy(3, 0.0, np.random.default_rng(1))
    bandit.update(0, 1.0, np.zeros(1))
    picks = {bandit.select(np.zeros(1)).arm for _ in range(50)}
    assert picks == {1, 2}
    assert bandit.select(np.zeros(1)).propensity == pytest.approx(0.5)


def test_thompson_prefers_the_better_arm_and_estimates_its_propensity() -> None:
    bandit = ThompsonSampling(2, np.random.default_rng(5))
    for _ in range(20):
        bandit.update(0, 0.0, np.zeros(1))
        bandit.update(1, 1.0, np.zeros(1))
    bandit.update(0, 1.0, np.zeros(1))
    choices = [bandit.select(np.zeros(1)) for _ in range(300)]
    assert Counter(c.arm for c in choices)[1] > 280
    assert all(c.propensity > 0.9 for c in choices if c.arm == 1)


def test_thompson_propensity_tracks_choice_frequency_for_close_arms() -> None:
    bandit = ThompsonSampling(2, np.random.default_rng(9), propensity_draws=512)
    for reward in (1.0, 0.0, 1.0):
        bandit.update(0, reward, np.zeros(1))
    for reward in (1.0, 0.0, 0.0):
        bandit.update(1, reward, np.zeros(1))
    choices = [bandit.select(np.zeros(1)) for _ in range(2000)]
    frequency = Counter(c.arm for c in choices)[0] / len(choices)
    estimate = float(np.mean([c.propensity for c in choices if c.arm == 0]))
    assert estimate == pytest.approx(frequency, abs=0.05)


def test_linucb_learns_which_arm_suits_which_context() -> None:
    bandit = LinUCB(2, 2, 0.5)
    left, right = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    for _ in range(30):
        bandit.update(0, 1.0, left)
        bandit.update(1, 0.0, left)
        bandit.update(0, 0.0, right)
        bandit.update(1, 1.0, right)
    assert bandit.select(left).arm == 0
    assert bandit.select(right).arm == 1
    assert bandit.select(right).propensity == 1.0


def test_linucb_ties_are_random_with_an_rng_and_deterministic_without() -> None:
    context = np.ones(DIM)
    assert LinUCB(4, DIM, 1.0).select(context).arm == 0
    assert LinUCB(4, DIM, 1.0).select(context).propensity == 1.0
    seeded = LinUCB(4, DIM, 1.0, rng=np.random.default_rng(2))
    choices = [seeded.select(context) for _ in range(200)]
    assert {c.arm for c in choices} == {0, 1, 2, 3}
    assert {c.propensity for c in choices} == {0.25}


def test_linucb_sherman_morrison_keeps_the_exact_inverse() -> None:
    rng = np.random.default_rng(4)
    bandit = LinUCB(1, DIM, 1.0)
    design = np.eye(DIM)
    for _ in range(200):
        x = rng.random(DIM)
        bandit.update(0, float(rng.random()), x)
        design += np.outer(x, x)
    np.testing.assert_allclose(bandit.a_inv[0], np.linalg.inv(design), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("arm", [-1, 3, True, 1.5])
def test_invalid_arm_is_rejected(kind: str, arm: int) -> None:
    with pytest.raises(ValueError, match="arm must be"):
        make(kind, 3).update(arm, 0.5, np.zeros(DIM))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reward", [-0.1, 1.5, float("nan"), float("inf")])
def test_invalid_reward_is_rejected(kind: str, reward: float) -> None:
    with pytest.raises(ValueError, match="reward must be"):
        make(kind, 3).update(0, reward, np.zeros(DIM))


@pytest.mark.parametrize(
    "context", [np.zeros(DIM + 1), np.zeros((DIM, 1)), np.array([0.0, np.nan, 0.0, 0.0])]
)
def test_linucb_rejects_bad_context(context: np.ndarray) -> None:
    bandit = LinUCB(2, DIM, 1.0)
    with pytest.raises(ValueError, match="context must"):
        bandit.select(context)
    with pytest.raises(ValueError, match="context must"):
        bandit.update(0, 0.5, context)


def test_constructor_arguments_are_validated() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(2, 1.5, rng)
    with pytest.raises(ValueError, match="n_arms"):
        ThompsonSampling(0, rng)
    with pytest.raises(ValueError, match="alpha"):
        LinUCB(2, 3, float("nan"))
    with pytest.raises(ValueError, match="dim"):
        LinUCB(2, 0, 1.0)


def clone(rng: np.random.Generator) -> np.random.Generator:
    copy = np.random.default_rng()
    copy.bit_generator.state = rng.bit_generator.state
    return copy


@pytest.mark.parametrize("kind", KINDS)
def test_json_round_trip_gives_the_same_choices(kind: str) -> None:
    data_rng, rng = np.random.default_rng(11), np.random.default_rng(12)
    original = make(kind, 4, rng=rng)
    for _ in range(40):
        choice = original.select(data_rng.random(DIM))
        original.update(choice.arm, float(data_rng.random()), data_rng.random(DIM))
    restored = bandit_from_json(json.loads(json.dumps(original.to_json())), clone(rng))
    assert type(restored) is type(original)
    for _ in range(30):
        context = data_rng.random(DIM)
        first, second = original.select(context), restored.select(context)
        assert first == second
        original.update(first.arm, 0.7, context)
        restored.update(second.arm, 0.7, context)
    assert restored.to_json() == original.to_json()


def test_from_json_rejects_foreign_or_corrupt_state() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown bandit kind"):
        bandit_from_json({"kind": "ucb1"}, rng)
    with pytest.raises(ValueError, match="not a linucb state"):
        LinUCB.from_json(ThompsonSampling(2, rng).to_json())
    state = LinUCB(2, 3, 1.0).to_json()
    state["a_inv"] = state["a_inv"][:1]
    with pytest.raises(ValueError, match="a_inv must have shape"):
        LinUCB.from_json(state)


def test_context_vector_layout_and_defaults() -> None:
    vector = context_vector({}, {})
    assert vector.shape == (CONTEXT_DIM,) == (16,)
    assert len(CONTEXT_FEATURES) == CONTEXT_DIM
    features = dict(zip(CONTEXT_FEATURES, vector.tolist(), strict=True))
    assert features["bias"] == 1.0
    assert all(features[f"profile.{name}"] == 0.5 for name in TRAITS)
    assert features["sentiment"] == 0.5
    assert features["length"] == 0.0


def test_context_vector_maps_and_clamps_inputs() -> None:
    vector = context_vector(
        {"humor": 0.9, "empathy": 7.0, "openness": float("nan")},
        {"sentiment": -1.0, "urgency": 0.4, "question_rate": 2.0, "length": 1000.0},
    )
    features = dict(zip(CONTEXT_FEATURES, vector.tolist(), strict=True))
    assert features["profile.humor"] == 0.9
    assert features["profile.empathy"] == 1.0
    assert features["profile.openness"] == 0.5
    assert features["sentiment"] == 0.0
    assert features["urgency"] == 0.4
    assert features["question_rate"] == 1.0
    assert features["length"] == pytest.approx(1.0)
    assert ((vector >= 0) & (vector <= 1)).all()
