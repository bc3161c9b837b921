"""ProviderRouter over real OpenAI clients and fake servers on loopback."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from bot.config import LLMSection, ProviderSection
from bot.llm.factory import build_generator
from bot.llm.provider import OpenAIProvider
from bot.llm.router import ProviderRouter
from bot.llm.status import format_status
from bot.llm.types import ChatMessage, GenerationRequest
from tests.clocks import FakeClock
from tests.fakes_openai import FakeOpenAI, Fault

REQUEST = GenerationRequest(
    messages=(ChatMessage("system", "be brief"), ChatMessage("user", "hi")),
    persona_name="companion",
    persona_traits={"humor": 0.2, "empathy": 0.8},
    user_display_name="Bo",
    emotion="neutral",
)
SETTINGS = LLMSection(exploration=0.0, breaker_failures=2, breaker_cooldown_s=30.0)


@pytest.fixture
async def fakes() -> AsyncIterator[Callable[[int], Any]]:
    started: list[FakeOpenAI] = []

    async def start(count: int) -> list[FakeOpenAI]:
        for name in "abcdefgh"[:count]:
            started.append(await FakeOpenAI(name=name).start())
        return started

    yield start
    for fake in started:
        await fake.stop()


def section(fake: FakeOpenAI, timeout_s: float = 5.0) -> ProviderSection:
    return ProviderSection(name=fake.name, base_url=fake.base_url, model="m", timeout_s=timeout_s)


def make_router(
    servers: list[FakeOpenAI],
    settings: LLMSection = SETTINGS,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> ProviderRouter:
    providers = [OpenAIProvider(section(s), None) for s in servers]
    if clock is None:
        return ProviderRouter(providers, settings, **kwargs)
    return ProviderRouter(providers, settings, clock=clock, sleep=clock.sleep, **kwargs)


def counts(servers: list[FakeOpenAI]) -> list[int]:
    return [len(s.requests) for s in servers]


async def test_failover_order_follows_the_score(fakes: Any) -> None:
    a, b, _ = servers = await fakes(3)
    clock = FakeClock()
    router = make_router(servers, clock=clock)
    assert router.ranking() == ["a", "b", "c"], "equal scores keep the configured order"
    a.default = Fault("500")
    first = await router.generate(REQUEST)
    assert (first.provider, counts(servers)) == ("b", [1, 1, 0])
    assert router.ranking() == ["b", "c", "a"]
    second = await router.generate(REQUEST)
    assert (second.provider, counts(servers)) == ("b", [1, 2, 0])
    b.push(Fault("500"))
    third = await router.generate(REQUEST)
    assert third.provider == "c", "b failed: c, untried and better than a, comes next"
    assert counts(servers) == [1, 3, 1]
    assert router.ranking() == ["c", "b", "a"]
    await router.aclose()


async def test_exploration_sometimes_tries_another_provider_first(fakes: Any) -> None:
    servers = await fakes(2)
    router = make_router(
        servers, replace(SETTINGS, exploration=1.0), clock=FakeClock(), rng=random.Random(3)
    )
    generation = await router.generate(REQUEST)
    await router.aclose()
    assert generation.provider == "b"
    assert counts(servers) == [0, 1]


async def test_breaker_opens_stays_open_half_opens_and_closes(fakes: Any) -> None:
    (a,) = servers = await fakes(1)
    clock = FakeClock()
    router = make_router(servers, clock=clock)
    a.push(Fault("500"), Fault("500"))
    down = await router.generate(REQUEST)
    assert down.degraded and down.provider == "offline"
    assert counts(servers) == [2], "one retry after a short backoff, then the breaker opened"
    assert router.snapshot()[0].breaker == "open"

    clock.advance(10.0)
    still_down = await router.generate(REQUEST)
    assert still_down.degraded and counts(servers) == [2], "an open breaker is skipped"
    assert router.snapshot()[0].next_probe_in_s == pytest.approx(20.0)

    clock.advance(20.0)
    assert router.snapshot()[0].breaker == "half_open"
    a.push(Fault("500"))
    failed_probe = await router.generate(REQUEST)
    assert failed_probe.degraded and counts(servers) == [3], "a single probe, which failed"
    assert router.snapshot()[0].breaker == "open"

    clock.advance(30.0)
    recovered = await router.generate(REQUEST)
    assert (recovered.provider, recovered.degraded) == ("a", False)
    assert router.snapshot()[0].breaker == "closed"
    await router.aclose()


async def test_no_retry_on_400(fakes: Any) -> None:
    (a,) = servers = await fakes(1)
    router = make_router(servers, clock=FakeClock())
    a.push(Fault("400"))
    generation = await router.generate(REQUEST)
    await router.aclose()
    assert generation.degraded
    assert counts(servers) == [1]
    assert router.snapshot()[0].breaker == "closed"


async def test_5xx_and_malformed_answers_are_retried_or_skipped(fakes: Any) -> None:
    a, b = servers = await fakes(2)
    router = make_router(servers, clock=FakeClock())
    a.push(Fault("malformed"))
    b.push(Fault("500"))
    generation = await router.generate(REQUEST)
    await router.aclose()
    assert generation.provider == "b", "a's invalid answer is not retried; b's 500 is"
    assert counts(servers) == [1, 2]


async def test_retry_after_is_honoured_when_it_fits_the_deadline(fakes: Any) -> None:
    (a,) = servers = await fakes(1)
    clock = FakeClock()
    router = make_router(servers, clock=clock)
    a.push(Fault("429", retry_after="2"))
    generation = await router.generate(REQUEST)
    await router.aclose()
    assert generation.provider == "a"
    assert clock.slept == [2.0]


async def test_retry_after_beyond_the_deadline_moves_on(fakes: Any) -> None:
    a, _ = servers = await fakes(2)
    clock = FakeClock()
    router = make_router(servers, clock=clock)
    a.push(Fault("429", retry_after="120"))
    generation = await router.generate(REQUEST)
    assert generation.provider == "b"
    assert clock.slept == []
    assert router.snapshot()[0].rate_limited_for_s == pytest.approx(120.0)
    assert (await router.generate(REQUEST)).provider == "b"
    assert counts(servers) == [1, 2], "a is left alone while its Retry-After runs"
    await router.aclose()


async def test_401_opens_the_breaker_at_once(fakes: Any) -> None:
    a, _ = servers = await fakes(2)
    router = make_router(servers, replace(SETTINGS, breaker_failures=5), clock=FakeClock())
    a.push(Fault("401"))
    generation = await router.generate(REQUEST)
    assert generation.provider == "b"
    assert router.snapshot()[0].breaker == "open"
    await router.generate(REQUEST)
    await router.aclose()
    assert counts(servers) == [1, 2]


async def test_the_deadline_holds_and_the_hung_call_is_cancelled(fakes: Any) -> None:
    (a,) = servers = await fakes(1)
    a.default = Fault("hang")
    router = make_router(servers, replace(SETTINGS, deadline_s=0.3))
    started = time.monotonic()
    generation = await router.generate(REQUEST)
    elapsed = time.monotonic() - started
    await asyncio.wait_for(a.was_cancelled.wait(), 5.0)
    await router.aclose()
    assert generation.degraded
    assert elapsed < 0.3 + 1.0, "loose bound: the reply came at the deadline, not the timeout"
    assert generation.latency_ms >= 300.0


async def test_hedging_takes_the_faster_answer_and_cancels_the_slower(fakes: Any) -> None:
    a, _ = servers = await fakes(2)
    a.push(Fault("hang"))
    router = make_router(servers, replace(SETTINGS, hedge_after_s=0.05))
    generation = await router.generate(REQUEST)
    await asyncio.wait_for(a.was_cancelled.wait(), 5.0)
    await router.aclose()
    assert generation.provider == "b"
    assert counts(servers) == [1, 1]
    assert router.snapshot()[0].breaker == "closed", "a cancelled loser is no failure"


async def test_with_everything_down_the_offline_responder_answers(fakes: Any) -> None:
    servers = await fakes(2)
    router = make_router(servers, clock=FakeClock())
    for fake in servers:
        await fake.stop()
    generation = await router.generate(REQUEST)
    await router.aclose()
    assert generation.degraded and generation.provider == "offline"
    assert "reduced mode" in generation.text
    assert [s.breaker for s in router.snapshot()] == ["open", "open"]


async def test_snapshot_status_text_and_state_round_trip(fakes: Any) -> None:
    a, _ = servers = await fakes(2)
    clock = FakeClock()
    router = make_router(servers, clock=clock)
    a.push(Fault("401"))
    for _ in range(3):
        await router.generate(REQUEST)
    snapshot = router.snapshot()
    assert snapshot[1].requests_last_hour == 3
    assert snapshot[1].tokens_last_hour == 3 * 18
    assert snapshot[1].success_rate == 1.0
    text = format_status(snapshot)
    assert text.splitlines()[1].startswith("1. b:")
    assert "a: " in text and "OPEN, probes in 30s" in text

    saved = json.loads(json.dumps(router.export_state()))
    restored = make_router(servers, clock=FakeClock(50.0))
    restored.import_state(saved)
    again = restored.snapshot()
    assert again[0].breaker == "open"
    assert again[1].requests_last_hour == 3
    assert again[1].score == pytest.approx(snapshot[1].score)
    assert restored.ranking() == ["b", "a"]
    await router.aclose()
    await restored.aclose()


async def test_build_generator_from_config_and_env(fakes: Any) -> None:
    a, b = await fakes(2)
    settings = replace(
        SETTINGS,
        providers=(
            replace(section(a), api_key_env="A_KEY"),
            replace(section(b), api_key_env="B_KEY"),
        ),
    )
    router = build_generator(settings, {"A_KEY": "sk-a"})
    assert router.provider_names == ["a"], "b's key variable is unset: left out"
    assert (await router.generate(REQUEST)).provider == "a"
    await router.aclose()
    empty = build_generator(LLMSection(), {})
    generation = await empty.generate(REQUEST)
    assert generation.degraded and format_status(empty.snapshot()).startswith("No language")
    await empty.aclose()


class HangingProvider:
    """In-process: every call waits until the test lets it go (or it is cancelled)."""

    name = "hanging"
    weight = 1.0

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def complete(self, request: GenerationRequest, timeout_s: float) -> Any:
        self.entered.set()
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        return None


async def test_a_cancelled_half_open_probe_lets_the_next_request_probe() -> None:
    clock = FakeClock()
    provider = HangingProvider()
    router = ProviderRouter([provider], SETTINGS, clock=clock, sleep=clock.sleep)
    router.import_state(
        {
            "version": 1,
            "saved_at": time.time(),
            "providers": {"hanging": {"breaker": {"state": "open", "open_for_s": 30.0}}},
        }
    )
    assert router.snapshot()[0].breaker == "half_open"
    caller = asyncio.ensure_future(router.generate(REQUEST))
    await provider.entered.wait()
    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    assert caller.cancelled()
    provider.entered.clear()
    retry = asyncio.ensure_future(router.generate(REQUEST))
    await provider.entered.wait()  # the probe slot was freed: this request probes again
    retry.cancel()
    await asyncio.gather(retry, return_exceptions=True)
