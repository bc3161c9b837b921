"""The generation contract between the core and whatever produces reply text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """A prompt ready to send, plus what the offline responder needs to answer without a model.

    `messages` holds the system prompt first; user text only ever appears in "user" messages.
    """

    messages: tuple[ChatMessage, ...]
    persona_name: str
    persona_traits: Mapping[str, float]
    user_display_name: str = ""
    user_text: str = ""
    emotion: str = "neutral"
    crisis: bool = False
    crisis_text: str = ""
    max_tokens: int = 400
    memories: tuple[str, ...] = ()
    """What was recalled for this message (also in the prompt), most relevant first."""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    provider: str
    """Name of the provider that answered; "offline" for the offline responder."""
    latency_ms: float = 0.0
    usage: Usage = field(default_factory=Usage)
    degraded: bool = False
    """True when no provider answered and the offline responder did."""


class Generator(Protocol):
    """Anything that turns a request into reply text: the router, one provider, the offline
    responder. It must always return; provider faults are its own business."""

    async def generate(self, request: GenerationRequest) -> Generation: ...

    async def aclose(self) -> None: ...
