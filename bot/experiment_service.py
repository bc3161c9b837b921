"""A/B experiments at run time: definitions from the admin, sticky assignment, the report.

One experiment runs at a time (the database enforces it), so every user is in at most one
and the effects of two experiments never mix; start the next one after stopping the first.
The life cycle is draft -> running -> stopped, and a stopped experiment never restarts
(its data would mix two periods): create a new one instead.

Metrics a definition can name (primary metric or guardrail), all per interaction:
`thumbs_up_rate` and `thumbs_down_rate` (ProportionStats over rated replies), `reward`
(SampleStats of the stored rating's reward) and `latency_ms` (SampleStats of the reply
latency). A snippet without `primary_metric` uses `thumbs_up_rate`; one without
`guardrails` gets 👎 rate (10 % tolerance) and latency (20 %). Ratings counted are the latest
value of each reply's rating. Interactions of one user are treated as independent
observations, which understates the variance when a few users talk a lot.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.admin_commands import SubHandler
from bot.commands import CommandContext
from bot.events import Attachment, Reply
from bot.personalization import Assignment
from bot.storage.learning import SECONDS_PER_DAY, DailyTotals, ExperimentStore, StoredExperiment
from personality.charts import EffectPoint, effect_chart_png
from personality.experiments import (
    Experiment,
    ExperimentReport,
    VariantData,
    assign_variant,
    build_report,
    parse_experiment,
)
from personality.stats import ProportionStats, SampleStats, Stats, TestResult, sequential_ttest

METRICS = ("thumbs_up_rate", "thumbs_down_rate", "reward", "latency_ms")
DEFAULT_METRIC = "thumbs_up_rate"
DEFAULT_GUARDRAILS = (
    {"metric": "thumbs_down_rate", "higher_is_better": False, "tolerance": 0.1},
    {"metric": "latency_ms", "higher_is_better": False, "tolerance": 0.2},
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
USAGE = (
    "experiment create <TOML or JSON> | experiment start ID | experiment stop ID | "
    "experiment list | experiment report ID"
)


class ExperimentError(Exception):
    """An admin request that cannot be done; the message says why, for the admin."""


def parse_snippet(text: str) -> Experiment:
    """An experiment from a TOML or JSON snippet (JSON when it starts with "{")."""
    text = text.strip()
    if not text:
        raise ExperimentError("Send the definition as TOML or JSON after 'create'.")
    try:
        data: Any = json.loads(text) if text.startswith("{") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ExperimentError(f"That is not valid TOML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ExperimentError("The definition must be a TOML document or a JSON object.")
    try:
        experiment = parse_experiment(
            {"primary_metric": DEFAULT_METRIC, "guardrails": list(DEFAULT_GUARDRAILS), **data}
        )
    except ValueError as exc:
        raise ExperimentError(f"Invalid experiment definition: {exc}") from None
    if not _ID.match(experiment.id):
        raise ExperimentError("id: use up to 64 letters, digits, '.', '_' or '-'.")
    for metric in (experiment.primary_metric, *(g.metric for g in experiment.guardrails)):
        if metric not in METRICS:
            raise ExperimentError(f"Unknown metric {metric!r}; known: {', '.join(METRICS)}.")
    return experiment


def variant_metrics(totals: Sequence[DailyTotals]) -> dict[str, Stats]:
    """The statistics of every metric in `METRICS` from a variant's summed rows."""
    interactions = sum(t.interactions for t in totals)
    rated = sum(t.rated for t in totals)
    return {
        "thumbs_up_rate": ProportionStats(sum(t.ups for t in totals), rated),
        "thumbs_down_rate": ProportionStats(sum(t.downs for t in totals), rated),
        "reward": SampleStats(
            sum(t.reward_sum for t in totals), sum(t.reward_squares for t in totals), rated
        ),
        "latency_ms": SampleStats(
            sum(t.latency_sum for t in totals),
            sum(t.latency_squares for t in totals),
            interactions,
        ),
    }


def effect_points(
    experiment: Experiment, totals: Sequence[DailyTotals], started_at: float
) -> dict[str, list[EffectPoint]]:
    """Per treatment, the cumulative always-valid effect at the end of each day (days where
    it cannot be computed yet, e.g. with no ratings, are left out)."""
    last_day = max((t.day for t in totals), default=-1)
    points: dict[str, list[EffectPoint]] = {
        v.name: [] for v in experiment.variants if v.name != experiment.control
    }
    for day in range(last_day + 1):
        upto = [t for t in totals if t.day <= day]
        control = variant_metrics([t for t in upto if t.variant == experiment.control])
        at = datetime.fromtimestamp(started_at + (day + 1) * SECONDS_PER_DAY, UTC)
        for name, series in points.items():
            treatment = variant_metrics([t for t in upto if t.variant == name])
            metric = experiment.primary_metric
            result = sequential_ttest(control[metric], treatment[metric])
            if result.ok:
                series.append(EffectPoint(at, result.effect, result.ci_low, result.ci_high))
    return points


@dataclass(frozen=True, slots=True)
class ExperimentResults:
    stored: StoredExperiment
    report: ExperimentReport
    charts: Mapping[str, bytes]
    """PNG chart of each treatment's effect over time, by variant name."""
    elapsed_days: float


class ExperimentService:
    """Experiment storage and assignment; the running experiment is cached in memory and
    refreshed on start and stop (one process owns the experiments)."""

    def __init__(self, store: ExperimentStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._running: Experiment | None = None

    async def load(self) -> None:
        running = await self._store.running()
        self._running = running[0].experiment if running else None

    async def assign(self, user_key: str) -> Assignment | None:
        experiment = self._running
        if experiment is None:
            return None
        variant = experiment.variant(assign_variant(experiment, user_key))
        return Assignment(experiment.id, variant)

    async def create(self, snippet: str) -> Experiment:
        experiment = parse_snippet(snippet)
        if not await self._store.insert(experiment, self._clock()):
            raise ExperimentError(f"An experiment with id {experiment.id!r} already exists.")
        return experiment

    async def _get(self, experiment_id: str) -> StoredExperiment:
        stored = await self._store.get(experiment_id)
        if stored is None:
            raise ExperimentError(f"No experiment with id {experiment_id[:64]!r}.")
        return stored

    async def start(self, experiment_id: str) -> StoredExperiment:
        stored = await self._get(experiment_id)
        if stored.status == "running":
            raise ExperimentError(f"{experiment_id!r} is already running.")
        if stored.status == "stopped":
            raise ExperimentError(
                f"{experiment_id!r} was stopped and cannot restart; create a new experiment."
            )
        if not await self._store.start(experiment_id, self._clock()):
            running = await self._store.running()
            other = running[0].experiment.id if running else "another experiment"
            raise ExperimentError(f"Stop {other!r} first: only one experiment runs at a time.")
        await self.load()
        return await self._get(experiment_id)

    async def stop(self, experiment_id: str) -> StoredExperiment:
        stored = await self._get(experiment_id)
        if not await self._store.stop(experiment_id, self._clock()):
            raise ExperimentError(f"{experiment_id!r} is already {stored.status}.")
        await self.load()
        return await self._get(experiment_id)

    async def list(self) -> list[StoredExperiment]:
        return await self._store.all()

    async def results(self, experiment_id: str) -> ExperimentResults:
        stored = await self._get(experiment_id)
        if stored.started_at is None:
            raise ExperimentError(f"{experiment_id!r} has not started yet: no data.")
        experiment = stored.experiment
        end = stored.stopped_at if stored.stopped_at is not None else self._clock()
        elapsed_days = max(0.0, end - stored.started_at) / SECONDS_PER_DAY
        totals = await self._store.daily_totals(experiment_id, stored.started_at)
        users = await self._store.users_per_variant(experiment_id)
        data = {
            v.name: VariantData(
                users.get(v.name, 0),
                sum(t.interactions for t in totals if t.variant == v.name),
                variant_metrics([t for t in totals if t.variant == v.name]),
            )
            for v in experiment.variants
        }
        report = build_report(experiment, data, elapsed_days=elapsed_days)
        points = effect_points(experiment, totals, stored.started_at)
        charts = {
            name: await asyncio.to_thread(
                effect_chart_png,
                series,
                title=f"{experiment.id}: {name} vs {experiment.control}"
                f" ({experiment.primary_metric})",
            )
            for name, series in points.items()
            if series
        }
        return ExperimentResults(stored, report, charts, elapsed_days)


def _percent(result: TestResult) -> str:
    if not result.ok:
        return f"not computed ({result.reason})"
    return (
        f"{result.effect:+.1%} [{result.ci_low:+.1%}, {result.ci_high:+.1%}],"
        f" p = {result.p_value:.3g}"
    )


def format_report(results: ExperimentResults) -> str:
    """The report as plain text for chat: one block per variant, then SRM and advice."""
    stored, report = results.stored, results.report
    experiment = stored.experiment
    lines = [
        f"Experiment {experiment.id} ({experiment.name}): {stored.status}, day "
        f"{results.elapsed_days:.1f} of {experiment.max_duration_days:g}",
        f"Primary metric: {report.metric}",
    ]
    for variant in report.variants:
        low, high = variant.mean_ci
        lines.append(
            f"{variant.name}: {variant.users} users, {variant.interactions} interactions, "
            f"{report.metric} {variant.mean:.3f} [{low:.3f}, {high:.3f}]"
        )
        if variant.welch is not None and variant.sequential is not None:
            lines.append(f"  vs {experiment.control}: {_percent(variant.welch)}")
            lines.append(f"  always-valid: {_percent(variant.sequential)}")
        for guard in variant.guardrails:
            effect = f" ({guard.result.effect:+.1%})" if guard.result.ok else ""
            lines.append(f"  guardrail {guard.metric}: {guard.status}{effect}")
    verdict = "ok" if report.srm_ok else "MISMATCH"
    lines.append(f"Traffic split (SRM): p = {report.srm_p_value:.3g}, {verdict}")
    lines.append(f"Recommendation: {report.recommendation}")
    return "\n".join(lines)


def _summary(stored: StoredExperiment) -> str:
    experiment = stored.experiment
    shares = ", ".join(f"{name} {share:g}" for name, share in experiment.allocation.items())
    return f"{experiment.id}: {stored.status} - {experiment.name} ({shares})"


def experiment_commands(service: ExperimentService) -> SubHandler:
    """The `/admin experiment ...` handler."""

    async def experiment(ctx: CommandContext, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        rest = rest.strip()
        try:
            if verb == "create":
                created = await service.create(rest)
                return Reply(
                    f"Created experiment {created.id!r} (draft) with variants "
                    f"{', '.join(v.name for v in created.variants)}. "
                    f"Start it with /admin experiment start {created.id}"
                )
            if verb == "list":
                stored = await service.list()
                return Reply("\n".join(map(_summary, stored)) or "No experiments yet.")
            if verb in ("start", "stop", "report") and rest:
                return await _by_id(service, verb, rest)
        except ExperimentError as exc:
            return Reply(str(exc))
        return Reply(f"Usage: /admin {USAGE}")

    return experiment


async def _by_id(service: ExperimentService, verb: str, experiment_id: str) -> Reply:
    if verb == "start":
        return Reply(f"Started {_summary(await service.start(experiment_id))}")
    if verb == "stop":
        return Reply(f"Stopped {_summary(await service.stop(experiment_id))}")
    results = await service.results(experiment_id)
    charts = tuple(
        Attachment(f"{experiment_id}-{name}.png", png, "image/png", kind="photo")
        for name, png in results.charts.items()
    )
    return Reply(format_report(results), attachments=charts)
