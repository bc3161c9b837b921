"""What one provider call can end in, and the small protocol the router drives.

    ProviderFailure (an Exception; `kind` says what the router may do about it)
     ├─ "retryable": connect error, timeout, 429 (maybe with `retry_after_s`), 5xx
     ├─ "fatal":     400, 401, 403, 404, 413 (never retried; 401 sets `auth_failed`)
     └─ "invalid":   empty or truncated content, not a valid chat completion

A successful call returns a `ProviderReply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.llm.types import GenerationRequest, Usage

FailureKind = Literal["retryable", "fatal", "invalid"]


class ProviderFailure(Exception):
    """A provider call that gave no usable answer; the message never holds user text or keys."""

    def __init__(
        self,
        kind: FailureKind,
        reason: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind: FailureKind = kind
        self.reason = reason
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def auth_failed(self) -> bool:
        return self.status == 401


@dataclass(frozen=True, slots=True)
class ProviderReply:
    text: str
    usage: Usage


class ChatProvider(Protocol):
    """One OpenAI-compatible endpoint as the router sees it."""

    @property
    def name(self) -> str: ...

    @property
    def weight(self) -> float: ...

    async def complete(self, request: GenerationRequest, timeout_s: float) -> ProviderReply:
        """The reply text, or raises `ProviderFailure` (never anything else but cancellation)."""
        ...

    async def aclose(self) -> None: ...
