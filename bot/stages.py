"""The seams of the pipeline (DESIGN.md steps 3-8), one protocol per stage.

`bot/app.py` plugs the real implementations in. The `Base*` / `No*` classes here are the
honest defaults for a stage whose module is not enabled: they infer nothing and say so in
what they return (`source="neutral"`, `strategy="base"`), so no output ever shows an invented
value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.events import IncomingMessage
from bot.llm.types import ChatMessage, GenerationRequest
from bot.storage.conversations import StoredUser
from personality.signals import MessageSignals


@dataclass(frozen=True, slots=True)
class Turn:
    """One message on its way through the pipeline."""

    message: IncomingMessage
    user: StoredUser
    text: str
    """The cleaned text (control characters removed, cut to the configured length)."""
    truncated: bool
    now: float


@dataclass(frozen=True, slots=True)
class PersonaDecision:
    persona: str
    strategy: str
    variant: str | None = None
    experiment_id: str | None = None
    arm: int | None = None
    propensity: float | None = None


@dataclass(frozen=True, slots=True)
class AdaptedPersona:
    traits: Mapping[str, float]
    explanation: Mapping[str, Any] = field(default_factory=dict)
    """What moved which trait and why, for /why."""


class AnalysisStage(Protocol):
    async def analyse(self, text: str) -> MessageSignals: ...


class ProfileStage(Protocol):
    async def observe(self, turn: Turn, signals: MessageSignals) -> Mapping[str, float]:
        """Update the user's profile with this message; returns the observed traits."""
        ...


class PersonaChoiceStage(Protocol):
    async def choose(
        self, turn: Turn, profile: Mapping[str, float], signals: MessageSignals
    ) -> PersonaDecision: ...


class AdaptationStage(Protocol):
    async def adapt(
        self,
        turn: Turn,
        decision: PersonaDecision,
        profile: Mapping[str, float],
        signals: MessageSignals,
    ) -> AdaptedPersona: ...


class RecallStage(Protocol):
    async def recall(self, turn: Turn, signals: MessageSignals) -> Sequence[str]: ...


class PromptStage(Protocol):
    async def build(
        self,
        turn: Turn,
        decision: PersonaDecision,
        adapted: AdaptedPersona,
        memories: Sequence[str],
        signals: MessageSignals,
    ) -> GenerationRequest: ...


class NeutralAnalysis:
    async def analyse(self, text: str) -> MessageSignals:
        return MessageSignals(length=len(text), source="neutral")


class NoProfile:
    async def observe(self, turn: Turn, signals: MessageSignals) -> Mapping[str, float]:
        return {}


class BasePersonaChoice:
    def __init__(self, persona: str) -> None:
        self._persona = persona

    async def choose(
        self, turn: Turn, profile: Mapping[str, float], signals: MessageSignals
    ) -> PersonaDecision:
        return PersonaDecision(persona=self._persona, strategy="base")


class BaseAdaptation:
    """The persona's configured traits, unchanged."""

    def __init__(self, personas: Mapping[str, Mapping[str, float]]) -> None:
        self._personas = personas

    async def adapt(
        self,
        turn: Turn,
        decision: PersonaDecision,
        profile: Mapping[str, float],
        signals: MessageSignals,
    ) -> AdaptedPersona:
        return AdaptedPersona(
            traits=dict(self._personas[decision.persona]),
            explanation={"strategy": "base", "changes": []},
        )


class NoRecall:
    async def recall(self, turn: Turn, signals: MessageSignals) -> Sequence[str]:
        return ()


class BasicPrompt:
    """A system prompt from the persona's description; the user's text only as a user turn."""

    def __init__(
        self,
        bot_name: str,
        descriptions: Mapping[str, str],
        history: HistorySource,
        *,
        crisis_text: str,
        max_tokens: int,
        history_turns: int = 8,
    ) -> None:
        self._bot_name = bot_name
        self._descriptions = descriptions
        self._history = history
        self._crisis_text = crisis_text
        self._max_tokens = max_tokens
        self._history_turns = history_turns

    async def build(
        self,
        turn: Turn,
        decision: PersonaDecision,
        adapted: AdaptedPersona,
        memories: Sequence[str],
        signals: MessageSignals,
    ) -> GenerationRequest:
        system = (
            f"You are {self._bot_name}, a {self._descriptions[decision.persona]}. "
            "Answer the user helpfully and kindly in a few sentences."
        )
        past = await self._history.recent_turns(turn.user.id, self._history_turns)
        messages = [ChatMessage("system", system)]
        messages += [
            ChatMessage("user" if role == "user" else "assistant", text) for role, text in past
        ]
        messages.append(ChatMessage("user", turn.text))
        return GenerationRequest(
            messages=tuple(messages),
            persona_name=decision.persona,
            persona_traits=adapted.traits,
            user_display_name=turn.message.display_name,
            user_text=turn.text,
            emotion=signals.emotion,
            crisis=signals.crisis,
            crisis_text=self._crisis_text,
            max_tokens=self._max_tokens,
        )


class HistorySource(Protocol):
    async def recent_turns(self, user_id: int, limit: int) -> list[tuple[str, str]]: ...


@dataclass(frozen=True, slots=True)
class Stages:
    analysis: AnalysisStage
    profile: ProfileStage
    persona_choice: PersonaChoiceStage
    adaptation: AdaptationStage
    recall: RecallStage
    prompt: PromptStage
