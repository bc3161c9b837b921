"""Experiment assignment in the running pipeline: sticky, persisted, and applied to traits."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping

from bot.app import App
from bot.experiment_service import ExperimentService
from personality.experiments import assign_variant, parse_experiment
from tests.test_learning_support import (
    learning_pipeline,
    make_bandit,
    make_experiments,
    rows,
    say,
)

HALVES = {
    "id": "halves",
    "salt": "a-fixed-salt",
    "variants": {"control": {}, "warm": {"adjust": {"empathy": 0.1}}},
    "allocation": {"control": 0.5, "warm": 0.5},
}
EVERYONE_STIFF = {
    "id": "stiff",
    "variants": {"control": {}, "stiff": {"override": {"formality": 0.95, "humor": 0.05}}},
    "allocation": {"control": 0.0, "stiff": 1.0},
}
USERS = [f"user{i}" for i in range(12)]


async def _started(service: ExperimentService, definition: Mapping[str, object]) -> None:
    await service.create(json.dumps(definition))
    await service.start(str(definition["id"]))


async def test_assignment_is_sticky_across_messages(app: App) -> None:
    service = make_experiments(app)
    await _started(service, HALVES)
    pipeline = learning_pipeline(app, experiments=service)
    seen: defaultdict[str, set[str | None]] = defaultdict(set)
    for round_ in range(3):
        for user in USERS:
            result = await say(pipeline, f"message {round_} from {user}", user=user)
            seen[user].add(result.variant)

    experiment = parse_experiment(HALVES)
    expected = {user: {assign_variant(experiment, f"console:{user}")} for user in USERS}
    assert dict(seen) == expected
    assert {v for (v,) in expected.values()} == {"control", "warm"}
    stored = await rows(
        app,
        "SELECT u.platform_user_id, i.experiment_id, i.variant FROM interactions i"
        " JOIN users u ON u.id = i.user_id",
    )
    assert len(stored) == 3 * len(USERS)
    assert all(eid == "halves" and {variant} == expected[str(uid)] for uid, eid, variant in stored)


async def test_the_assignment_survives_a_restart(app: App) -> None:
    before = make_experiments(app)
    unsalted = {key: value for key, value in HALVES.items() if key != "salt"}
    await _started(before, unsalted)  # the generated salt must persist with the definition
    assignments = [await before.assign(f"console:{user}") for user in USERS]

    after = make_experiments(app)
    assert await after.assign("console:user0") is None  # nothing loaded yet
    await after.load()
    assert [await after.assign(f"console:{user}") for user in USERS] == assignments


async def test_users_in_an_experiment_get_the_variants_traits(app: App) -> None:
    service = make_experiments(app)
    await _started(service, EVERYONE_STIFF)
    pipeline = learning_pipeline(app, make_bandit(app), service)
    for text in ("hey, what's up? 😄", "tell me a joke"):
        result = await say(pipeline, text)
        assert result.variant == "stiff"
        assert result.persona["formality"] == 0.95 and result.persona["humor"] == 0.05
    (explanation, arm), _ = await rows(app, "SELECT explanation, arm FROM interactions")
    assert json.loads(str(explanation))["experiment"] == {"id": "stiff", "variant": "stiff"}
    assert arm is not None  # the bandit still chooses the strategy, a separate dimension

    await service.stop("stiff")
    after = await say(pipeline, "and now?")
    assert after.variant is None and after.persona["formality"] != 0.95
