from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.llm.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from tests.clocks import FakeClock

POLICY = BreakerPolicy(failures=3, failure_rate=0.5, window=6, cooldown_s=30.0)


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read through a call, so mypy does not narrow the property between state changes."""
    return breaker.state


def make() -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(POLICY, clock), clock


def test_opens_after_consecutive_failures_and_stays_open_until_cooldown() -> None:
    breaker, clock = make()
    for _ in range(2):
        breaker.record_failure()
    assert state(breaker) == "closed"
    breaker.record_failure()
    assert state(breaker) == "open"
    assert not breaker.acquire()
    clock.advance(29.9)
    assert state(breaker) == "open"
    assert not breaker.available()
    assert breaker.next_probe_at == clock.now + 0.1


def test_half_open_lets_a_single_probe_and_closes_on_success() -> None:
    breaker, clock = make()
    breaker.trip()
    clock.advance(30.0)
    assert state(breaker) == "half_open"
    assert breaker.acquire()
    assert not breaker.acquire(), "only one probe at a time"
    breaker.record_success()
    assert state(breaker) == "closed"
    assert breaker.acquire()


def test_failed_probe_reopens_with_a_new_cooldown() -> None:
    breaker, clock = make()
    breaker.trip()
    clock.advance(31.0)
    assert breaker.acquire()
    breaker.record_failure()
    assert state(breaker) == "open"
    assert breaker.next_probe_at == clock.now + 30.0


def test_cancelled_probe_frees_the_slot() -> None:
    breaker, clock = make()
    breaker.trip()
    clock.advance(30.0)
    assert breaker.acquire()
    breaker.release()
    assert breaker.acquire()


def test_failure_rate_over_a_full_window_opens() -> None:
    breaker, _ = make()
    for ok in (True, False, True, False, True, False):
        assert state(breaker) == "closed"
        if ok:
            breaker.record_success()
        else:
            breaker.record_failure()
    assert state(breaker) == "open", "3 of the last 6 calls failed: rate 0.5"


def test_export_restore_keeps_an_open_breaker_open() -> None:
    breaker, clock = make()
    breaker.trip()
    clock.advance(10.0)
    saved = breaker.export()
    other, other_clock = make()
    other.restore(saved, elapsed_s=5.0)
    assert state(other) == "open"
    assert other.next_probe_at == other_clock.now + 15.0


@given(st.lists(st.booleans(), max_size=60))
def test_a_success_after_cooldown_always_closes(outcomes: list[bool]) -> None:
    breaker, clock = make()
    for ok in outcomes:
        if breaker.acquire():
            if ok:
                breaker.record_success()
            else:
                breaker.record_failure()
        clock.advance(1.0)
    clock.advance(POLICY.cooldown_s)
    assert breaker.acquire()
    breaker.record_success()
    assert state(breaker) == "closed"
