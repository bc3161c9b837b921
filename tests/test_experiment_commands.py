"""`/admin experiment ...` through the command service: the life cycle and clear answers."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from bot.core import Pipeline
from bot.events import Platform
from bot.experiment_service import ExperimentError, ExperimentService, parse_snippet
from tests.test_learning_support import learning_pipeline, make_experiments, message, say

DEFINITION = {
    "id": "warm-humour",
    "name": "More humour",
    "salt": "fixed-salt",
    "variants": {"control": {}, "funny": {"adjust": {"humor": 0.3}}},
    "allocation": {"control": 0.5, "funny": 0.5},
}
TOML = """id = "formal"
[variants.control]
[variants.stiff]
override = { formality = 0.9 }
[allocation]
control = 0.5
stiff = 0.5
"""


async def admin(pipeline: Pipeline, args: str) -> str:
    result = await say(pipeline, f"/admin experiment {args}")
    assert result.kind == "command"
    return result.reply.text


@pytest.fixture
def experiments(app: App) -> ExperimentService:
    return make_experiments(app)


@pytest.fixture
def pipeline(app: App, experiments: ExperimentService) -> Pipeline:
    return learning_pipeline(app, experiments=experiments)


async def test_create_start_stop_list_and_report(
    app: App, pipeline: Pipeline, experiments: ExperimentService
) -> None:
    created = await admin(pipeline, "create " + json.dumps(DEFINITION))
    assert "Created experiment 'warm-humour' (draft)" in created
    assert "formal" in await admin(pipeline, "create " + TOML)
    listing = await admin(pipeline, "list")
    assert listing.splitlines() == [
        "warm-humour: draft - More humour (control 0.5, funny 0.5)",
        "formal: draft - formal (control 0.5, stiff 0.5)",
    ]
    assert "has not started yet" in await admin(pipeline, "report warm-humour")

    assert (await admin(pipeline, "start warm-humour")).startswith("Started warm-humour: running")
    assert await experiments.assign("console:alice") is not None
    assert "Stop 'warm-humour' first" in await admin(pipeline, "start formal")
    assert "already running" in await admin(pipeline, "start warm-humour")

    await say(pipeline, "hello there")
    report = await say(pipeline, "/admin experiment report warm-humour")
    assert report.reply.text.startswith("Experiment warm-humour (More humour): running, day 0.0")
    assert "Recommendation:" in report.reply.text and "SRM" in report.reply.text

    assert (await admin(pipeline, "stop warm-humour")).startswith("Stopped warm-humour: stopped")
    assert await experiments.assign("console:alice") is None
    assert "cannot restart" in await admin(pipeline, "start warm-humour")
    assert "already stopped" in await admin(pipeline, "stop warm-humour")
    assert (await admin(pipeline, "start formal")).startswith("Started formal: running")


async def test_unknown_ids_duplicates_and_usage(pipeline: Pipeline) -> None:
    for verb in ("start", "stop", "report"):
        assert await admin(pipeline, f"{verb} nope") == "No experiment with id 'nope'."
    await admin(pipeline, "create " + json.dumps(DEFINITION))
    duplicate = await admin(pipeline, "create " + json.dumps(DEFINITION))
    assert duplicate == "An experiment with id 'warm-humour' already exists."
    for args in ("", "start", "frobnicate x"):
        assert (await admin(pipeline, args)).startswith("Usage: /admin experiment create")
    assert await admin(pipeline, "list") != "No experiments yet."


async def test_no_experiments_yet(pipeline: Pipeline) -> None:
    assert await admin(pipeline, "list") == "No experiments yet."


def _with(**changes: object) -> str:
    return json.dumps({**DEFINITION, **changes})


@pytest.mark.parametrize(
    ("snippet", "answer"),
    [
        ("", "Send the definition as TOML or JSON after 'create'."),
        ("this is = not [toml", "That is not valid TOML or JSON:"),
        ('{"id": "x",', "That is not valid TOML or JSON:"),
        ("[1, 2]", "That is not valid TOML or JSON:"),
        (
            _with(allocation={"control": 0.5, "funny": 0.6}),
            "Invalid experiment definition: allocation: shares must sum to 1",
        ),
        (
            _with(allocation={"control": 1.0}),
            "Invalid experiment definition: allocation: keys must match variants",
        ),
        (
            _with(variants={"control": {}, "funny": {"adjust": {"charm": 0.2}}}),
            "Invalid experiment definition: variants.funny.adjust.charm: unknown trait",
        ),
        (_with(variants={"control": {}}), "Invalid experiment definition: variants:"),
        (_with(primary_metric="revenue"), "Unknown metric 'revenue'"),
        (_with(id="no spaces please"), "id: use up to 64 letters"),
    ],
)
async def test_bad_snippets_get_a_clear_answer(
    pipeline: Pipeline, snippet: str, answer: str
) -> None:
    assert (await admin(pipeline, f"create {snippet}")).startswith(answer)
    assert await admin(pipeline, "list") == "No experiments yet."


def test_snippet_defaults_and_salt() -> None:
    experiment = parse_snippet(TOML)
    assert experiment.primary_metric == "thumbs_up_rate"
    assert [g.metric for g in experiment.guardrails] == ["thumbs_down_rate", "latency_ms"]
    assert len(experiment.salt) == 32 and experiment.salt != parse_snippet(TOML).salt
    explicit = parse_snippet(_with(guardrails=[], primary_metric="reward"))
    assert explicit.guardrails == () and explicit.primary_metric == "reward"
    with pytest.raises(ExperimentError, match="not valid TOML or JSON"):
        parse_snippet("{")


async def test_only_admins_may_run_experiment_commands(app: App) -> None:
    pipeline = learning_pipeline(app, experiments=make_experiments(app))
    result = await pipeline.process(message("/admin experiment list", platform=Platform.TELEGRAM))
    assert result.reply.text == "That command is for the bot's admins only."
