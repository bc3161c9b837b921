"""Fixtures shared by the whole suite: a config on disk, a migrated database, a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from bot.app import App
from bot.cache import Cache, MemoryCache
from bot.cache.redis import RedisCache
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.storage.db import Database
from tests.clocks import FakeClock
from tests.database import open_database
from tests.fakes_openai import FakeOpenAI
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
        ops = "" if "[ops]" in extra else "[ops]\nport = 0\n"  # any free port
        text = extra + "\n" + analysis + ops + (PERSONA if persona else "")
        path.write_text(text, encoding="utf-8")
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


@pytest_asyncio.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    """Each cache backend in turn, for contract tests: in-process, then a real Redis."""
    if request.param == "memory":
        backend: Cache = MemoryCache(ttl_s=300.0, clock=FakeClock())
    else:
        client = Redis.from_url(request.getfixturevalue("redis_url"))
        await client.flushdb()
        backend = RedisCache(client, ttl_s=300.0)
    yield backend
    await backend.close()


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible server named "model" on a free loopback port."""
    fake = await FakeOpenAI(name="model").start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(config: Config, clock: ManualClock) -> AsyncIterator[App]:
    application = await App.create(config, clock=clock, env={})
    yield application
    await application.aclose()


__all__ = ["redis_url"]  # a session fixture shared by the Redis tests
