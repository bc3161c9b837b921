"""OpenAIProvider against the fake server over real loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import ProviderSection
from bot.llm.outcomes import ProviderFailure
from bot.llm.provider import OpenAIProvider, parse_retry_after
from bot.llm.types import ChatMessage, GenerationRequest
from tests.fakes_openai import FakeOpenAI, Fault

REQUEST = GenerationRequest(
    messages=(ChatMessage("system", "be brief"), ChatMessage("user", "hi")),
    persona_name="companion",
    persona_traits={},
    max_tokens=50,
)
SECRET = "sk-test-do-not-log-1234"


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(name="alpha").start()
    yield fake
    await fake.stop()


def provider_for(fake: FakeOpenAI, **extra: Any) -> OpenAIProvider:
    section = ProviderSection(
        name=fake.name, base_url=fake.base_url, model="m-1", api_key_env="ALPHA_KEY", **extra
    )
    return OpenAIProvider(section, SECRET)


async def failure_of(provider: OpenAIProvider) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as info:
        await provider.complete(REQUEST, 2.0)
    return info.value


async def test_ok_sends_model_messages_extra_body_and_key(server: FakeOpenAI) -> None:
    provider = provider_for(server, extra_body={"top_k": 3})
    reply = await provider.complete(REQUEST, 2.0)
    await provider.aclose()
    assert reply.text == "reply from alpha"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (11, 7)
    body = server.requests[0]
    assert body["model"] == "m-1"
    assert body["messages"][1] == {"role": "user", "content": "hi"}
    assert body["top_k"] == 3
    assert body["max_tokens"] == 50
    assert server.headers[0]["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("fault", "kind", "status"),
    [
        (Fault("500"), "retryable", 500),
        (Fault("429", retry_after="7"), "retryable", 429),
        (Fault("400"), "fatal", 400),
        (Fault("malformed"), "invalid", None),
        (Fault("empty"), "invalid", None),
        (Fault("length"), "invalid", None),
    ],
)
async def test_outcomes_are_classified(
    server: FakeOpenAI, fault: Fault, kind: str, status: int | None
) -> None:
    provider = provider_for(server)
    server.push(fault)
    failure = await failure_of(provider)
    await provider.aclose()
    assert (failure.kind, failure.status) == (kind, status)
    if fault.kind == "429":
        assert failure.retry_after_s == 7.0
    assert len(server.requests) == 1, "max_retries=0: the client itself never retries"


async def test_401_is_fatal_and_logs_the_variable_not_the_key(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    provider = provider_for(server)
    server.push(Fault("401"))
    with caplog.at_level(logging.ERROR):
        failure = await failure_of(provider)
    await provider.aclose()
    assert failure.kind == "fatal" and failure.auth_failed
    assert "ALPHA_KEY" in caplog.text
    assert SECRET not in caplog.text


async def test_refused_connection_and_timeout_are_retryable(server: FakeOpenAI) -> None:
    provider = provider_for(server, timeout_s=0.2)
    server.push(Fault("hang"))
    assert (await failure_of(provider)).reason == "timeout"
    await server.stop()
    failure = await failure_of(provider)
    await provider.aclose()
    assert (failure.kind, failure.reason) == ("retryable", "connection error")


async def test_max_concurrency_queues_calls(server: FakeOpenAI) -> None:
    provider = provider_for(server, max_concurrency=1)
    unlimited = provider_for(server)
    server.push(Fault("hang"))
    first = asyncio.ensure_future(provider.complete(REQUEST, 5.0))
    await server.started.wait()
    second = asyncio.ensure_future(provider.complete(REQUEST, 5.0))
    await unlimited.complete(REQUEST, 5.0)  # a full round trip while `second` waits its turn
    assert len(server.requests) == 2, "the hanging call and the unlimited one, not `second`"
    assert not second.done()
    first.cancel()
    reply = await second
    await asyncio.gather(first, return_exceptions=True)
    await provider.aclose()
    await unlimited.aclose()
    assert reply.text == "reply from alpha"
    assert len(server.requests) == 3


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after": "2.5"}, now) == 2.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}, now) == 0.25
    assert parse_retry_after({"retry-after": "Tue, 14 Nov 2023 22:13:30 GMT"}, now) == 10.0
    assert parse_retry_after({"retry-after": "soon"}, now) is None
    assert parse_retry_after({}, now) is None
