"""Multi-armed bandits that pick a persona variant or adaptation strategy per reply.

Every bandit has the same small surface: `select(context) -> Choice`, `update(arm, reward,
context)`, `to_json()` and `from_json(data, rng=...)`. `Choice.propensity` is the
probability with which the chosen arm was picked, logged with the interaction so that
off-policy estimates stay unbiased. Rewards are in [0, 1] (see `personality.rewards`).
The non-contextual bandits accept and ignore the context, so callers need not care which
bandit the config chose. Randomness always comes from an injected `numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from personality.signals import TRAITS

FloatArray = npt.NDArray[np.float64]

_TIE_TOLERANCE = 1e-12

CONTEXT_FEATURES: tuple[str, ...] = (
    "bias",
    *(f"profile.{name}" for name in TRAITS),
    "sentiment",
    "urgency",
    "question_rate",
    "emoji_rate",
    "length",
)
"""Names of the `context_vector` components, in order."""
CONTEXT_DIM = len(CONTEXT_FEATURES)
_LENGTH_SCALE = math.log1p(1000.0)


def _unit(value: float) -> float:
    return 0.5 if not math.isfinite(value) else min(max(value, 0.0), 1.0)


def context_vector(
    profile_traits: Mapping[str, float], signals_dict: Mapping[str, float]
) -> FloatArray:
    """The 16-dimensional bandit context of one message, every component in [0, 1].

    - `bias`: always 1.0, so LinUCB learns each arm's base rate.
    - `profile.<trait>` (10): the user's profile value of each trait in `TRAITS` order
      (openness … enthusiasm); missing traits are 0.5 (no evidence).
    - `sentiment`: message sentiment mapped from [-1, 1] to [0, 1]; missing is 0.5.
    - `urgency`, `question_rate`, `emoji_rate`: the message signals as they are (default 0).
    - `length`: log(1 + characters) / log(1 + 1000), capped at 1 (default 0).
    Non-finite inputs are replaced by 0.5 so the vector is always usable.
    """
    sentiment = signals_dict.get("sentiment", 0.0)
    length = signals_dict.get("length", 0.0)
    values = [
        1.0,
        *(_unit(profile_traits.get(name, 0.5)) for name in TRAITS),
        _unit((sentiment + 1.0) / 2.0),
        _unit(signals_dict.get("urgency", 0.0)),
        _unit(signals_dict.get("question_rate", 0.0)),
        _unit(signals_dict.get("emoji_rate", 0.0)),
        _unit(math.log1p(max(length, 0.0)) / _LENGTH_SCALE) if math.isfinite(length) else 0.5,
    ]
    return np.array(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Choice:
    arm: int
    propensity: float


class Bandit(Protocol):
    n_arms: int

    def select(self, context: FloatArray) -> Choice: ...

    def update(self, arm: int, reward: float, context: FloatArray) -> None: ...

    def to_json(self) -> dict[str, Any]: ...


def _check_arm(arm: int, n_arms: int) -> None:
    if isinstance(arm, bool) or not isinstance(arm, int | np.integer) or not 0 <= arm < n_arms:
        raise ValueError(f"arm must be an int in [0, {n_arms}), got {arm!r}")


def _check_reward(reward: float) -> None:
    if not (isinstance(reward, int | float | np.floating) and 0.0 <= reward <= 1.0):
        raise ValueError(f"reward must be a number in [0, 1], got {reward!r}")


def _check_n_arms(n_arms: int) -> None:
    if n_arms < 1:
        raise ValueError(f"n_arms must be >= 1, got {n_arms}")


def _check_kind(data: Mapping[str, Any], kind: str) -> None:
    if data.get("kind") != kind:
        raise ValueError(f"not a {kind} state: kind={data.get('kind')!r}")


class EpsilonGreedy:
    """With probability epsilon a uniformly random arm, otherwise the best mean reward.

    Arms never tried count as best (each arm is tried once before exploitation) and ties
    are broken uniformly, so the propensity is exact:
    epsilon / K + (1 - epsilon) / |best| for a best arm, epsilon / K otherwise.
    """

    def __init__(self, n_arms: int, epsilon: float, rng: np.random.Generator) -> None:
        _check_n_arms(n_arms)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.n_arms = n_arms
        self.epsilon = epsilon
        self._rng = rng
        self.counts = np.zeros(n_arms, dtype=np.int64)
        self.sums = np.zeros(n_arms, dtype=np.float64)

    def _best_arms(self) -> npt.NDArray[np.intp]:
        untried = np.flatnonzero(self.counts == 0)
        if untried.size:
            return untried
        means = self.sums / self.counts
        return np.flatnonzero(means >= means.max() - _TIE_TOLERANCE)

    def select(self, context: FloatArray) -> Choice:
        best = self._best_arms()
        explore = self._rng.random() < self.epsilon
        pool_size = self.n_arms if explore else best.size
        index = int(self._rng.integers(pool_size))
        arm = index if explore else int(best[index])
        propensity = self.epsilon / self.n_arms
        if arm in best:
            propensity += (1.0 - self.epsilon) / best.size
        return Choice(arm, propensity)

    def update(self, arm: int, reward: float, context: FloatArray) -> None:
        _check_arm(arm, self.n_arms)
        _check_reward(reward)
        self.counts[arm] += 1
        self.sums[arm] += reward

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "epsilon_greedy",
            "n_arms": self.n_arms,
            "epsilon": self.epsilon,
            "counts": self.counts.tolist(),
            "sums": self.sums.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], rng: np.random.Generator) -> EpsilonGreedy:
        _check_kind(data, "epsilon_greedy")
        bandit = cls(int(data["n_arms"]), float(data["epsilon"]), rng)
        bandit.counts = _array(data["counts"], bandit.n_arms, np.int64)
        bandit.sums = _array(data["sums"], bandit.n_arms, np.float64)
        return bandit


class ThompsonSampling:
    """Beta-Bernoulli Thompson sampling with a uniform Beta(1, 1) prior per arm.

    A fractional reward r counts as r successes and 1 - r failures. Thompson's choice
    probability has no closed form, so the propensity is a Monte Carlo estimate: the arm
    is picked by the first of `propensity_draws` joint posterior draws, and the propensity
    is the share of all draws it wins (at least 1 / propensity_draws, never 0).
    """

    def __init__(
        self, n_arms: int, rng: np.random.Generator, *, propensity_draws: int = 256
    ) -> None:
        _check_n_arms(n_arms)
        if propensity_draws < 1:
            raise ValueError(f"propensity_draws must be >= 1, got {propensity_draws}")
        self.n_arms = n_arms
        self.propensity_draws = propensity_draws
        self._rng = rng
        self.successes = np.zeros(n_arms, dtype=np.float64)
        self.failures = np.zeros(n_arms, dtype=np.float64)

    def select(self, context: FloatArray) -> Choice:
        draws = self._rng.beta(
            self.successes + 1.0, self.failures + 1.0, size=(self.propensity_draws, self.n_arms)
        )
        winners = draws.argmax(axis=1)
        arm = int(winners[0])
        return Choice(arm, float(np.count_nonzero(winners == arm)) / self.propensity_draws)

    def update(self, arm: int, reward: float, context: FloatArray) -> None:
        _check_arm(arm, self.n_arms)
        _check_reward(reward)
        self.successes[arm] += reward
        self.failures[arm] += 1.0 - reward

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "thompson",
            "n_arms": self.n_arms,
            "propensity_draws": self.propensity_draws,
            "successes": self.successes.tolist(),
            "failures": self.failures.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], rng: np.random.Generator) -> ThompsonSampling:
        _check_kind(data, "thompson")
        bandit = cls(
            int(data["n_arms"]), rng, propensity_draws=int(data.get("propensity_draws", 256))
        )
        bandit.successes = _array(data["successes"], bandit.n_arms, np.float64)
        bandit.failures = _array(data["failures"], bandit.n_arms, np.float64)
        return bandit


class LinUCB:
    """Disjoint LinUCB (Li et al. 2010): per arm a ridge regression of reward on context.

    Score = θₖ·x + alpha·sqrt(xᵀ Aₖ⁻¹ x). Aₖ⁻¹ is kept directly and updated with the
    Sherman-Morrison formula, so select and update are O(K·d²) with no matrix inversion.
    The argmax is deterministic (propensity 1.0); among tied arms the choice is uniform
    with an injected `rng` (propensity 1 / ties), else the lowest index (propensity 1.0).
    """

    def __init__(
        self, n_arms: int, dim: int, alpha: float, *, rng: np.random.Generator | None = None
    ) -> None:
        _check_n_arms(n_arms)
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        self.n_arms = n_arms
        self.dim = dim
        self.alpha = alpha
        self._rng = rng
        self.a_inv = np.tile(np.eye(dim), (n_arms, 1, 1))
        self.b = np.zeros((n_arms, dim), dtype=np.float64)

    def _check_context(self, context: FloatArray) -> FloatArray:
        x = np.asarray(context, dtype=np.float64)
        if x.shape != (self.dim,):
            raise ValueError(f"context must have shape ({self.dim},), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("context must be finite (no NaN or infinity)")
        return x

    def select(self, context: FloatArray) -> Choice:
        x = self._check_context(context)
        a_inv_x = self.a_inv @ x
        scores = np.einsum("kd,kd->k", self.b, a_inv_x) + self.alpha * np.sqrt(
            np.maximum(a_inv_x @ x, 0.0)
        )
        top = scores.max()
        tied = np.flatnonzero(scores >= top - _TIE_TOLERANCE * max(1.0, abs(top)))
        if tied.size == 1 or self._rng is None:
            return Choice(int(tied[0]), 1.0)
        return Choice(int(tied[int(self._rng.integers(tied.size))]), 1.0 / tied.size)

    def update(self, arm: int, reward: float, context: FloatArray) -> None:
        _check_arm(arm, self.n_arms)
        _check_reward(reward)
        x = self._check_context(context)
        a_inv = self.a_inv[arm]
        a_inv_x = a_inv @ x
        a_inv -= np.outer(a_inv_x, a_inv_x) / (1.0 + x @ a_inv_x)
        self.b[arm] += reward * x

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "linucb",
            "n_arms": self.n_arms,
            "dim": self.dim,
            "alpha": self.alpha,
            "a_inv": self.a_inv.tolist(),
            "b": self.b.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], rng: np.random.Generator | None = None) -> LinUCB:
        _check_kind(data, "linucb")
        bandit = cls(int(data["n_arms"]), int(data["dim"]), float(data["alpha"]), rng=rng)
        a_inv = np.asarray(data["a_inv"], dtype=np.float64)
        if a_inv.shape != bandit.a_inv.shape:
            raise ValueError(f"a_inv must have shape {bandit.a_inv.shape}, got {a_inv.shape}")
        bandit.a_inv = a_inv
        bandit.b = _array(data["b"], bandit.n_arms, np.float64).reshape(bandit.n_arms, -1)
        if bandit.b.shape != (bandit.n_arms, bandit.dim):
            raise ValueError(f"b must have shape ({bandit.n_arms}, {bandit.dim})")
        return bandit


def _array(values: Any, n_arms: int, dtype: type[np.generic]) -> Any:
    array = np.asarray(values, dtype=dtype)
    if array.shape[:1] != (n_arms,):
        raise ValueError(f"expected {n_arms} rows in the saved state, got shape {array.shape}")
    return array


def bandit_from_json(data: Mapping[str, Any], rng: np.random.Generator) -> Bandit:
    """Restore any bandit saved with `to_json`, dispatching on its `kind`."""
    kind = data.get("kind")
    if kind == "epsilon_greedy":
        return EpsilonGreedy.from_json(data, rng)
    if kind == "thompson":
        return ThompsonSampling.from_json(data, rng)
    if kind == "linucb":
        return LinUCB.from_json(data, rng)
    raise ValueError(f"unknown bandit kind {kind!r}")
