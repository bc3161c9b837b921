"""Frequentist A/B statistics from sufficient statistics (sums), with GrowthBook's conventions.

Arm `a` is always the control. Means and variances come from aggregates, never from raw
rows: `SampleStats` uses the sample variance (n - 1), `ProportionStats` uses p(1 - p). The
relative effect (mb - ma) / ma has the delta-method variance
vb / (nb ma²) + va mb² / (na ma⁴); the absolute effect mb - ma has va / na + vb / nb.

- `welch_ttest`: fixed-horizon Welch t-test (Welch-Satterthwaite degrees of freedom). Valid
  only if you look once, at the planned sample size.
- `sequential_ttest`: the asymptotic confidence sequence of Waudby-Smith et al. (2023,
  arXiv 2103.06476) with tuning parameter tau and n = na + nb; valid however often you look,
  at the price of a wider interval (narrowest near n ≈ tau).
- `srm_pvalue`: chi-square goodness of fit of the observed arm counts to the allocation.

Degenerate inputs (an empty arm, n < 2, zero variance, a zero control mean for a relative
effect) give a `TestResult` with `ok=False` and a `reason`, never an exception or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import special


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True, slots=True)
class SampleStats:
    """Sum, sum of squares and count of a numeric metric (e.g. reward per interaction)."""

    sum: float
    sum_squares: float
    n: int

    def __post_init__(self) -> None:
        _check_finite(sum=self.sum, sum_squares=self.sum_squares)
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 denominator); 0 when n < 2 or rounding makes it negative."""
        if self.n < 2:
            return 0.0
        return max((self.sum_squares - self.sum * self.sum / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True, slots=True)
class ProportionStats:
    """Successes out of n trials (e.g. thumbs-up out of rated replies)."""

    successes: float
    n: int

    def __post_init__(self) -> None:
        _check_finite(successes=self.successes)
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")
        if not 0 <= self.successes <= self.n:
            raise ValueError(f"successes must be in [0, n={self.n}], got {self.successes}")

    @property
    def mean(self) -> float:
        return self.successes / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        """p(1 - p), the convention of GrowthBook for binomial metrics."""
        p = self.mean
        return p * (1.0 - p)


Stats = SampleStats | ProportionStats


@dataclass(frozen=True, slots=True)
class TestResult:
    """Effect of b over a with its interval; `ok=False` means `reason` says why not computed."""

    __test__ = False  # not a pytest test class despite the name

    effect: float
    ci_low: float
    ci_high: float
    se: float
    p_value: float
    ok: bool = True
    reason: str = ""

    @property
    def significant(self) -> bool:
        """The interval excludes zero (only meaningful when `ok`)."""
        return self.ok and (self.ci_low > 0 or self.ci_high < 0)

    def to_json(self) -> dict[str, float | bool | str]:
        return {
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "se": self.se,
            "p_value": self.p_value,
            "ok": self.ok,
            "reason": self.reason,
        }


def _not_computed(reason: str) -> TestResult:
    return TestResult(0.0, 0.0, 0.0, 0.0, 1.0, ok=False, reason=reason)


@dataclass(frozen=True, slots=True)
class _Moments:
    effect: float
    variance: float
    dof: float


def _moments(a: Stats, b: Stats, relative: bool) -> _Moments | str:
    """Point estimate, its variance and Welch dof, or the reason they cannot be computed."""
    if a.n == 0 or b.n == 0:
        return "empty arm: no observations in " + ("control" if a.n == 0 else "variant")
    if a.n < 2 or b.n < 2:
        return "fewer than 2 observations in an arm"
    va, vb, ma, mb = a.variance, b.variance, a.mean, b.mean
    if va == 0 and vb == 0:
        return "zero variance in both arms"
    if relative and ma == 0:
        return "control mean is zero: relative effect undefined"
    if relative:
        effect = (mb - ma) / ma
        variance = vb / (ma * ma * b.n) + va * mb * mb / (ma**4 * a.n)
    else:
        effect = mb - ma
        variance = va / a.n + vb / b.n
    sa, sb = va / a.n, vb / b.n
    dof = (sa + sb) ** 2 / (sa * sa / (a.n - 1) + sb * sb / (b.n - 1))
    if not (variance > 0 and math.isfinite(variance) and math.isfinite(effect)):
        return "effect variance is not positive"
    return _Moments(effect, variance, dof)


def welch_ttest(a: Stats, b: Stats, *, relative: bool = True, alpha: float = 0.05) -> TestResult:
    """Two-sided Welch t-test of b against control a (fixed horizon)."""
    m = _moments(a, b, relative)
    if isinstance(m, str):
        return _not_computed(m)
    se = math.sqrt(m.variance)
    half = float(special.stdtrit(m.dof, 1 - alpha / 2)) * se
    p = 2 * float(special.stdtr(m.dof, -abs(m.effect) / se))
    return TestResult(m.effect, m.effect - half, m.effect + half, se, min(p, 1.0))


def sequential_rho(alpha: float, tuning: float) -> float:
    """Mixture parameter that makes the confidence sequence tightest near n = tuning."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / tuning)


def sequential_ttest(
    a: Stats, b: Stats, *, relative: bool = True, alpha: float = 0.05, tuning: float = 5000
) -> TestResult:
    """Always-valid (anytime) interval and p-value of b against control a.

    Asymptotic confidence sequence (Waudby-Smith et al., eq. 155 for the p-value) with
    n = na + nb and s² = n · var(effect); p is min(1, 1 / e-value).
    """
    if tuning <= 0:
        return _not_computed("tuning must be positive")
    m = _moments(a, b, relative)
    if isinstance(m, str):
        return _not_computed(m)
    n = a.n + b.n
    rho2 = sequential_rho(alpha, tuning) ** 2
    s2 = m.variance * n
    spread = n * rho2 + 1
    half = math.sqrt(s2 * 2 * spread * math.log(math.sqrt(spread) / alpha) / (n * n * rho2))
    st2 = m.effect * m.effect * n / m.variance
    log_e_value = rho2 * st2 / (2 * spread) - 0.5 * math.log(spread)
    p = 1.0 if log_e_value <= 0 else math.exp(-log_e_value)
    return TestResult(m.effect, m.effect - half, m.effect + half, math.sqrt(m.variance), p)


def mean_interval(s: Stats, *, alpha: float = 0.05) -> tuple[float, float, float]:
    """(mean, low, high): t interval of one arm's mean; a point interval when n < 2."""
    if s.n < 2:
        return s.mean, s.mean, s.mean
    half = float(special.stdtrit(s.n - 1, 1 - alpha / 2)) * math.sqrt(s.variance / s.n)
    return s.mean, s.mean - half, s.mean + half


def srm_pvalue(counts: Sequence[int], weights: Sequence[float]) -> float:
    """Chi-square goodness-of-fit p-value of observed arm counts against expected weights.

    Arms with zero weight are skipped (they should get no traffic). Returns 1.0 when fewer
    than two weighted arms remain or nobody was counted: there is no evidence of a mismatch.
    """
    if len(counts) != len(weights):
        raise ValueError(f"{len(counts)} counts but {len(weights)} weights")
    if any(w < 0 or not math.isfinite(w) for w in weights) or any(c < 0 for c in counts):
        raise ValueError("counts and weights must be non-negative and finite")
    kept = [(c, w) for c, w in zip(counts, weights, strict=True) if w > 0]
    total = sum(c for c, _ in kept)
    if len(kept) < 2 or total == 0:
        return 1.0
    total_weight = sum(w for _, w in kept)
    statistic = 0.0
    for observed, weight in kept:
        expected = weight / total_weight * total
        statistic += (observed - expected) ** 2 / expected
    return float(special.chdtrc(len(kept) - 1, statistic))
