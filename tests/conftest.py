"""Fixtures shared by the whole suite: a config on disk, a migrated database, a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.storage.db import Database
from tests.database import open_database
from tests.redis_server import redis_url

PERSONA = """
[personas.companion]
description = "warm, curious companion"

[personas.companion.traits]
openness = 0.7
conscientiousness = 0.6
extraversion = 0.6
agreeableness = 0.8
neuroticism = 0.2
humor = 0.5
empathy = 0.8
formality = 0.3
directness = 0.5
enthusiasm = 0.6
"""

ConfigWriter = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> ConfigWriter:
    """Write a config file into a fresh folder. The sentence model stays off unless
    `embeddings=True` (the tests that need it load it once, see `sentence_model`)."""

    def write(
        extra: str = "",
        *,
        persona: bool = True,
        embeddings: bool = False,
        name: str = "config.toml",
    ) -> Path:
        path = tmp_path / name
        analysis = "" if embeddings else "[analysis]\nembeddings = false\n"
        path.write_text(extra + "\n" + analysis + (PERSONA if persona else ""), encoding="utf-8")
        return path

    return write


@pytest.fixture
def config(write_config: ConfigWriter) -> Config:
    return load_config(write_config())


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "test.db")
    yield database
    await database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(config: Config, clock: ManualClock) -> AsyncIterator[App]:
    application = await App.create(config, clock=clock, env={})
    yield application
    await application.aclose()


__all__ = ["redis_url"]  # a session fixture shared by the Redis tests
