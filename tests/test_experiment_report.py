"""The experiment report's numbers on a hand-built dataset of interactions and ratings."""

from __future__ import annotations

import json
import math

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.experiment_service import ExperimentService, effect_points
from bot.storage.learning import SECONDS_PER_DAY, ExperimentStore
from personality.stats import ProportionStats, srm_pvalue, welch_ttest
from tests.test_learning_support import learning_pipeline, make_experiments, say

DEFINITION = {
    "id": "exp",
    "salt": "s",
    "variants": {"control": {}, "funny": {"adjust": {"humor": 0.2}}},
    "allocation": {"control": 0.5, "funny": 0.5},
}
# Thumbs up (True) or down per user, ten users per variant; DAYS[i] is user i's day.
RATINGS = {
    "control": [True, False, True, True, False, True, False, True, True, False],
    "funny": [True, True, False, True, True, True, True, False, True, True],
}
DAYS = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]


async def _interaction(
    app: App, user: int, variant: str | None, at: float, latency: float, experiment: str = "exp"
) -> int:
    result = await app.db.write(
        "INSERT INTO interactions (user_id, chat_id, persona, strategy, variant, experiment_id,"
        " provider, latency_ms, traits, signals, created_at)"
        " VALUES (?, 'c', 'companion', 'balance', ?, ?, 'offline', ?, '{}', '{}', ?)",
        (user, variant, experiment if variant else None, latency, at),
    )
    assert result.lastrowid is not None
    return result.lastrowid


async def _rate(app: App, interaction: int, user: int, up: bool, at: float) -> None:
    await app.db.write(
        "INSERT INTO feedback (interaction_id, user_id, value, reward, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (interaction, user, "up" if up else "down", 1.0 if up else 0.0, at, at),
    )


@pytest.fixture
async def dataset(app: App, clock: ManualClock) -> ExperimentService:
    """Ten users per variant, one rated reply each over three days, plus noise to ignore."""
    service = make_experiments(app)
    await service.create(json.dumps(DEFINITION))
    await service.start("exp")
    start = clock.now()
    for variant, ratings in RATINGS.items():
        for index, (up, day) in enumerate(zip(ratings, DAYS, strict=True)):
            user = await app.store.ensure_user("console", f"{variant}{index}", "u", start)
            at = start + day * SECONDS_PER_DAY + 60.0
            latency = (100.0 if variant == "control" else 130.0) + 10.0 * index
            interaction = await _interaction(app, user.id, variant, at, latency)
            await _rate(app, interaction, user.id, up, at)
    first = await app.store.ensure_user("console", "control0", "u", start)
    await _interaction(app, first.id, "control", start + 120.0, 100.0)  # not rated
    await _rate(app, await _interaction(app, first.id, None, start, 5.0), first.id, True, start)
    other = await _interaction(app, first.id, "funny", start, 5.0, experiment="older")
    await _rate(app, other, first.id, False, start)
    clock.advance(3 * SECONDS_PER_DAY)
    return service


async def test_the_report_counts_and_effects(dataset: ExperimentService) -> None:
    results = await dataset.results("exp")
    report = results.report
    control, funny = report.variants
    assert (control.name, control.users, control.interactions) == ("control", 10, 11)
    assert (funny.name, funny.users, funny.interactions) == ("funny", 10, 10)
    assert control.mean == pytest.approx(0.6) and funny.mean == pytest.approx(0.8)
    assert control.welch is None and funny.welch is not None and funny.sequential is not None
    # The delta method by hand: vb/(nb ma²) + va mb²/(na ma⁴) with p(1-p) variances.
    se = math.sqrt(0.16 / (10 * 0.36) + 0.24 * 0.64 / (10 * 0.6**4))
    assert funny.welch.effect == pytest.approx(1 / 3)
    assert funny.welch.se == pytest.approx(se)
    assert funny.welch == welch_ttest(ProportionStats(6, 10), ProportionStats(8, 10))
    assert funny.sequential.effect == pytest.approx(1 / 3)
    assert funny.sequential.ci_high - funny.sequential.ci_low > funny.welch.ci_high - (
        funny.welch.ci_low
    )
    assert report.srm_p_value == srm_pvalue([10, 10], [0.5, 0.5]) == 1.0
    guards = {g.metric: g for g in funny.guardrails}
    assert guards["thumbs_down_rate"].result.effect == pytest.approx((0.2 - 0.4) / 0.4)
    assert guards["latency_ms"].result.effect == pytest.approx(175 / (1550 / 11) - 1)
    assert "Keep running" in report.recommendation  # 10 of the 100 users needed
    assert results.elapsed_days == pytest.approx(3.0)


async def test_the_chart_has_one_cumulative_point_per_day(
    app: App, dataset: ExperimentService
) -> None:
    results = await dataset.results("exp")
    assert set(results.charts) == {"funny"}
    assert results.charts["funny"].startswith(b"\x89PNG\r\n\x1a\n")
    stored = results.stored
    assert stored.started_at is not None
    totals = await ExperimentStore(app.db).daily_totals("exp", stored.started_at)
    points = effect_points(stored.experiment, totals, stored.started_at)["funny"]
    assert [p.at.timestamp() - stored.started_at for p in points] == [
        SECONDS_PER_DAY * day for day in (1, 2, 3)
    ]
    # Cumulative 👍 rates: day 0 3/4 vs 3/4, day 1 4/7 vs 6/7, day 2 6/10 vs 8/10.
    assert [p.effect for p in points] == pytest.approx([0.0, 0.5, 1 / 3])
    assert all(p.ci_low < p.effect < p.ci_high for p in points)


async def test_the_report_through_the_admin_command(app: App, dataset: ExperimentService) -> None:
    pipeline = learning_pipeline(app, experiments=dataset)
    result = await say(pipeline, "/admin experiment report exp")
    text = result.reply.text
    assert "day 3.0 of 14" in text
    assert "control: 10 users, 11 interactions, thumbs_up_rate 0.600" in text
    assert "funny: 10 users, 10 interactions, thumbs_up_rate 0.800" in text
    assert "vs control: +33.3%" in text
    assert "guardrail thumbs_down_rate:" in text
    assert "Traffic split (SRM): p = 1, ok" in text
    (chart,) = result.reply.attachments
    assert (chart.kind, chart.mime_type, chart.filename) == ("photo", "image/png", "exp-funny.png")


async def test_a_stopped_experiment_reports_up_to_its_stop(
    app: App, clock: ManualClock, dataset: ExperimentService
) -> None:
    await dataset.stop("exp")
    clock.advance(10 * SECONDS_PER_DAY)
    results = await dataset.results("exp")
    assert results.elapsed_days == pytest.approx(3.0)
    assert results.stored.status == "stopped"
