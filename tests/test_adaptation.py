"""Directional tests: a scripted conversation through profile update + adaptation."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pytest

from personality.adaptation import (
    Adaptation,
    AdaptationLimits,
    Explanation,
    PersonaState,
    Strategy,
    adapt,
    render_why,
    resolve_strategy,
)
from personality.profile import UserProfile, update_profile
from personality.signals import TRAITS, MessageSignals
from tests.profile_support import ANGRY, CALM, COMPANION, CRISIS, FORMAL, SAD, TUTOR, URGENT

DAY = 86_400.0
LIMITS = AdaptationLimits()


def converse(
    turns: Sequence[MessageSignals],
    strategy: Strategy,
    *,
    state: PersonaState | None = None,
    profile: UserProfile | None = None,
    start: float = 10 * DAY,
    gap: float = 60.0,
) -> list[Adaptation]:
    """Feed messages one by one as the core does: update profile, then adapt."""
    profile = profile or UserProfile()
    state = state or PersonaState()
    results = []
    for index, message in enumerate(turns):
        profile, _ = update_profile(profile, message, 0.2)
        result = adapt(COMPANION, profile, message, state, strategy, LIMITS, start + index * gap)
        state = result.state
        results.append(result)
    return results


def series(results: Sequence[Adaptation], trait: str) -> list[float]:
    return [COMPANION.traits[trait], *(r.traits[trait] for r in results)]


@pytest.mark.parametrize("strategy", ["mirror", "complement", "balance"])
def test_user_becoming_sad_gets_rising_empathy_and_falling_humour(strategy: Strategy) -> None:
    results = converse([CALM, SAD, SAD, SAD, SAD, SAD], strategy)
    empathy, humor = series(results, "empathy"), series(results, "humor")
    assert empathy[-1] > empathy[1]
    assert humor[-1] < humor[1]
    assert humor[-1] < COMPANION.traits["humor"]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(empathy[2:]))
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(humor[2:]))
    assert any(c.source == "distress" for c in results[-1].explanation.contributions)


def test_formal_user_under_mirror_gets_rising_formality() -> None:
    results = converse([FORMAL] * 8, "mirror")
    formality = series(results, "formality")
    assert formality[-1] > formality[0] + 0.1
    assert formality == sorted(formality)


def test_formal_user_under_complement_does_not() -> None:
    results = converse([FORMAL] * 8, "complement")
    formality = series(results, "formality")
    assert max(formality[1:]) <= formality[0]
    assert formality[-1] < formality[0]


def test_anger_makes_the_bot_calmer_and_more_agreeable() -> None:
    result = converse([ANGRY], "mirror")[0]
    assert result.traits["neuroticism"] <= COMPANION.traits["neuroticism"]
    assert result.traits["agreeableness"] > COMPANION.traits["agreeableness"]
    assert result.traits["humor"] < COMPANION.traits["humor"]


def test_urgency_makes_the_bot_more_direct_and_structured() -> None:
    result = converse([URGENT], "mirror")[0]
    assert result.traits["directness"] > COMPANION.traits["directness"]
    assert result.traits["conscientiousness"] > COMPANION.traits["conscientiousness"]


def test_crisis_switches_to_supportive_mode() -> None:
    result = converse([CRISIS], "mirror")[0]
    assert result.crisis_mode
    assert result.traits["humor"] < COMPANION.traits["humor"]
    assert result.traits["empathy"] > COMPANION.traits["empathy"]
    assert "crisis" in render_why(result.explanation, "offline")


def test_step_limits_per_message_and_per_day() -> None:
    results = converse([SAD] * 10, "mirror")
    humor = series(results, "humor")
    steps = [abs(b - a) for a, b in itertools.pairwise(humor)]
    assert max(steps) <= LIMITS.max_step_per_message + 1e-9
    assert humor[0] - min(humor) <= LIMITS.max_step_per_day + 1e-9
    assert "humor" in results[-1].explanation.limited


def test_a_new_day_allows_further_movement() -> None:
    day_one = converse([SAD] * 5, "mirror")
    day_two = converse([SAD] * 3, "mirror", state=day_one[-1].state, start=11 * DAY)
    assert day_two[-1].traits["humor"] < day_one[-1].traits["humor"] - 1e-6
    assert day_two[-1].state.day == 11


def test_lock_freezes_and_reset_returns_to_persona() -> None:
    moved = converse([SAD] * 3, "mirror")[-1]
    locked_state = moved.state.with_lock(True)
    frozen = converse([FORMAL, ANGRY, URGENT], "mirror", state=locked_state)
    assert all(r.traits == moved.traits for r in frozen)
    assert frozen[-1].explanation.locked
    assert "locked" in render_why(frozen[-1].explanation, "openai")

    reset = PersonaState.reset()
    assert not reset.locked and reset.traits is None and reset.strategy_override == "auto"
    first = adapt(COMPANION, UserProfile(), CALM, reset, "mirror", LIMITS, 20 * DAY)
    assert first.traits == pytest.approx(dict(COMPANION.traits), abs=LIMITS.max_step_per_message)


def test_strategy_override_and_persona_switch_is_gradual() -> None:
    state = PersonaState().with_strategy("complement")
    assert resolve_strategy(state, "mirror") == "complement"
    assert resolve_strategy(PersonaState(), "mirror") == "mirror"
    assert resolve_strategy(PersonaState(), "auto") == "balance"
    with pytest.raises(ValueError, match="unknown strategy"):
        PersonaState().with_strategy("chaos")
    start = converse([CALM], "mirror")[-1]
    switched = adapt(TUTOR, UserProfile(), CALM, start.state, "mirror", LIMITS, 10 * DAY + 120)
    for trait in TRAITS:
        assert abs(switched.traits[trait] - start.traits[trait]) <= 0.1 + 1e-9


def test_state_and_explanation_round_trip_through_json() -> None:
    result = converse([SAD, URGENT], "balance")[-1]
    state = PersonaState.from_json(json.loads(json.dumps(result.state.to_json())))
    assert state == result.state
    explanation = Explanation.from_json(json.loads(json.dumps(result.explanation.to_json())))
    assert explanation.strategy == "balance"
    restored = [(c.source, c.trait, round(c.delta, 4)) for c in explanation.contributions]
    original = [(c.source, c.trait, round(c.delta, 4)) for c in result.explanation.contributions]
    assert restored == original
    assert "urgency" in {c.source for c in explanation.contributions}


def test_why_names_strategy_persona_provider_and_moves() -> None:
    result = converse([FORMAL] * 3 + [URGENT], "mirror")[-1]
    text = render_why(result.explanation, "groq")
    assert "companion" in text and "mirror" in text and "groq" in text
    assert "in a hurry" in text
    assert "directness +" in text
