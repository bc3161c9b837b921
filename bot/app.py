"""The composition root: builds every part from the config and runs the process lifecycle.

This is the only module that imports every layer. `App.create` wires storage, analysis,
personalisation, memory, generator, commands and the pipeline; `serve` runs the scheduler and
the enabled adapters until SIGINT/SIGTERM; `App.aclose` stops adapters first, then flushes
pending writes and closes everything else, in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from adapters.base import Adapter
from adapters.callbacks import CallbackCodec
from bot.admin_commands import AdminCommands, provider_commands, task_commands
from bot.cache import Cache, build_cache
from bot.clock import Clock, SystemClock
from bot.commands import AdminPolicy, CommandService
from bot.config import Config, ConfigError, secret
from bot.core import Pipeline
from bot.embedding import AsyncEmbedder, EmbeddedAnalysis, SentenceEmbedder
from bot.events import Platform
from bot.experiment_service import USAGE as EXPERIMENT_USAGE
from bot.experiment_service import ExperimentService, experiment_commands
from bot.learning import StrategyBandit
from bot.llm.factory import build_generator
from bot.llm.router import ProviderRouter
from bot.llm.state_store import StatePersister, build_state_store
from bot.memory_service import MemoryCommands, MemoryService
from bot.ops import OpsServer, providers_json
from bot.personalization import PersonaAdapter, PersonaSelector, ProfileTracker, PromptBuilder
from bot.recall import MemoryRecall, NoRecall
from bot.signing import load_signing_key
from bot.stages import RecallStage, Stages
from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.storage.learning import BanditStore, ExperimentStore
from bot.storage.memories import MemoryStore
from bot.storage.migrations import apply_migrations
from bot.storage.profiles import ProfileStore
from bot.user_commands import MemoryCommandHandlers, PersonalCommands
from personality.analysis import MessageAnalyzer
from personality.emotion import DEFAULT_PATH as DEFAULT_HEAD
from personality.emotion import TOP_PATH
from personality.personas import personas_from_config
from personality.ports import Embedder
from scheduler.jobs import TaskService
from scheduler.runner import SchedulerRunner

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    clock: Clock
    db: Database
    store: ConversationStore
    profiles: ProfileStore
    cache: Cache
    generator: ProviderRouter
    commands: CommandService
    pipeline: Pipeline
    codec: CallbackCodec
    tasks: TaskService
    persister: StatePersister
    bandit: StrategyBandit
    experiments: ExperimentService
    embedder: AsyncEmbedder | None = None
    memory: MemoryService | None = None
    admin_menu: list[tuple[str, str]] = field(default_factory=list)
    """The /admin subcommands, for platforms that show them as a menu (Discord)."""
    adapters: list[Adapter] = field(default_factory=list)
    scheduler: SchedulerRunner | None = None
    ops: OpsServer | None = None

    @classmethod
    async def create(
        cls,
        config: Config,
        *,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
        sentence_model: Embedder | None = None,
    ) -> App:
        """Build the app. `sentence_model` reuses an already loaded embedding model (tests
        and benchmarks load it once); otherwise `[analysis] embeddings` decides."""
        clock = clock or SystemClock()
        env = os.environ if env is None else env
        db = await Database.open(
            config.resolve(config.storage.path),
            busy_timeout_ms=config.storage.busy_timeout_ms,
            max_batch=config.storage.max_batch,
        )
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            await apply_migrations(db)
            store = ConversationStore(db)
            profiles = ProfileStore(db)
            cache = build_cache(config.cache)
            closers.append(cache.close)
            embedder = await _embedder(config, sentence_model)
            if embedder is not None:
                closers.append(embedder.aclose)
            analysis = await _analysis(config, embedder)
            memory = None
            recall: RecallStage = NoRecall()
            if embedder is not None:
                memory = MemoryService.from_section(
                    MemoryStore(db, max_per_user=config.memory.max_per_user),
                    cache,
                    embedder,
                    config.memory,
                    clock=clock.now,
                )
                recall = MemoryRecall(memory)
            bandit = StrategyBandit(BanditStore(db), store, config.learning, clock.now)
            await bandit.load()
            experiments = ExperimentService(ExperimentStore(db), clock.now)
            await experiments.load()
            generator = build_generator(config.llm, env)
            closers.append(generator.aclose)
            persister = StatePersister(
                generator,
                build_state_store(
                    config.cache.backend,
                    config.cache.url,
                    config.resolve(config.bot.data_dir) / "llm-state.json",
                ),
                config.llm.persist_interval_s,
            )
            await persister.restore()
            persister.start()
            closers.append(persister.stop)
            tasks = TaskService(db, config.scheduler, clock.now)
            if memory is not None:
                tasks.add_cleanup_hook("memories", _expired_memories(memory))
            commands = CommandService(config.bot.name, store, _admins(config))
            pipeline = Pipeline(
                stages=_stages(config, store, profiles, analysis, recall, bandit, experiments),
                generator=generator,
                store=store,
                commands=commands,
                limits=config.limits,
                clock=clock,
                generation_timeout_s=config.llm.deadline_s + 5.0,
            )
            pipeline.on_feedback(bandit.on_feedback)
            pipeline.on_turn(bandit.on_turn)
            if isinstance(recall, MemoryRecall):
                pipeline.on_turn(recall.remember_from)
            PersonalCommands(
                store, profiles, personas_from_config(config.personas), config.bot.persona
            ).register(commands)
            if memory is not None:
                MemoryCommandHandlers(MemoryCommands(memory)).register(commands)
                commands.on_forget(memory.invalidate)
            admin = AdminCommands()
            admin.add("providers", "providers - LLM provider health", provider_commands(generator))
            admin.add(
                "task", "task run NAME | task history - background jobs", task_commands(tasks)
            )
            admin.add("experiment", EXPERIMENT_USAGE, experiment_commands(experiments))
            admin.register(commands)
            admin_menu = admin.subcommands()
            codec = CallbackCodec(
                load_signing_key(config.bot.secret_env, config.resolve(config.bot.data_dir))
            )
        except BaseException:
            for close in reversed(closers):
                await close()
            await db.close()
            raise
        return cls(
            config,
            clock,
            db,
            store,
            profiles,
            cache,
            generator,
            commands,
            pipeline,
            codec,
            tasks,
            persister,
            bandit,
            experiments,
            embedder,
            memory,
            admin_menu=admin_menu,
        )

    async def settle_rewards(self) -> None:
        """Give the bandit its reward for every reply whose reply window has closed."""
        await self.bandit.settle_due(self.clock.now())

    async def aclose(self) -> None:
        """Stop adapters and jobs, then flush writes and close everything else."""
        if self.ops is not None:
            await self.ops.stop()
            self.ops = None
        for adapter in reversed(self.adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter %s failed to stop cleanly", adapter.name)
        self.adapters.clear()
        await self.pipeline.drain()
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        await self.settle_rewards()
        await self.bandit.save()
        await self.persister.stop()
        await self.generator.aclose()
        if self.embedder is not None:
            await self.embedder.aclose()
        await self.cache.close()
        await self.db.close()


def _admins(config: Config) -> AdminPolicy:
    return AdminPolicy(
        {
            Platform.TELEGRAM: frozenset(config.telegram.admins),
            Platform.DISCORD: frozenset(config.discord.admins),
        },
        console_admin=config.console.admin,
    )


def _expired_memories(memory: MemoryService) -> Callable[[float], Awaitable[int]]:
    """The weekly cleanup hook; the service reads the time from its own clock."""

    async def delete(now: float) -> int:
        return await memory.delete_expired()

    return delete


async def _embedder(config: Config, preloaded: Embedder | None) -> AsyncEmbedder | None:
    if preloaded is None and not config.analysis.embeddings:
        return None
    if preloaded is None:
        model_dir = Path(config.analysis.model_dir) if config.analysis.model_dir else None
        preloaded = await asyncio.to_thread(
            partial(SentenceEmbedder, model_dir, emotion_top=_emotion_layers(config))
        )
    embedder = AsyncEmbedder(preloaded)
    await embedder.start()
    return embedder


def _emotion_layers(config: Config) -> Path | None:
    """The fine-tuned emotion layers to load: they copy the bundled model's top layers, so a
    custom `model_dir` gets them only when `emotion_layers` names a file explicitly."""
    chosen = config.analysis.emotion_layers
    if chosen == "none":
        return None
    if chosen:
        return config.resolve(chosen)
    return None if config.analysis.model_dir else TOP_PATH


async def _analysis(config: Config, embedder: AsyncEmbedder | None) -> EmbeddedAnalysis:
    """The analysis stage. With the sentence model, emotions come from the fine-tuned layers
    in the same forward pass (or the fallback head on the embedding); without it the
    lexicons alone read the message, and the signals say so in `source`."""
    head = Path(config.analysis.emotion_head) if config.analysis.emotion_head else DEFAULT_HEAD
    analyzer = await asyncio.to_thread(
        MessageAnalyzer.load, head if embedder is not None else None
    )
    return EmbeddedAnalysis(analyzer, embedder)


def _stages(
    config: Config,
    store: ConversationStore,
    profiles: ProfileStore,
    analysis: EmbeddedAnalysis,
    recall: RecallStage,
    bandit: StrategyBandit,
    experiments: ExperimentService,
) -> Stages:
    personas = personas_from_config(config.personas)
    return Stages(
        analysis=analysis,
        profile=ProfileTracker(profiles, config.adaptation.profile_alpha),
        persona_choice=PersonaSelector(
            profiles,
            personas,
            config.bot.persona,
            config.adaptation.strategy,
            chooser=bandit,
            experiments=experiments,
        ),
        adaptation=PersonaAdapter(profiles, personas, config.adaptation),
        recall=recall,
        prompt=PromptBuilder(
            store,
            personas,
            bot_name=config.bot.name,
            crisis_text=config.safety.crisis_text,
            context_tokens=config.llm.context_tokens,
            max_tokens=config.llm.max_tokens,
        ),
    )


def build_adapters(app: App) -> list[Adapter]:
    """The adapters `[telegram]` and `[discord]` enable, each with its token checked."""
    adapters: list[Adapter] = []
    config = app.config
    public, admin = app.commands.public_commands(), app.commands.admin_commands()
    if config.telegram.enabled:
        token = secret("TELEGRAM_BOT_TOKEN")
        if token is None:
            raise ConfigError(
                f"{config.path}: telegram.enabled is true but $TELEGRAM_BOT_TOKEN is not set"
            )
        from adapters.telegram import TelegramAdapter

        adapters.append(
            TelegramAdapter(app.pipeline, config.telegram, token, app.codec, public, admin)
        )
    if config.discord.enabled:
        token = secret("DISCORD_BOT_TOKEN")
        if token is None:
            raise ConfigError(
                f"{config.path}: discord.enabled is true but $DISCORD_BOT_TOKEN is not set"
            )
        from adapters.discord_adapter import DiscordAdapter

        admins = frozenset(config.discord.admins)
        adapters.append(
            DiscordAdapter(
                app.pipeline,
                config.discord,
                token,
                app.codec,
                public,
                is_admin=admins.__contains__,
                admin_commands=app.admin_menu,
            )
        )
    return adapters


async def status(app: App) -> dict[str, Any]:
    """What `GET /status` of the ops endpoint shows."""
    runs = await app.tasks.task_history(limit=5)
    return {
        "adapters": [adapter.name for adapter in app.adapters],
        "providers": providers_json(app.generator.snapshot()),
        "storage": app.db.commit_stats(),
        "tasks": [run.summary() for run in runs],
        "embeddings": app.embedder is not None,
    }


async def serve(
    app: App, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None
) -> None:
    """Run the scheduler and the enabled adapters until `stop` is set or SIGINT/SIGTERM;
    `ready` is set once everything is up."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        adapters = build_adapters(app)
        if app.config.scheduler.enabled:
            app.scheduler = SchedulerRunner(
                app.tasks, app.config.scheduler, app.config.bot.timezone, app.clock.now
            )
            await app.scheduler.start()
            # Replies nobody answered within [learning] reply_window_s still teach the bandit.
            app.scheduler.scheduler.add_job(
                app.settle_rewards,
                IntervalTrigger(seconds=60),
                id="bandit_settle",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )
        for adapter in adapters:
            await adapter.start()
            app.adapters.append(adapter)
            log.info("adapter %s started", adapter.name)
        if not app.adapters:
            log.warning("no adapter is enabled ([telegram] / [discord] enabled = true)")
        if app.config.ops.enabled:
            app.ops = OpsServer(app.config.ops.host, app.config.ops.port, lambda: status(app))
            await app.ops.start()
        log.info("attune is ready")
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
