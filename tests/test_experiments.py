"""personality.experiments: definitions, sticky assignment, variants, report and chart."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from personality.charts import EffectPoint, effect_chart_png
from personality.experiments import (
    Experiment,
    VariantData,
    apply_variant,
    assign_variant,
    build_report,
    parse_experiment,
)
from personality.stats import ProportionStats, SampleStats, srm_pvalue

SNIPPET = """
id = "warm-humour"
name = "More humour"
control = "control"
primary_metric = "reward"
salt = "3f9c0d2a"
min_sample_size = 100
max_duration_days = 14

[variants.control]

[variants.funny]
adjust = { humor = 0.15 }
override = { formality = 0.3 }

[allocation]
control = 0.5
funny = 0.5

[[guardrails]]
metric = "thumbs_down_rate"
higher_is_better = false
tolerance = 0.1
"""


def definition(**changes: Any) -> dict[str, Any]:
    data = tomllib.loads(SNIPPET)
    data.update(changes)
    return data


@pytest.fixture
def experiment() -> Experiment:
    return parse_experiment(definition())


def test_parse_toml_snippet(experiment: Experiment) -> None:
    assert experiment.id == "warm-humour"
    assert [v.name for v in experiment.variants] == ["control", "funny"]
    assert experiment.variant("funny").adjust == {"humor": 0.15}
    assert experiment.guardrails[0].tolerance == 0.1
    assert parse_experiment(json.loads(json.dumps(experiment.to_json()))) == experiment


def test_missing_salt_gets_a_random_one() -> None:
    data = definition()
    del data["salt"]
    first, second = parse_experiment(data), parse_experiment(data)
    assert len(first.salt) == 32
    assert first.salt != second.salt


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"allocation": {"control": 0.5, "funny": 0.4}}, "sum to 1"),
        ({"allocation": {"control": 0.5, "other": 0.5}}, "keys must match"),
        ({"allocation": {"control": 1.5, "funny": -0.5}}, "in \\[0, 1\\]"),
        ({"allocation": None}, "allocation: required"),
        ({"control": "baseline"}, "not one of the variants"),
        ({"variants": {"control": {}}}, "at least two"),
        ({"variants": {"control": {}, "x": {"adjust": {"wit": 0.1}}}}, "unknown trait"),
        ({"variants": {"control": {}, "x": {"override": {"humor": 2}}}}, "must be in"),
        ({"variants": {"control": {}, "x": {"tone": "dry"}}}, "only 'adjust' and 'override'"),
        ({"id": ""}, "id: required"),
        ({"min_sample_size": 0}, "min_sample_size"),
        ({"guardrails": [{"metric": "latency_ms", "tolerance": -1}]}, "tolerance"),
    ],
)
def test_invalid_definitions_are_rejected(changes: dict[str, Any], message: str) -> None:
    if "variants" in changes and "allocation" not in changes:
        changes["allocation"] = dict.fromkeys(changes["variants"], 1 / len(changes["variants"]))
    with pytest.raises(ValueError, match=message):
        parse_experiment(definition(**changes))


def test_allocation_sum_within_tolerance_is_accepted() -> None:
    variants: dict[str, dict[str, Any]] = {"control": {}, "b": {}, "c": {}}
    data = definition(variants=variants, allocation=dict.fromkeys(variants, 1 / 3))
    assert set(parse_experiment(data).allocation) == set(variants)


def test_assignment_is_sticky_and_follows_the_allocation() -> None:
    data = definition(allocation={"control": 0.2, "funny": 0.8})
    experiment = parse_experiment(data)
    users = [f"telegram:{i}" for i in range(20_000)]
    first = [assign_variant(experiment, u) for u in users]
    assert first == [assign_variant(parse_experiment(data), u) for u in users]
    counts = Counter(first)
    assert srm_pvalue([counts["control"], counts["funny"]], [0.2, 0.8]) > 0.001


def test_assignment_depends_on_the_salt_and_skips_empty_variants() -> None:
    one = parse_experiment(definition())
    other = parse_experiment(definition(salt="another-salt"))
    users = [str(i) for i in range(500)]
    differ = sum(assign_variant(one, u) != assign_variant(other, u) for u in users)
    assert 150 < differ < 350
    everyone = parse_experiment(definition(allocation={"control": 0.0, "funny": 1.0}))
    assert {assign_variant(everyone, u) for u in users} == {"funny"}


def test_apply_variant_adjusts_overrides_and_clamps(experiment: Experiment) -> None:
    traits = {"humor": 0.95, "formality": 0.8, "empathy": 0.6}
    result = apply_variant(traits, experiment.variant("funny"))
    assert result == {"humor": 1.0, "formality": 0.3, "empathy": 0.6}
    assert traits["humor"] == 0.95
    assert apply_variant(traits, experiment.variant("control")) == traits


def arm(users: int, mean: float, thumbs_down: float) -> VariantData:
    n = users * 3
    total = mean * n
    return VariantData(
        users=users,
        interactions=n,
        metrics={
            "reward": SampleStats(total, total * mean + 0.04 * (n - 1), n),
            "thumbs_down_rate": ProportionStats(round(thumbs_down * n), n),
        },
    )


def test_report_recommends_shipping_a_clear_winner(experiment: Experiment) -> None:
    data = {"control": arm(3000, 0.50, 0.10), "funny": arm(3000, 0.56, 0.10)}
    report = build_report(experiment, data, elapsed_days=5)
    funny = report.variants[1]
    assert report.srm_ok
    assert funny.welch is not None and funny.welch.ok and funny.welch.p_value < 0.001
    assert funny.sequential is not None and funny.sequential.significant
    assert funny.welch.effect == pytest.approx(0.12)
    assert funny.mean_ci[0] < funny.mean < funny.mean_ci[1]
    assert funny.guardrails[0].status == "ok"
    assert report.variants[0].welch is None
    assert report.recommendation.startswith("Ship 'funny'")
    json.dumps(report.to_json())


def test_report_flags_sample_ratio_mismatch(experiment: Experiment) -> None:
    data = {"control": arm(1000, 0.5, 0.1), "funny": arm(1200, 0.56, 0.1)}
    report = build_report(experiment, data, elapsed_days=5)
    assert not report.srm_ok
    assert report.recommendation.startswith("Do not trust")


def test_report_stops_on_a_failed_guardrail(experiment: Experiment) -> None:
    data = {"control": arm(3000, 0.5, 0.10), "funny": arm(3000, 0.56, 0.20)}
    report = build_report(experiment, data, elapsed_days=5)
    assert report.variants[1].guardrails[0].status == "fail"
    assert report.recommendation.startswith("Stop the experiment")


def test_report_waits_for_the_minimum_sample(experiment: Experiment) -> None:
    data = {"control": arm(40, 0.5, 0.1), "funny": arm(42, 0.9, 0.1)}
    report = build_report(experiment, data, elapsed_days=1)
    assert report.recommendation.startswith("Keep running: the smallest variant has 40")


def test_report_stops_without_difference_after_the_maximum_duration(
    experiment: Experiment,
) -> None:
    data = {"control": arm(500, 0.5, 0.1), "funny": arm(500, 0.5, 0.1)}
    assert build_report(experiment, data, elapsed_days=3).recommendation.startswith(
        "Keep running: no variant"
    )
    late = build_report(experiment, data, elapsed_days=15)
    assert late.recommendation.startswith("Stop and keep 'control'")


def test_report_explains_missing_data(experiment: Experiment) -> None:
    report = build_report(experiment, {"control": arm(200, 0.5, 0.1)}, elapsed_days=2)
    funny = report.variants[1]
    assert funny.users == 0
    assert funny.welch is not None and not funny.welch.ok
    assert "no data" in funny.welch.reason
    assert funny.guardrails[0].status == "no data"


def test_effect_chart_is_a_png() -> None:
    start = datetime(2026, 1, 1)
    points = [
        EffectPoint(
            start + timedelta(days=day), 0.05, 0.05 - 0.3 / (day + 1), 0.05 + 0.3 / (day + 1)
        )
        for day in range(7)
    ]
    image = effect_chart_png(list(reversed(points)))
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert effect_chart_png([]).startswith(b"\x89PNG")
