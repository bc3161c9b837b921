"""The personal stages of the pipeline: profile, persona choice, adaptation and prompt.

Each class is the thin I/O shell around a pure function of `personality/`: it loads what the
function needs, calls it, and queues the resulting writes on the turn so they commit with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot.config import AdaptationSection
from bot.llm.types import ChatMessage, GenerationRequest
from bot.stages import AdaptedPersona, PersonaDecision, Turn
from bot.storage.conversations import ConversationStore
from bot.storage.profiles import ProfileStore
from personality.adaptation import AdaptationLimits, adapt, resolve_strategy
from personality.experiments import Variant, apply_variant
from personality.personas import Persona
from personality.profile import UserProfile, update_profile
from personality.prompting import PromptContext, build_prompt
from personality.signals import MessageSignals


@dataclass(frozen=True, slots=True)
class StrategyChoice:
    strategy: str
    arm: int
    propensity: float
    context: Sequence[float]


class StrategyChooser(Protocol):
    """Chooses an adaptation strategy when the config says "auto" (the bandit)."""

    def choose(self, profile: UserProfile, signals: MessageSignals) -> StrategyChoice: ...


@dataclass(frozen=True, slots=True)
class Assignment:
    experiment_id: str
    variant: Variant


class ExperimentAssigner(Protocol):
    """The running experiment's variant for a user, if they take part in one."""

    async def assign(self, user_key: str) -> Assignment | None: ...


class ProfileTracker:
    def __init__(self, store: ProfileStore, alpha: float) -> None:
        self._store = store
        self._alpha = alpha

    async def observe(self, turn: Turn, signals: MessageSignals) -> UserProfile:
        previous = await self._store.load_profile(turn.user.id)
        profile, insights = update_profile(previous, signals, self._alpha)
        turn.writes.extend(
            self._store.profile_statements(turn.user.id, previous, profile, insights, turn.now)
        )
        return profile


class PersonaSelector:
    """Which persona and strategy answer this user: their own choice first, then a running
    experiment, then the configured strategy, and for "auto" the bandit."""

    def __init__(
        self,
        store: ProfileStore,
        personas: Mapping[str, Persona],
        default_persona: str,
        strategy: str,
        chooser: StrategyChooser | None = None,
        experiments: ExperimentAssigner | None = None,
    ) -> None:
        self._store = store
        self._personas = personas
        self._default = default_persona
        self._strategy = strategy
        self._chooser = chooser
        self._experiments = experiments

    async def choose(
        self, turn: Turn, profile: UserProfile, signals: MessageSignals
    ) -> PersonaDecision:
        state = await self._store.load_persona_state(turn.user.id)
        persona = state.persona_override or self._default
        if persona not in self._personas:  # a persona removed from the config since
            persona = self._default
        decision = PersonaDecision(persona, resolve_strategy(state, self._strategy), state)
        if self._experiments is not None:
            assignment = await self._experiments.assign(turn.message.user_key)
            if assignment is not None:
                decision = replace(
                    decision,
                    experiment_id=assignment.experiment_id,
                    variant=assignment.variant.name,
                    variant_spec=assignment.variant,
                )
        # The bandit chooses only what nobody chose: no user override and "auto" in config.
        if state.strategy_override == "auto" and self._strategy == "auto" and self._chooser:
            choice = self._chooser.choose(profile, signals)
            decision = replace(
                decision,
                strategy=choice.strategy,
                arm=choice.arm,
                propensity=choice.propensity,
                context=tuple(choice.context),
            )
        return decision


class PersonaAdapter:
    def __init__(
        self, store: ProfileStore, personas: Mapping[str, Persona], settings: AdaptationSection
    ) -> None:
        self._store = store
        self._personas = personas
        self._limits = AdaptationLimits(
            settings.max_step_per_message, settings.max_step_per_day, settings.balance_weight
        )

    async def adapt(
        self,
        turn: Turn,
        decision: PersonaDecision,
        profile: UserProfile,
        signals: MessageSignals,
    ) -> AdaptedPersona:
        adaptation = adapt(
            self._personas[decision.persona],
            profile,
            signals,
            decision.state,
            resolve_strategy(decision.state, decision.strategy),
            self._limits,
            turn.now,
        )
        turn.writes.append(
            self._store.persona_state_statement(turn.user.id, adaptation.state, turn.now)
        )
        traits = dict(adaptation.traits)
        explanation = adaptation.explanation.to_json()
        if decision.variant_spec is not None:
            # The variant applies on top of what the user's state carries forward, so ending
            # the experiment returns the user to their own adaptation without a jump.
            traits = apply_variant(traits, decision.variant_spec)
            explanation["experiment"] = {
                "id": decision.experiment_id,
                "variant": decision.variant,
            }
        return AdaptedPersona(traits, explanation)


class PromptBuilder:
    def __init__(
        self,
        history: ConversationStore,
        personas: Mapping[str, Persona],
        *,
        bot_name: str,
        crisis_text: str,
        context_tokens: int,
        max_tokens: int,
        history_turns: int = 12,
    ) -> None:
        self._history = history
        self._personas = personas
        self._bot_name = bot_name
        self._crisis_text = crisis_text
        self._budget = max(256, context_tokens - max_tokens)
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
        past = await self._history.recent_turns(turn.user.id, self._history_turns)
        context = PromptContext(
            persona=self._personas[decision.persona],
            traits=adapted.traits,
            user_text=turn.text,
            display_name=turn.message.display_name,
            bot_name=self._bot_name,
            memories=memories,
            history=past,
            crisis_mode=signals.crisis,
        )
        messages = build_prompt(context, self._budget)
        return GenerationRequest(
            messages=tuple(ChatMessage(m.role, m.content) for m in messages),
            persona_name=decision.persona,
            persona_traits=adapted.traits,
            user_display_name=turn.message.display_name,
            user_text=turn.text,
            emotion=signals.emotion,
            crisis=signals.crisis,
            crisis_text=self._crisis_text,
            max_tokens=self._max_tokens,
            memories=tuple(memories),
        )
