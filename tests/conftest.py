"""Fixtures shared by the whole suite: a config on disk, a migrated database, a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.storage.db import Database
from bot.storage.migrations import apply_migrations

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
    """Write a config file into a fresh folder: `write_config(extra_toml, persona=True)`."""

    def write(extra: str = "", *, persona: bool = True, name: str = "config.toml") -> Path:
        path = tmp_path / name
        path.write_text(extra + "\n" + (PERSONA if persona else ""), encoding="utf-8")
        return path

    return write


@pytest.fixture
def config(write_config: ConfigWriter) -> Config:
    return load_config(write_config())


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.db", busy_timeout_ms=2000)
    await apply_migrations(database.write_connection)
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
