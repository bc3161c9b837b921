"""The seams of the pipeline (DESIGN.md steps 3-8), one protocol per stage.

`bot/app.py` plugs the implementations in (`bot/personalization.py` and friends). A stage
that needs to store something adds statements to `Turn.writes`; the core commits them in the
same transaction as the turn itself, so a message costs one group commit however many
stages write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.events import IncomingMessage
from bot.llm.types import GenerationRequest
from bot.storage.conversations import StoredUser
from bot.storage.writer import Statement
from personality.adaptation import PersonaState
from personality.experiments import Variant
from personality.profile import UserProfile
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
    writes: list[Statement] = field(default_factory=list)
    """Statements the stages want committed together with the turn."""


@dataclass(frozen=True, slots=True)
class PersonaDecision:
    persona: str
    strategy: str
    state: PersonaState = field(default_factory=PersonaState)
    """The user's adaptation state (overrides, lock, last traits) as loaded for this turn."""
    variant: str | None = None
    experiment_id: str | None = None
    variant_spec: Variant | None = None
    """The experiment variant's trait changes, applied on top of the adapted persona."""
    arm: int | None = None
    propensity: float | None = None
    context: Sequence[float] = ()
    """The bandit's context vector when a bandit chose, kept so feedback updates it exactly."""


@dataclass(frozen=True, slots=True)
class AdaptedPersona:
    traits: Mapping[str, float]
    explanation: Mapping[str, Any] = field(default_factory=dict)
    """What moved which trait and why, for /why."""


class AnalysisStage(Protocol):
    async def analyse(self, text: str) -> MessageSignals: ...


class ProfileStage(Protocol):
    async def observe(self, turn: Turn, signals: MessageSignals) -> UserProfile:
        """Update the user's profile with this message (writes go to `turn.writes`)."""
        ...


class PersonaChoiceStage(Protocol):
    async def choose(
        self, turn: Turn, profile: UserProfile, signals: MessageSignals
    ) -> PersonaDecision: ...


class AdaptationStage(Protocol):
    async def adapt(
        self,
        turn: Turn,
        decision: PersonaDecision,
        profile: UserProfile,
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


@dataclass(frozen=True, slots=True)
class Stages:
    analysis: AnalysisStage
    profile: ProfileStage
    persona_choice: PersonaChoiceStage
    adaptation: AdaptationStage
    recall: RecallStage
    prompt: PromptStage
