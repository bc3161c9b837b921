"""Cumulative regret of the bandits on simulated users (fixed seed); prints JSON.

Two scenarios, 8 persona variants, 20,000 rounds each:

- contextual: 500 users with fixed random profiles; each round one of them sends a message
  with random signals. The probability of a 👍 is 0.5 + θₖ·(x - 0.5) clipped to
  [0.02, 0.98], where x is `context_vector(profile, signals)` and θₖ is a random weight
  vector per variant, so the best variant depends on who is talking.
- context-free: every variant has a fixed 👍 probability (0.30 ... 0.65).

Regret is expected regret: the sum over rounds of p(best arm) - p(chosen arm). Each
strategy's regret is reported with its ratio to uniform random choice measured in the same
run, and the contextual target is LinUCB regret <= 0.5 × epsilon-greedy regret. LinUCB runs
with the config default alpha = 1.0 and with alpha = 1.5 (more exploration, which the
context-free scenario needs); epsilon-greedy with the config default epsilon = 0.1.

Run: .venv/bin/python bench/bandit_sim.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from personality.bandits import (
    CONTEXT_DIM,
    Bandit,
    Choice,
    EpsilonGreedy,
    LinUCB,
    ThompsonSampling,
    context_vector,
)
from personality.signals import TRAITS

N_ARMS = 8
SEED = 20260101
FloatArray = npt.NDArray[np.float64]


class UniformRandom:
    """The baseline: every arm with probability 1 / K, learning nothing."""

    def __init__(self, n_arms: int, rng: np.random.Generator) -> None:
        self.n_arms = n_arms
        self._rng = rng

    def select(self, context: FloatArray) -> Choice:
        return Choice(int(self._rng.integers(self.n_arms)), 1.0 / self.n_arms)

    def update(self, arm: int, reward: float, context: FloatArray) -> None:
        """Uniform choice ignores feedback."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": "uniform", "n_arms": self.n_arms}


def contextual_world(rng: np.random.Generator, rounds: int) -> tuple[FloatArray, FloatArray]:
    """Contexts (rounds × d) and 👍 probabilities (rounds × K) of the contextual scenario."""
    profiles = [dict(zip(TRAITS, rng.random(len(TRAITS)), strict=True)) for _ in range(500)]
    theta = rng.normal(0.0, 0.35, size=(N_ARMS, CONTEXT_DIM))
    theta[:, 0] = 0.0
    contexts = np.empty((rounds, CONTEXT_DIM))
    for t in range(rounds):
        signals = {
            "sentiment": float(rng.uniform(-1, 1)),
            "urgency": float(rng.random()),
            "question_rate": float(rng.random()),
            "emoji_rate": float(rng.random() * 0.3),
            "length": float(rng.integers(1, 400)),
        }
        contexts[t] = context_vector(profiles[int(rng.integers(len(profiles)))], signals)
    probabilities = np.clip(0.5 + (contexts - 0.5) @ theta.T, 0.02, 0.98)
    return contexts, probabilities


def context_free_world(rng: np.random.Generator, rounds: int) -> tuple[FloatArray, FloatArray]:
    contexts = np.tile(context_vector({}, {}), (rounds, 1))
    probabilities = np.tile(np.linspace(0.30, 0.65, N_ARMS), (rounds, 1))
    return contexts, probabilities


def run(
    strategy: Bandit | UniformRandom, world: tuple[FloatArray, FloatArray], seed: int
) -> float:
    contexts, probabilities = world
    rng = np.random.default_rng(seed)
    regret = 0.0
    for x, p in zip(contexts, probabilities, strict=True):
        arm = strategy.select(x).arm
        regret += float(p.max() - p[arm])
        strategy.update(arm, float(rng.random() < p[arm]), x)
    return regret


def strategies(seed: int) -> dict[str, Callable[[], Bandit]]:
    return {
        "uniform": lambda: UniformRandom(N_ARMS, np.random.default_rng(seed)),
        "epsilon_greedy": lambda: EpsilonGreedy(N_ARMS, 0.1, np.random.default_rng(seed)),
        "thompson": lambda: ThompsonSampling(N_ARMS, np.random.default_rng(seed)),
        "linucb": lambda: LinUCB(N_ARMS, CONTEXT_DIM, 1.0, rng=np.random.default_rng(seed)),
        "linucb_alpha_1_5": lambda: LinUCB(
            N_ARMS, CONTEXT_DIM, 1.5, rng=np.random.default_rng(seed)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    results: dict[str, object] = {"rounds": args.rounds, "arms": N_ARMS, "seed": SEED}
    for name, build_world in (
        ("contextual", contextual_world),
        ("context_free", context_free_world),
    ):
        world = build_world(np.random.default_rng(SEED), args.rounds)
        regrets = {key: run(make(), world, SEED + 1) for key, make in strategies(SEED + 2).items()}
        results[name] = {
            key: {
                "regret": round(value, 1),
                "ratio_to_uniform": round(value / regrets["uniform"], 4),
            }
            for key, value in regrets.items()
        }
        if name == "contextual":
            ratio = regrets["linucb"] / regrets["epsilon_greedy"]
            results["linucb_over_epsilon_greedy"] = round(ratio, 4)
            results["target_met"] = ratio <= 0.5
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
