"""Cost of one select and one update per bandit, 8 arms, context dim 16; prints JSON.

Each call is timed on its own with perf_counter_ns over `--calls` calls (after a warm-up
that also gives every arm some history); p50 and p99 are quoted in microseconds. The
baseline measured in the same run is a bare `rng.integers(8)` draw (what uniform random
choice costs), and each median is also given as a ratio to it. Target: select + update
p50 under 100 µs.

Run: .venv/bin/python bench/bandit_cost.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from personality.bandits import Bandit, EpsilonGreedy, LinUCB, ThompsonSampling

N_ARMS = 8
DIM = 16
SEED = 7


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    values = np.array(samples_ns, dtype=np.float64) / 1000.0
    return {
        "p50_us": round(float(np.percentile(values, 50)), 2),
        "p99_us": round(float(np.percentile(values, 99)), 2),
    }


def time_calls(call: Callable[[int], object], calls: int) -> list[int]:
    samples = []
    for index in range(calls):
        start = time.perf_counter_ns()
        call(index)
        samples.append(time.perf_counter_ns() - start)
    return samples


def measure(
    bandit: Bandit, contexts: np.ndarray, rewards: np.ndarray, calls: int
) -> dict[str, object]:
    arms = [bandit.select(contexts[i]).arm for i in range(calls)]
    for i in range(calls):
        bandit.update(arms[i], float(rewards[i]), contexts[i])
    select = percentiles(time_calls(lambda i: bandit.select(contexts[i]), calls))
    update = percentiles(
        time_calls(lambda i: bandit.update(arms[i], float(rewards[i]), contexts[i]), calls)
    )
    return {
        "select": select,
        "update": update,
        "select_plus_update_p50_us": round(select["p50_us"] + update["p50_us"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    contexts = rng.random((args.calls, DIM))
    rewards = (rng.random(args.calls) < 0.5).astype(np.float64)
    baseline = percentiles(time_calls(lambda _: rng.integers(N_ARMS), args.calls))
    bandits: dict[str, Bandit] = {
        "epsilon_greedy": EpsilonGreedy(N_ARMS, 0.1, np.random.default_rng(SEED)),
        "thompson": ThompsonSampling(N_ARMS, np.random.default_rng(SEED)),
        "linucb": LinUCB(N_ARMS, DIM, 1.0, rng=np.random.default_rng(SEED)),
    }
    results: dict[str, object] = {"arms": N_ARMS, "dim": DIM, "calls": args.calls}
    results["baseline_rng_draw"] = baseline
    for name, bandit in bandits.items():
        result = measure(bandit, contexts, rewards, args.calls)
        total = result["select_plus_update_p50_us"]
        assert isinstance(total, float)
        result["ratio_to_baseline_p50"] = round(total / baseline["p50_us"], 1)
        result["under_100_us"] = total < 100.0
        results[name] = result
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
