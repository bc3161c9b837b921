"""One OpenAI-compatible endpoint through the official `openai` async client.

The client uses its aiohttp transport (`openai.DefaultAioHttpClient`; the default httpx
transport's p99 grew past 200 ms at 16 concurrent requests) and `max_retries=0`: the router
decides about retries. Every outcome is turned into a `ProviderReply` or a `ProviderFailure`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from bot.config import ProviderSection
from bot.llm.outcomes import ProviderFailure, ProviderReply
from bot.llm.types import GenerationRequest, Usage

log = logging.getLogger(__name__)

FATAL_STATUSES = frozenset({400, 401, 403, 404, 413})
NO_KEY = "no-key"
"""Sent as the API key to endpoints configured without one (a local llama.cpp/vLLM/Ollama)."""


class OpenAIProvider:
    """Implements `ChatProvider` for one `[[llm.providers]]` entry."""

    def __init__(
        self,
        config: ProviderSection,
        api_key: str | None,
        *,
        http_client: Any | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._wall_clock = wall_clock
        client = http_client or openai.DefaultAioHttpClient(timeout=config.timeout_s)
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout_s,
            http_client=client,
        )
        limit = config.max_concurrency
        self._slots = asyncio.Semaphore(limit) if limit > 0 else None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def weight(self) -> float:
        return self._config.weight

    async def complete(self, request: GenerationRequest, timeout_s: float) -> ProviderReply:
        async with self._slot():
            completion = await self._create(request, min(timeout_s, self._config.timeout_s))
        return _reply_from(completion)

    async def aclose(self) -> None:
        await self._client.close()

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            yield
            return
        async with self._slots:
            yield

    async def _create(self, request: GenerationRequest, timeout_s: float) -> ChatCompletion:
        messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            return await self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,
                max_tokens=request.max_tokens,
                timeout=timeout_s,
                extra_body=dict(self._config.extra_body) or None,
            )
        except openai.APITimeoutError as exc:
            raise ProviderFailure("retryable", _connect_or_timeout(exc)) from None
        except openai.APIConnectionError:
            raise ProviderFailure("retryable", "connection error") from None
        except openai.APIStatusError as exc:
            raise self._status_failure(exc) from None
        except (openai.APIResponseValidationError, ValueError, TypeError) as exc:
            # malformed JSON surfaces as json.JSONDecodeError, a ValueError
            raise ProviderFailure(
                "invalid", f"not a chat completion ({type(exc).__name__})"
            ) from None

    def _status_failure(self, exc: openai.APIStatusError) -> ProviderFailure:
        status = exc.status_code
        if status == 401:
            log.error(
                "provider %s rejected its API key (401): check the key in $%s",
                self.name,
                self._config.api_key_env or "(no api_key_env configured)",
            )
        if status in FATAL_STATUSES:
            return ProviderFailure("fatal", f"HTTP {status}", status=status)
        if status == 429:
            retry_after = parse_retry_after(exc.response.headers, self._wall_clock())
            return ProviderFailure(
                "retryable", "HTTP 429", status=status, retry_after_s=retry_after
            )
        if status >= 500 or status in (408, 409):
            return ProviderFailure("retryable", f"HTTP {status}", status=status)
        return ProviderFailure("fatal", f"HTTP {status}", status=status)


def _connect_or_timeout(exc: openai.APITimeoutError) -> str:
    # The aiohttp transport reports a refused connection as a connect timeout.
    cause = exc.__cause__
    return (
        "connection error" if cause is not None and "connect" in repr(cause).lower() else "timeout"
    )


def _reply_from(completion: Any) -> ProviderReply:
    if not isinstance(completion, ChatCompletion):
        raise ProviderFailure("invalid", "not a chat completion")
    choices = completion.choices
    if not isinstance(choices, list) or not choices:
        raise ProviderFailure("invalid", "no choices")
    choice = choices[0]
    if choice.finish_reason == "length":
        raise ProviderFailure("invalid", "truncated (finish_reason=length)")
    content = getattr(choice.message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise ProviderFailure("invalid", "empty content")
    usage = completion.usage
    return ProviderReply(
        text=content.strip(),
        usage=Usage(
            prompt_tokens=_int(getattr(usage, "prompt_tokens", 0)),
            completion_tokens=_int(getattr(usage, "completion_tokens", 0)),
        ),
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def parse_retry_after(headers: Any, now_wall: float) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        with contextlib.suppress(ValueError):
            return max(0.0, float(millis) / 1000.0)
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_wall)
    except (TypeError, ValueError):
        return None
