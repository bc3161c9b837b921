"""Per-provider counters for the status view: requests, tokens and latency percentiles.

Requests and tokens are kept in one-minute buckets for the last hour; latencies of the last
`LATENCY_SAMPLES` successful calls give p50/p95.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from bot.llm.types import Usage

BUCKET_S = 60.0
HOUR_BUCKETS = 60
LATENCY_SAMPLES = 512


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


class ProviderStats:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        # each bucket: [minute index, requests, failures, prompt tokens, completion tokens]
        self._buckets: deque[list[int]] = deque()
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)

    def record(self, ok: bool, latency_s: float, usage: Usage | None = None) -> None:
        bucket = self._bucket()
        bucket[1] += 1
        if not ok:
            bucket[2] += 1
        if usage is not None:
            bucket[3] += usage.prompt_tokens
            bucket[4] += usage.completion_tokens
        if ok:
            self._latencies.append(latency_s)

    def _bucket(self) -> list[int]:
        minute = int(self._clock() // BUCKET_S)
        if not self._buckets or self._buckets[-1][0] != minute:
            self._buckets.append([minute, 0, 0, 0, 0])
            self._trim(minute)
        return self._buckets[-1]

    def _trim(self, minute: int) -> None:
        while self._buckets and self._buckets[0][0] <= minute - HOUR_BUCKETS:
            self._buckets.popleft()

    def last_hour(self) -> dict[str, int]:
        self._trim(int(self._clock() // BUCKET_S))
        totals = [sum(b[i] for b in self._buckets) for i in range(1, 5)]
        return {
            "requests": totals[0],
            "failures": totals[1],
            "prompt_tokens": totals[2],
            "completion_tokens": totals[3],
        }

    def latency_ms(self, fraction: float) -> float:
        return percentile(list(self._latencies), fraction) * 1000.0

    def export(self) -> dict[str, Any]:
        now_minute = int(self._clock() // BUCKET_S)
        self._trim(now_minute)
        return {
            "buckets": [[now_minute - b[0], *b[1:]] for b in self._buckets],
            "latencies": list(self._latencies),
        }

    def restore(self, data: dict[str, Any], elapsed_s: float) -> None:
        now_minute = int(self._clock() // BUCKET_S)
        shift = int(elapsed_s // BUCKET_S)
        self._buckets.clear()
        for age, *counts in sorted(data.get("buckets", []), key=lambda b: -int(b[0])):
            minute = now_minute - int(age) - shift
            if minute > now_minute - HOUR_BUCKETS and len(counts) == 4:
                self._buckets.append([minute, *(int(c) for c in counts)])
        self._latencies.clear()
        self._latencies.extend(float(x) for x in data.get("latencies", []))
