"""The live score of a provider: exponentially weighted success rate and latency.

Every outcome is added with weight 1 and all evidence decays by half every `half_life_s`
seconds (time-based, so a quiet provider's old failures fade). With decayed sums:

    success_rate = (successes + PRIOR_SUCCESSES) / (calls + PRIOR_CALLS)
    latency_s    = decayed mean latency of successful calls (PRIOR_LATENCY_S with no evidence)
    score        = weight × 100 × success_rate − 10 × latency_s

The seeds' form was success_rate × 100 − avg_latency × 10; here both terms are time-weighted,
a small optimistic prior lets a new or long-quiet provider be tried, and `weight` (from
config) scales the success term.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

PRIOR_SUCCESSES = 1.0
PRIOR_CALLS = 1.0
PRIOR_LATENCY_S = 1.0


def score_of(success_rate: float, latency_s: float, weight: float = 1.0) -> float:
    return weight * 100.0 * success_rate - 10.0 * latency_s


class DecayingScore:
    def __init__(self, half_life_s: float, clock: Callable[[], float]) -> None:
        self._rate = math.log(2.0) / half_life_s
        self._clock = clock
        self._at = clock()
        self._successes = 0.0
        self._calls = 0.0
        self._latency_sum = 0.0
        self._latency_n = 0.0

    def _decay_to_now(self) -> None:
        now = self._clock()
        if now > self._at:
            factor = math.exp(-self._rate * (now - self._at))
            self._successes *= factor
            self._calls *= factor
            self._latency_sum *= factor
            self._latency_n *= factor
            self._at = now

    def record(self, ok: bool, latency_s: float | None = None) -> None:
        self._decay_to_now()
        self._calls += 1.0
        if ok:
            self._successes += 1.0
        if ok and latency_s is not None:
            self._latency_sum += latency_s
            self._latency_n += 1.0

    @property
    def success_rate(self) -> float:
        factor = self._pending_factor()
        return (self._successes * factor + PRIOR_SUCCESSES) / (self._calls * factor + PRIOR_CALLS)

    @property
    def latency_s(self) -> float:
        # Decay scales numerator and denominator alike: the mean needs no decay step.
        if self._latency_n * self._pending_factor() < 1e-9:
            return PRIOR_LATENCY_S
        return self._latency_sum / self._latency_n

    def score(self, weight: float = 1.0) -> float:
        return score_of(self.success_rate, self.latency_s, weight)

    def _pending_factor(self) -> float:
        elapsed = self._clock() - self._at
        return math.exp(-self._rate * elapsed) if elapsed > 0 else 1.0

    def export(self) -> dict[str, Any]:
        self._decay_to_now()
        return {
            "successes": self._successes,
            "calls": self._calls,
            "latency_sum": self._latency_sum,
            "latency_n": self._latency_n,
        }

    def restore(self, data: dict[str, Any], elapsed_s: float) -> None:
        factor = math.exp(-self._rate * max(0.0, elapsed_s))
        self._at = self._clock()
        self._successes = float(data.get("successes", 0.0)) * factor
        self._calls = float(data.get("calls", 0.0)) * factor
        self._latency_sum = float(data.get("latency_sum", 0.0)) * factor
        self._latency_n = float(data.get("latency_n", 0.0)) * factor
