"""personality.stats against published GrowthBook (gbstats) reference values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personality.stats import (
    ProportionStats,
    SampleStats,
    TestResult,
    mean_interval,
    sequential_ttest,
    srm_pvalue,
    welch_ttest,
)

CONTROL = SampleStats(1396.87, 52377.9767, 3407)
VARIANT = SampleStats(2422.7, 134698.29, 3461)


def rounded(result: TestResult) -> tuple[float, float, float, float]:
    """Effect, interval and p-value to the 5 decimals the references are published with."""
    return (
        round(result.effect, 5),
        round(result.ci_low, 5),
        round(result.ci_high, 5),
        round(result.p_value, 5),
    )


def test_welch_relative_matches_reference() -> None:
    result = welch_ttest(CONTROL, VARIANT)
    assert result.ok
    assert rounded(result) == (0.70732, -0.03526, 1.44989, 0.06191)
    assert round(result.se, 5) == 0.37879


def test_welch_absolute_matches_reference() -> None:
    result = welch_ttest(CONTROL, VARIANT, relative=False)
    assert rounded(result) == (0.29, 0.04538, 0.53462, 0.02016)


def test_welch_proportions_match_reference() -> None:
    result = welch_ttest(ProportionStats(14, 28), ProportionStats(16, 30))
    assert rounded(result) == (0.06667, -0.47767, 0.61101, 0.80707)


def test_sequential_matches_gbstats_reference() -> None:
    # gbstats TestSequentialTTest.test_sequential_test_runs (tuning 1000).
    a = SampleStats(1396.87, 52377.9767, 3000)
    result = sequential_ttest(a, VARIANT, tuning=1000)
    assert rounded(result) == (0.50336, -0.55844, 1.56516, 1.0)
    assert round(result.se, 5) == 0.33341


def test_sequential_proportions_match_gbstats_reference() -> None:
    # gbstats TestSequentialTTest.test_sequential_test_runs_prop (default tuning 5000).
    result = sequential_ttest(ProportionStats(1396, 3000), ProportionStats(2422, 3461))
    assert rounded(result) == (0.50386, 0.40098, 0.60675, 0.0)


def test_sequential_interval_is_wider_than_fixed_horizon() -> None:
    fixed = welch_ttest(CONTROL, VARIANT)
    always_valid = sequential_ttest(CONTROL, VARIANT)
    assert always_valid.ci_low < fixed.ci_low
    assert always_valid.ci_high > fixed.ci_high
    assert always_valid.p_value >= fixed.p_value


def test_sequential_interval_is_narrowest_near_tuning() -> None:
    a = SampleStats(1396.87, 52377.9767, 3000)
    widths = {
        tau: (r.ci_high - r.ci_low)
        for tau in (10, 6461, 10_000)
        for r in [sequential_ttest(a, VARIANT, tuning=tau)]
    }
    assert widths[6461] < widths[10_000] < widths[10]


def test_srm_matches_reference() -> None:
    assert round(srm_pvalue([1000, 1200], [0.5, 0.5]), 9) == 0.000020079
    assert round(srm_pvalue([135, 115], [0.5, 0.5]), 9) == 0.205903211


def test_srm_skips_zero_weight_and_handles_no_traffic() -> None:
    assert srm_pvalue([135, 115, 40], [0.5, 0.5, 0.0]) == srm_pvalue([135, 115], [0.5, 0.5])
    assert srm_pvalue([0, 0], [0.5, 0.5]) == 1.0
    assert srm_pvalue([10], [1.0]) == 1.0
    assert srm_pvalue([0, 100], [0.5, 0.5]) < 1e-10


def test_srm_rejects_mismatched_or_negative_input() -> None:
    with pytest.raises(ValueError, match="counts"):
        srm_pvalue([1, 2], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        srm_pvalue([1, 2], [-0.5, 1.5])


@pytest.mark.parametrize(
    ("a", "b", "relative", "reason"),
    [
        (SampleStats(0, 0, 0), VARIANT, True, "empty arm"),
        (CONTROL, ProportionStats(0, 0), True, "empty arm"),
        (SampleStats(1.0, 1.0, 1), VARIANT, True, "fewer than 2"),
        (SampleStats(10, 10, 10), SampleStats(20, 40, 10), False, "zero variance"),
        (SampleStats(0.0, 4.0, 4), VARIANT, True, "control mean is zero"),
        (ProportionStats(0, 50), ProportionStats(5, 50), True, "control mean is zero"),
    ],
)
def test_degenerate_inputs_say_why(
    a: SampleStats | ProportionStats,
    b: SampleStats | ProportionStats,
    relative: bool,
    reason: str,
) -> None:
    for test in (welch_ttest, sequential_ttest):
        result = test(a, b, relative=relative)
        assert not result.ok
        assert reason in result.reason
        assert (result.effect, result.ci_low, result.ci_high, result.p_value) == (0, 0, 0, 1)


def test_one_arm_without_variance_is_still_tested() -> None:
    result = welch_ttest(SampleStats(10, 10, 10), SampleStats(12, 16, 10), relative=False)
    assert result.ok
    assert result.effect == pytest.approx(0.2)


def test_invalid_aggregates_are_rejected() -> None:
    with pytest.raises(ValueError, match="successes"):
        ProportionStats(5, 3)
    with pytest.raises(ValueError, match="n must be"):
        SampleStats(1, 1, -1)
    with pytest.raises(ValueError, match="finite"):
        SampleStats(float("nan"), 1, 3)


def test_mean_interval() -> None:
    mean, low, high = mean_interval(SampleStats(10, 30, 5))
    assert mean == 2
    assert low < 2 < high
    assert mean_interval(SampleStats(3, 9, 1)) == (3, 3, 3)


counts = st.integers(min_value=0, max_value=10_000)


@given(sa=counts, na=counts, sb=counts, nb=counts, relative=st.booleans())
def test_results_are_never_nan(sa: int, na: int, sb: int, nb: int, relative: bool) -> None:
    a = ProportionStats(min(sa, na), na)
    b = ProportionStats(min(sb, nb), nb)
    for result in (
        welch_ttest(a, b, relative=relative),
        sequential_ttest(a, b, relative=relative),
    ):
        values = (result.effect, result.ci_low, result.ci_high, result.se, result.p_value)
        assert all(math.isfinite(v) for v in values)
        assert 0.0 <= result.p_value <= 1.0
        assert result.ci_low <= result.effect <= result.ci_high
        assert result.ok or result.reason
