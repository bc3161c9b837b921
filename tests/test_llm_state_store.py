"""Provider state persisted to a file and shared through a real Redis server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.config import LLMSection
from bot.llm.outcomes import ProviderFailure, ProviderReply
from bot.llm.router import ProviderRouter
from bot.llm.state_store import (
    FileStateStore,
    RedisStateStore,
    StatePersister,
    StateStore,
    build_state_store,
)
from bot.llm.types import ChatMessage, GenerationRequest, Usage
from tests.clocks import FakeClock

REQUEST = GenerationRequest(
    messages=(ChatMessage("user", "hi"),), persona_name="companion", persona_traits={}
)


class ScriptedProvider:
    """An in-process provider: fails while `down`, else answers."""

    weight = 1.0

    def __init__(self, name: str, down: bool = False) -> None:
        self.name = name
        self.down = down

    async def complete(self, request: GenerationRequest, timeout_s: float) -> ProviderReply:
        if self.down:
            raise ProviderFailure("fatal", "HTTP 401", status=401)
        return ProviderReply("ok", Usage(3, 4))

    async def aclose(self) -> None:
        return None


def router(clock: FakeClock, down: bool = False) -> ProviderRouter:
    providers = [ScriptedProvider("a", down), ScriptedProvider("b")]
    return ProviderRouter(providers, LLMSection(exploration=0.0), clock=clock)


async def check_round_trip(store: StateStore) -> None:
    first = router(FakeClock(), down=True)
    await first.generate(REQUEST)
    persister = StatePersister(first, store, interval_s=3600.0)
    persister.start()
    await persister.stop()  # stopping saves once more
    restarted = router(FakeClock(9.0))
    assert await StatePersister(restarted, store, 3600.0).restore()
    snapshot = restarted.snapshot()
    assert snapshot[0].breaker == "open", "the broken key stays known after a restart"
    assert snapshot[1].requests_last_hour == 1
    assert restarted.ranking() == ["b", "a"]


async def test_file_store_round_trip(tmp_path: Path) -> None:
    store = build_state_store("memory", "", tmp_path / "llm" / "router-state.json")
    assert isinstance(store, FileStateStore)
    assert await store.load() is None
    await check_round_trip(store)


async def test_a_corrupt_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    assert not await StatePersister(router(FakeClock()), FileStateStore(path), 60.0).restore()


@pytest.mark.redis
async def test_redis_store_round_trip(redis_url: str) -> None:
    store = RedisStateStore.from_url(redis_url, key=f"test:{uuid.uuid4()}")
    try:
        await check_round_trip(store)
    finally:
        await store.aclose()


async def test_unreachable_redis_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    store = build_state_store("redis", "redis://127.0.0.1:1/0", Path("unused"))
    persister = StatePersister(router(FakeClock()), store, 60.0)
    assert not await persister.restore()
    await persister.save()
    assert "could not load provider state" in caplog.text
    assert "could not save provider state" in caplog.text
    assert isinstance(store, RedisStateStore)
    await store.aclose()
