"""The composition root: builds every part from the config and runs the process lifecycle.

This is the only module that imports every layer. `App.create` wires storage, stages,
generator, commands and the pipeline; `serve` runs the enabled adapters until SIGINT/SIGTERM
and then stops them, flushes pending writes and closes everything, in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.base import Adapter
from adapters.callbacks import CallbackCodec
from bot.clock import Clock, SystemClock
from bot.commands import AdminPolicy, CommandService
from bot.config import Config, ConfigError, secret
from bot.core import Pipeline
from bot.events import Platform
from bot.llm.factory import build_generator
from bot.llm.types import Generator
from bot.signing import load_signing_key
from bot.stages import (
    BaseAdaptation,
    BasePersonaChoice,
    BasicPrompt,
    NeutralAnalysis,
    NoProfile,
    NoRecall,
    Stages,
)
from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.storage.migrations import apply_migrations

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    clock: Clock
    db: Database
    store: ConversationStore
    generator: Generator
    commands: CommandService
    pipeline: Pipeline
    codec: CallbackCodec
    adapters: list[Adapter] = field(default_factory=list)

    @classmethod
    async def create(
        cls, config: Config, *, clock: Clock | None = None, env: Mapping[str, str] | None = None
    ) -> App:
        clock = clock or SystemClock()
        env = os.environ if env is None else env
        db = await Database.open(
            config.resolve(config.storage.path),
            busy_timeout_ms=config.storage.busy_timeout_ms,
            max_batch=config.storage.max_batch,
        )
        try:
            await apply_migrations(db.write_connection)
            store = ConversationStore(db)
            generator = build_generator(config.llm, env)
            admins = AdminPolicy(
                {
                    Platform.TELEGRAM: frozenset(config.telegram.admins),
                    Platform.DISCORD: frozenset(config.discord.admins),
                },
                console_admin=config.console.admin,
            )
            commands = CommandService(config.bot.name, store, admins)
            pipeline = Pipeline(
                stages=_stages(config, store),
                generator=generator,
                store=store,
                commands=commands,
                limits=config.limits,
                clock=clock,
                generation_timeout_s=config.llm.deadline_s + 5.0,
            )
            codec = CallbackCodec(
                load_signing_key(config.bot.secret_env, config.resolve(config.bot.data_dir))
            )
        except BaseException:
            await db.close()
            raise
        return cls(config, clock, db, store, generator, commands, pipeline, codec)

    async def aclose(self) -> None:
        """Stop adapters, then flush writes and close the generator and the database."""
        for adapter in reversed(self.adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter %s failed to stop cleanly", adapter.name)
        self.adapters.clear()
        await self.generator.aclose()
        await self.db.close()


def _stages(config: Config, store: ConversationStore) -> Stages:
    personas = config.personas
    return Stages(
        analysis=NeutralAnalysis(),
        profile=NoProfile(),
        persona_choice=BasePersonaChoice(config.bot.persona),
        adaptation=BaseAdaptation({name: p.traits for name, p in personas.items()}),
        recall=NoRecall(),
        prompt=BasicPrompt(
            config.bot.name,
            {name: p.description for name, p in personas.items()},
            store,
            crisis_text=config.safety.crisis_text,
            max_tokens=config.llm.max_tokens,
        ),
    )


def build_adapters(app: App) -> list[Adapter]:
    """The adapters `[telegram]` and `[discord]` enable, each with its token checked."""
    adapters: list[Adapter] = []
    config = app.config
    if config.telegram.enabled:
        token = secret("TELEGRAM_BOT_TOKEN")
        if token is None:
            raise ConfigError(
                f"{config.path}: telegram.enabled is true but $TELEGRAM_BOT_TOKEN is not set"
            )
        from adapters.telegram import TelegramAdapter

        adapters.append(
            TelegramAdapter(
                app.pipeline,
                config.telegram,
                token,
                app.codec,
                app.commands.public_commands(),
            )
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
                app.commands.public_commands(),
                is_admin=admins.__contains__,
                admin_commands=app.commands.admin_commands(),
            )
        )
    return adapters


async def serve(app: App, stop: asyncio.Event | None = None) -> None:
    """Run the enabled adapters until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        for adapter in build_adapters(app):
            await adapter.start()
            app.adapters.append(adapter)
            log.info("adapter %s started", adapter.name)
        if not app.adapters:
            log.warning("no adapter is enabled ([telegram] / [discord] enabled = true)")
        log.info("attune is ready")
        await stop.wait()
        log.info("stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
