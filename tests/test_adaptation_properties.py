"""Bounds and step limits hold for any persona, profile, message sequence and limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from personality.adaptation import STRATEGIES, AdaptationLimits, PersonaState, adapt
from personality.personas import Persona
from personality.profile import UserProfile, update_profile
from personality.signals import BIG_FIVE, EMOTIONS, TRAITS, MessageSignals

unit = st.floats(0.0, 1.0, allow_nan=False)
traits = st.fixed_dictionaries(dict.fromkeys(TRAITS, unit))
message = st.builds(
    MessageSignals,
    sentiment=st.floats(-1.0, 1.0, allow_nan=False),
    emotions=st.fixed_dictionaries(dict.fromkeys(EMOTIONS, unit)),
    formality=unit,
    politeness=unit,
    urgency=unit,
    emoji_rate=unit,
    question_rate=unit,
    length=st.integers(0, 4000),
    big_five=st.fixed_dictionaries(dict.fromkeys(BIG_FIVE, unit)),
    big_five_confidence=unit,
    crisis=st.booleans(),
    source=st.just("test"),
)


@settings(max_examples=150, deadline=None)
@given(
    base=traits,
    messages=st.lists(message, min_size=1, max_size=12),
    strategy=st.sampled_from(STRATEGIES),
    step=st.floats(0.01, 0.5),
    daily=st.floats(0.01, 1.0),
    weight=unit,
    gaps=st.lists(st.floats(0.0, 40_000.0), min_size=12, max_size=12),
)
def test_traits_stay_in_range_and_within_step_limits(
    base: dict[str, float],
    messages: list[MessageSignals],
    strategy: str,
    step: float,
    daily: float,
    weight: float,
    gaps: list[float],
) -> None:
    persona = Persona("p", "", base)
    limits = AdaptationLimits(step, daily, weight)
    profile, state, now = UserProfile(), PersonaState(), 1_000_000.0
    previous = dict(base)
    anchors: dict[int, dict[str, float]] = {}
    for signals, gap in zip(messages, gaps, strict=False):
        now += gap
        profile, _ = update_profile(profile, signals, 0.3)
        result = adapt(persona, profile, signals, state, strategy, limits, now)  # type: ignore[arg-type]
        day = int(now // 86_400)
        anchor = anchors.setdefault(day, previous)
        for t in TRAITS:
            value = result.traits[t]
            assert 0.0 <= value <= 1.0
            assert abs(value - previous[t]) <= step + 1e-9
            assert abs(value - anchor[t]) <= daily + 1e-9
        previous, state = dict(result.traits), result.state


@settings(max_examples=50, deadline=None)
@given(base=traits, messages=st.lists(message, min_size=1, max_size=6))
def test_locked_state_never_moves(base: dict[str, float], messages: list[MessageSignals]) -> None:
    persona = Persona("p", "", base)
    state = PersonaState(traits=dict(base)).with_lock(True)
    profile = UserProfile()
    for signals in messages:
        profile, _ = update_profile(profile, signals, 0.3)
        result = adapt(persona, profile, signals, state, "mirror", AdaptationLimits(), 5e6)
        assert dict(result.traits) == base
        assert result.state == state
