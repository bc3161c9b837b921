from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.llm.scoring import DecayingScore, score_of
from tests.clocks import FakeClock


def test_formula_matches_the_documented_form() -> None:
    assert score_of(0.9, 0.5) == pytest.approx(85.0)
    assert score_of(1.0, 0.0, weight=2.0) == pytest.approx(200.0)


def test_failures_lower_and_fast_successes_raise_the_score() -> None:
    clock = FakeClock()
    good, bad, slow = (DecayingScore(60.0, clock) for _ in range(3))
    for _ in range(10):
        good.record(True, 0.1)
        bad.record(False)
        slow.record(True, 3.0)
    assert good.score() > slow.score() > bad.score()
    assert good.latency_s == pytest.approx(0.1)


def test_old_failures_fade_with_the_half_life() -> None:
    clock = FakeClock()
    score = DecayingScore(60.0, clock)
    for _ in range(20):
        score.record(False)
    low = score.success_rate
    clock.advance(60.0 * 10)
    assert score.success_rate > 0.9 > low, "after ten half-lives the prior dominates again"


def test_one_half_life_halves_the_evidence() -> None:
    clock = FakeClock()
    score = DecayingScore(100.0, clock)
    for _ in range(9):
        score.record(False)
    assert score.success_rate == pytest.approx(1 / 10)
    clock.advance(100.0)
    assert score.success_rate == pytest.approx(1 / (4.5 + 1))


def test_export_restore_applies_the_elapsed_decay() -> None:
    clock = FakeClock()
    score = DecayingScore(100.0, clock)
    for _ in range(9):
        score.record(False)
    restored = DecayingScore(100.0, FakeClock(5.0))
    restored.restore(score.export(), elapsed_s=100.0)
    assert restored.success_rate == pytest.approx(1 / 5.5)


@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(0, 60), st.floats(0, 1000)),
        max_size=50,
    )
)
def test_success_rate_stays_a_probability(events: list[tuple[bool, float, float]]) -> None:
    clock = FakeClock()
    score = DecayingScore(30.0, clock)
    for ok, latency, wait in events:
        score.record(ok, latency)
        clock.advance(wait)
        assert 0.0 <= score.success_rate <= 1.0
        assert score.latency_s >= 0.0
