"""A/B experiments on persona variants: definition, sticky assignment and the report.

An experiment is parsed from a plain dict (a TOML or JSON snippet), for example::

    id = "warm-humour"
    name = "More humour for everyone"
    control = "control"
    primary_metric = "reward"
    min_sample_size = 200        # users per variant before any decision
    max_duration_days = 14
    [variants.control]
    [variants.funny]
    adjust = { humor = 0.15 }    # added to the adapted trait, then clamped to [0, 1]
    override = { formality = 0.3 }
    [allocation]
    control = 0.5
    funny = 0.5
    [[guardrails]]
    metric = "thumbs_down_rate"
    higher_is_better = false
    tolerance = 0.1              # relative worsening accepted before the guardrail fails

Assignment hashes salt, experiment id and user id with BLAKE2b, so it is sticky,
deterministic, and unguessable without the per-experiment salt (kept with the definition).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from personality.signals import TRAITS, clamp
from personality.stats import (
    Stats,
    TestResult,
    mean_interval,
    sequential_ttest,
    srm_pvalue,
    welch_ttest,
)

ALLOCATION_TOLERANCE = 1e-9
SRM_THRESHOLD = 0.001
"""SRM p-values below this mean the traffic split is broken (GrowthBook's default)."""


def _trait_map(raw: Any, where: str, *, low: float, high: float) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a table of trait = number")
    result: dict[str, float] = {}
    for name, value in raw.items():
        if name not in TRAITS:
            raise ValueError(f"{where}.{name}: unknown trait (known: {', '.join(TRAITS)})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}.{name}: must be a number")
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"{where}.{name}: must be in [{low}, {high}], got {value}")
        result[name] = float(value)
    return result


@dataclass(frozen=True, slots=True)
class Variant:
    """Trait changes on top of the adapted persona: `override` sets, `adjust` adds."""

    name: str
    adjust: Mapping[str, float] = field(default_factory=dict)
    override: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Guardrail:
    metric: str
    higher_is_better: bool = False
    tolerance: float = 0.0
    """Relative worsening (e.g. 0.1 = 10 %) accepted before the guardrail fails."""


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    name: str
    variants: tuple[Variant, ...]
    allocation: Mapping[str, float]
    control: str
    primary_metric: str
    salt: str
    guardrails: tuple[Guardrail, ...] = ()
    min_sample_size: int = 100
    max_duration_days: float = 14.0

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """A dict that `parse_experiment` turns back into this experiment (salt included)."""
        return {
            "id": self.id,
            "name": self.name,
            "control": self.control,
            "primary_metric": self.primary_metric,
            "salt": self.salt,
            "min_sample_size": self.min_sample_size,
            "max_duration_days": self.max_duration_days,
            "variants": {
                v.name: {"adjust": dict(v.adjust), "override": dict(v.override)}
                for v in self.variants
            },
            "allocation": dict(self.allocation),
            "guardrails": [
                {
                    "metric": g.metric,
                    "higher_is_better": g.higher_is_better,
                    "tolerance": g.tolerance,
                }
                for g in self.guardrails
            ],
        }


def _text(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: required non-empty string")
    return value


def _positive(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{key}: must be a number > 0, got {value!r}")
    return float(value)


def _allocation(raw: Any, names: Sequence[str]) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ValueError("allocation: required table of variant = share")
    if set(raw) != set(names):
        missing, extra = sorted(set(names) - set(raw)), sorted(set(raw) - set(names))
        raise ValueError(
            f"allocation: keys must match variants (missing {missing}, extra {extra})"
        )
    shares: dict[str, float] = {}
    for name in names:
        share = raw[name]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"allocation.{name}: must be a number in [0, 1], got {share!r}")
        shares[name] = float(share)
    if abs(math.fsum(shares.values()) - 1.0) > ALLOCATION_TOLERANCE:
        raise ValueError(f"allocation: shares must sum to 1, got {math.fsum(shares.values())}")
    return shares


def parse_experiment(data: Mapping[str, Any]) -> Experiment:
    """Validate a definition; a missing `salt` gets a fresh random one (persist `to_json()`)."""
    raw_variants = data.get("variants")
    if not isinstance(raw_variants, Mapping) or len(raw_variants) < 2:
        raise ValueError("variants: required table with at least two variants")
    variants = []
    for name, spec in raw_variants.items():
        spec = spec or {}
        if not isinstance(spec, Mapping) or set(spec) - {"adjust", "override"}:
            raise ValueError(f"variants.{name}: only 'adjust' and 'override' are allowed")
        adjust = _trait_map(spec.get("adjust"), f"variants.{name}.adjust", low=-1.0, high=1.0)
        override = _trait_map(spec.get("override"), f"variants.{name}.override", low=0, high=1)
        variants.append(Variant(str(name), adjust, override))
    names = [v.name for v in variants]
    control = _text(data, "control", "control")
    if control not in names:
        raise ValueError(f"control: {control!r} is not one of the variants {names}")
    guardrails = []
    for index, raw in enumerate(data.get("guardrails", [])):
        if not isinstance(raw, Mapping):
            raise ValueError(f"guardrails[{index}]: must be a table")
        tolerance = raw.get("tolerance", 0.0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
            raise ValueError(f"guardrails[{index}].tolerance: must be a number >= 0")
        guardrails.append(
            Guardrail(
                _text(raw, "metric"), bool(raw.get("higher_is_better", False)), float(tolerance)
            )
        )
    return Experiment(
        id=_text(data, "id"),
        name=_text(data, "name", data.get("id")),
        variants=tuple(variants),
        allocation=_allocation(data.get("allocation"), names),
        control=control,
        primary_metric=_text(data, "primary_metric", "reward"),
        salt=_text(data, "salt", secrets.token_hex(16)),
        guardrails=tuple(guardrails),
        min_sample_size=int(_positive(data, "min_sample_size", 100)),
        max_duration_days=_positive(data, "max_duration_days", 14.0),
    )


def bucket(experiment: Experiment, user_id: str) -> float:
    """The user's uniform position in [0, 1) for this experiment (sticky, salted)."""
    key = "\x1f".join((experiment.salt, experiment.id, user_id)).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def assign_variant(experiment: Experiment, user_id: str) -> str:
    """The variant this user always gets: the allocation slice their bucket falls into."""
    position = bucket(experiment, user_id)
    upper = 0.0
    chosen = experiment.control
    for variant in experiment.variants:
        share = experiment.allocation[variant.name]
        upper += share
        if share > 0:
            chosen = variant.name
            if position < upper:
                break
    return chosen


def apply_variant(traits: Mapping[str, float], variant: Variant) -> dict[str, float]:
    """`traits` with the variant's overrides set and adjustments added, clamped to [0, 1]."""
    result = dict(traits)
    for name, delta in variant.adjust.items():
        result[name] = clamp(result.get(name, 0.5) + delta)
    for name, value in variant.override.items():
        result[name] = clamp(value)
    return result


@dataclass(frozen=True, slots=True)
class VariantData:
    """Aggregates of one variant: distinct users, interactions and metric statistics."""

    users: int
    interactions: int
    metrics: Mapping[str, Stats]


@dataclass(frozen=True, slots=True)
class GuardrailCheck:
    metric: str
    status: str
    """"ok", "warn" (worse beyond tolerance, not yet significant), "fail" or "no data"."""
    result: TestResult


@dataclass(frozen=True, slots=True)
class VariantReport:
    name: str
    users: int
    interactions: int
    mean: float
    mean_ci: tuple[float, float]
    welch: TestResult | None
    """Relative effect vs control; None for the control itself."""
    sequential: TestResult | None
    guardrails: tuple[GuardrailCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    experiment_id: str
    metric: str
    variants: tuple[VariantReport, ...]
    srm_p_value: float
    recommendation: str

    @property
    def srm_ok(self) -> bool:
        return self.srm_p_value >= SRM_THRESHOLD

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready data: every field, nested results as dicts, plus `srm_ok`."""
        return {**asdict(self), "srm_ok": self.srm_ok}


def _guardrail(
    guard: Guardrail, control: VariantData, data: VariantData, alpha: float, tuning: float
) -> GuardrailCheck:
    """Fail only when the always-valid interval shows worsening beyond the tolerance."""
    a, b = control.metrics.get(guard.metric), data.metrics.get(guard.metric)
    if a is None or b is None:
        return GuardrailCheck(guard.metric, "no data", _missing(guard.metric))
    result = sequential_ttest(a, b, alpha=alpha, tuning=tuning)
    if not result.ok:
        return GuardrailCheck(guard.metric, "no data", result)
    worsening = -result.effect if guard.higher_is_better else result.effect
    if worsening <= guard.tolerance:
        return GuardrailCheck(guard.metric, "ok", result)
    bound = -result.ci_high if guard.higher_is_better else result.ci_low
    return GuardrailCheck(guard.metric, "fail" if bound > guard.tolerance else "warn", result)


def _missing(metric: str) -> TestResult:
    """A not-computed result for a metric that has no aggregates."""
    return TestResult(0.0, 0.0, 0.0, 0.0, 1.0, ok=False, reason=f"no data for metric {metric}")


def _recommend(
    experiment: Experiment, variants: Sequence[VariantReport], srm_p: float, elapsed_days: float
) -> str:
    if srm_p < SRM_THRESHOLD:
        return (
            f"Do not trust these results: the traffic split does not match the allocation "
            f"(SRM p = {srm_p:.2g}). Check assignment and logging, then restart the experiment."
        )
    failed = [(v.name, g.metric) for v in variants for g in v.guardrails if g.status == "fail"]
    if failed:
        name, metric = failed[0]
        return f"Stop the experiment: variant {name!r} clearly worsens the guardrail {metric}."
    treatments = [v for v in variants if v.sequential is not None]
    smallest = min(v.users for v in variants)
    if smallest < experiment.min_sample_size:
        return (
            f"Keep running: the smallest variant has {smallest} of the "
            f"{experiment.min_sample_size} users needed before deciding."
        )
    winners = [v for v in treatments if v.sequential and v.sequential.significant]
    better = [v for v in winners if v.sequential and v.sequential.effect > 0]
    if better:
        best = max(better, key=lambda v: v.sequential.effect if v.sequential else 0.0)
        effect = best.sequential.effect if best.sequential else 0.0
        return (
            f"Ship {best.name!r}: it raises {experiment.primary_metric} by {effect:+.1%} vs "
            f"{experiment.control!r}, and the always-valid interval excludes zero."
        )
    if winners and len(winners) == len(treatments):
        return f"Keep {experiment.control!r}: every variant does worse on the primary metric."
    if elapsed_days >= experiment.max_duration_days:
        return (
            f"Stop and keep {experiment.control!r}: no reliable difference after "
            f"{elapsed_days:.0f} days (the maximum duration)."
        )
    return "Keep running: no variant differs reliably from the control yet."


def build_report(
    experiment: Experiment,
    data: Mapping[str, VariantData],
    *,
    elapsed_days: float,
    alpha: float = 0.05,
    tuning: float = 5000,
) -> ExperimentReport:
    """Per-variant results on the primary metric, SRM, guardrails and a recommendation.

    Variants missing from `data` count as having no users (which the SRM check will flag).
    Decisions use the sequential (always-valid) result, since operators look at reports
    whenever they like; the Welch result is shown for comparison with fixed-horizon tools.
    """
    empty = VariantData(0, 0, {})
    control = data.get(experiment.control, empty)
    metric = experiment.primary_metric
    reports = []
    for variant in experiment.variants:
        current = data.get(variant.name, empty)
        stats = current.metrics.get(metric)
        mean, low, high = mean_interval(stats, alpha=alpha) if stats else (0.0, 0.0, 0.0)
        control_stats = control.metrics.get(metric)
        is_control = variant.name == experiment.control
        welch = sequential = None
        if not is_control:
            if stats is None or control_stats is None:
                welch = sequential = _missing(metric)
            else:
                welch = welch_ttest(control_stats, stats, alpha=alpha)
                sequential = sequential_ttest(control_stats, stats, alpha=alpha, tuning=tuning)
        guards = (
            ()
            if is_control
            else tuple(
                _guardrail(g, control, current, alpha, tuning) for g in experiment.guardrails
            )
        )
        row = (variant.name, current.users, current.interactions, mean, (low, high))
        reports.append(VariantReport(*row, welch, sequential, guards))
    srm_p = srm_pvalue(
        [data.get(v.name, empty).users for v in experiment.variants],
        [experiment.allocation[v.name] for v in experiment.variants],
    )
    recommendation = _recommend(experiment, reports, srm_p, elapsed_days)
    return ExperimentReport(experiment.id, metric, tuple(reports), srm_p, recommendation)
