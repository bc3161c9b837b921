"""Helpers for the learning and experiment tests: the app's pipeline rebuilt with the strategy
bandit, the experiment assigner and `/admin experiment` wired in, as bot/app.py will do."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from bot.admin_commands import AdminCommands
from bot.app import App
from bot.commands import AdminPolicy, CommandService
from bot.config import LearningSection
from bot.core import Pipeline, TurnResult
from bot.events import FeedbackEvent, FeedbackOutcome, FeedbackValue, IncomingMessage, Platform
from bot.experiment_service import USAGE, ExperimentService, experiment_commands
from bot.learning import StrategyBandit
from bot.personalization import PersonaSelector
from bot.storage.learning import BanditStore, ExperimentStore
from personality.personas import personas_from_config


def make_bandit(
    app: App,
    *,
    bandit: str = "linucb",
    seed: int = 7,
    save_every: int = 20,
    settings: LearningSection | None = None,
) -> StrategyBandit:
    section = settings or dataclasses.replace(app.config.learning, bandit=bandit)
    return StrategyBandit(
        BanditStore(app.db),
        app.store,
        section,
        app.clock.now,
        rng=np.random.default_rng(seed),
        save_every=save_every,
    )


def make_experiments(app: App) -> ExperimentService:
    return ExperimentService(ExperimentStore(app.db), app.clock.now)


def learning_pipeline(
    app: App,
    bandit: StrategyBandit | None = None,
    experiments: ExperimentService | None = None,
) -> Pipeline:
    """The app's pipeline with the learning parts wired in (the lead's bot/app.py lines)."""
    commands = CommandService(app.config.bot.name, app.store, AdminPolicy({}, console_admin=True))
    if experiments is not None:
        admin = AdminCommands()
        admin.add("experiment", USAGE, experiment_commands(experiments))
        admin.register(commands)
    selector = PersonaSelector(
        app.profiles,
        personas_from_config(app.config.personas),
        app.config.bot.persona,
        app.config.adaptation.strategy,
        chooser=bandit,
        experiments=experiments,
    )
    pipeline = Pipeline(
        stages=dataclasses.replace(app.pipeline._stages, persona_choice=selector),
        generator=app.generator,
        store=app.store,
        commands=commands,
        limits=app.config.limits,
        clock=app.clock,
        generation_timeout_s=30.0,
    )
    if bandit is not None:
        pipeline.on_feedback(bandit.on_feedback)
        pipeline.on_turn(bandit.on_turn)
    return pipeline


def message(
    text: str, user: str = "alice", platform: Platform = Platform.CONSOLE
) -> IncomingMessage:
    return IncomingMessage(
        platform, chat_id=f"c-{user}", user_id=user, display_name=user, text=text
    )


async def say(pipeline: Pipeline, text: str, user: str = "alice") -> TurnResult:
    """Send a message and wait for the work that follows its reply (the bandit's
    bookkeeping), as the user's next message would."""
    result = await pipeline.process(message(text, user))
    await pipeline.drain()
    assert result.kind in ("reply", "command"), result
    return result


async def press(
    pipeline: Pipeline, interaction_id: int, value: FeedbackValue, user: str = "alice"
) -> FeedbackOutcome:
    return await pipeline.handle_feedback(
        FeedbackEvent(Platform.CONSOLE, user, interaction_id, value)
    )


async def rows(app: App, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await app.db.fetchall(sql, params)]
