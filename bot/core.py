"""The message pipeline: guard → analyse → profile → choose persona → adapt → recall →
prompt → generate → record (DESIGN.md, "One message, end to end").

`Pipeline.process` is the single error boundary for an incoming message: whatever fails
below it is logged with context and the user gets a polite answer; the process stays up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bot.clock import Clock
from bot.commands import CommandService
from bot.config import LimitsSection
from bot.events import FeedbackEvent, FeedbackOutcome, IncomingMessage, Platform, Reply
from bot.llm.types import Generation, GenerationRequest, Generator
from bot.logs import user_tag
from bot.ratelimit import RateLimiter
from bot.slots import QueueFullError, UserSlots
from bot.stages import AdaptedPersona, PersonaDecision, Stages, Turn
from bot.storage.conversations import ConversationStore, TurnRecord
from bot.text import clean_text
from personality.signals import MessageSignals

log = logging.getLogger(__name__)
T = TypeVar("T")

EMPTY_TEXT_REPLY = "I didn't catch any text there. What would you like to talk about?"
SLOW_DOWN_REPLY = "You're writing faster than I can read. Give me a moment, then try again."
ERROR_REPLY = (
    "Sorry, something went wrong on my side and I couldn't answer that. Please try again."
)


class StageTimeoutError(Exception):
    def __init__(self, stage: str) -> None:
        super().__init__(f"stage {stage!r} timed out")
        self.stage = stage


@dataclass(slots=True)
class TurnResult:
    """Everything the scripted chat prints for one message."""

    reply: Reply
    signals: MessageSignals = field(default_factory=MessageSignals)
    persona: Mapping[str, float] = field(default_factory=dict)
    strategy: str | None = None
    variant: str | None = None
    provider: str | None = None
    memories: Sequence[str] = ()
    latency_ms: dict[str, float] = field(default_factory=dict)
    kind: str = "reply"
    """"reply", "command", "empty", "rate_limited", "busy" or "error"."""
    follow_up: tuple[Turn, MessageSignals, int] | None = None
    """What the turn listeners get once the reply is out (not part of the printed turn)."""


FeedbackListener = Callable[[FeedbackEvent, int], Awaitable[None]]
TurnListener = Callable[[Turn, MessageSignals, int], Awaitable[None]]


class Pipeline:
    def __init__(
        self,
        *,
        stages: Stages,
        generator: Generator,
        store: ConversationStore,
        commands: CommandService,
        limits: LimitsSection,
        clock: Clock,
        generation_timeout_s: float,
    ) -> None:
        self._stages = stages
        self._generator = generator
        self._store = store
        self._commands = commands
        self._limits = limits
        self._clock = clock
        self._generation_timeout_s = generation_timeout_s
        self._rate = RateLimiter(
            clock, capacity=limits.rate_capacity, refill_per_s=limits.rate_refill_per_s
        )
        self._slots = UserSlots(limits.queue_per_user)
        self._feedback_listeners: list[FeedbackListener] = []
        self._turn_listeners: list[TurnListener] = []
        self._follow_ups: set[asyncio.Task[None]] = set()

    def on_feedback(self, listener: FeedbackListener) -> None:
        """Call `listener(event, user_row_id)` after a press is durably stored."""
        self._feedback_listeners.append(listener)

    def on_turn(self, listener: TurnListener) -> None:
        """Call `listener(turn, signals, interaction_id)` after a reply is recorded, once the
        reply has been returned; the user's next message waits until listeners finish."""
        self._turn_listeners.append(listener)

    async def handle_message(self, message: IncomingMessage) -> Reply:
        return (await self.process(message)).reply

    async def process(self, message: IncomingMessage) -> TurnResult:
        started = time.perf_counter()
        tag = user_tag(message.user_key)
        # The console user is the operator at the terminal: a script may send as fast as it likes.
        if message.platform is not Platform.CONSOLE and not self._rate.allow(message.user_key):
            log.info("rate limited user=%s", tag)
            return TurnResult(Reply(SLOW_DOWN_REPLY), kind="rate_limited")
        key = message.user_key
        try:
            await self._slots.acquire(key)
        except QueueFullError:
            log.warning("too many queued messages user=%s", tag)
            return TurnResult(Reply(SLOW_DOWN_REPLY), kind="busy")
        handed_over = False
        try:
            result = await self._process_in_order(message)
            if result.follow_up is not None and self._turn_listeners:
                # The reply goes out now; the user's slot stays held until the follow-up
                # work is done, so their next message still sees its effects.
                self._start_follow_up(key, *result.follow_up)
                handed_over = True
        except Exception:
            log.exception(
                "failed to answer platform=%s chat=%s user=%s",
                message.platform.value,
                message.chat_id,
                tag,
            )
            return TurnResult(Reply(ERROR_REPLY), kind="error")
        finally:
            if not handed_over:
                self._slots.release(key)
        result.latency_ms["total"] = (time.perf_counter() - started) * 1000
        return result

    def _start_follow_up(
        self, key: str, turn: Turn, signals: MessageSignals, interaction_id: int
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._follow_up(key, turn, signals, interaction_id), name="turn-follow-up"
        )
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _follow_up(
        self, key: str, turn: Turn, signals: MessageSignals, interaction_id: int
    ) -> None:
        try:
            for listener in self._turn_listeners:
                # The reply is already recorded and sent: a failing side effect is logged.
                try:
                    async with asyncio.timeout(self._limits.stage_timeout_s):
                        await listener(turn, signals, interaction_id)
                except Exception:
                    log.exception("turn listener failed user=%s", user_tag(turn.message.user_key))
        finally:
            self._slots.release(key)

    async def drain(self) -> None:
        """Wait for the work that follows replies already sent (call before closing)."""
        while self._follow_ups:
            await asyncio.gather(*self._follow_ups, return_exceptions=True)

    async def _process_in_order(self, message: IncomingMessage) -> TurnResult:
        timings: dict[str, float] = {}
        text, truncated = clean_text(message.text, self._limits.max_message_chars)
        if not text:
            return TurnResult(Reply(EMPTY_TEXT_REPLY), kind="empty", latency_ms=timings)
        now = self._clock.now()
        user = await self._timed(
            "user",
            timings,
            self._store.ensure_user(
                message.platform.value, message.user_id, message.display_name, now
            ),
        )
        turn = Turn(message=message, user=user, text=text, truncated=truncated, now=now)
        if text.startswith("/"):
            reply = await self._timed("command", timings, self._commands.execute(turn))
            return TurnResult(reply, kind="command", latency_ms=timings)
        return await self._answer(turn, timings)

    async def _answer(self, turn: Turn, timings: dict[str, float]) -> TurnResult:
        stages = self._stages
        signals = await self._timed("analysis", timings, stages.analysis.analyse(turn.text))
        profile = await self._timed("profile", timings, stages.profile.observe(turn, signals))
        decision: PersonaDecision = await self._timed(
            "persona", timings, stages.persona_choice.choose(turn, profile, signals)
        )
        adapted: AdaptedPersona = await self._timed(
            "adaptation", timings, stages.adaptation.adapt(turn, decision, profile, signals)
        )
        memories = await self._timed("recall", timings, stages.recall.recall(turn, signals))
        request = await self._timed(
            "prompt", timings, stages.prompt.build(turn, decision, adapted, memories, signals)
        )
        generation: Generation = await self._timed(
            "generation",
            timings,
            self._generator.generate(request),
            limit_s=self._generation_timeout_s,
        )
        generation = with_crisis_text(generation, request)
        interaction_id = await self._timed(
            "record",
            timings,
            self._store.record_turn(
                _turn_record(turn, signals, decision, adapted, generation, memories, timings)
            ),
        )
        return TurnResult(
            reply=Reply(generation.text, interaction_id=interaction_id),
            signals=signals,
            persona=adapted.traits,
            strategy=decision.strategy,
            variant=decision.variant,
            provider=generation.provider,
            memories=tuple(memories),
            latency_ms=timings,
            follow_up=(turn, signals, interaction_id),
        )

    async def _timed(
        self,
        stage: str,
        timings: dict[str, float],
        work: Awaitable[T],
        *,
        limit_s: float | None = None,
    ) -> T:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit_s or self._limits.stage_timeout_s):
                return await work
        except TimeoutError:
            raise StageTimeoutError(stage) from None
        finally:
            timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - started) * 1000

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome:
        tag = user_tag(event.user_key)
        try:
            interaction = await self._store.interaction(event.interaction_id)
            if interaction is None:
                return FeedbackOutcome(False, "I no longer have that reply, so I can't rate it.")
            if (interaction.platform, interaction.platform_user_id) != (
                event.platform.value,
                event.user_id,
            ):
                log.warning("refused feedback on another user's reply user=%s", tag)
                return FeedbackOutcome(False, "You can only rate replies that were meant for you.")
            await self._store.record_feedback(
                event.interaction_id,
                interaction.user_id,
                event.value.value,
                event.value.reward,
                self._clock.now(),
            )
        except Exception:
            log.exception("failed to store feedback user=%s", tag)
            return FeedbackOutcome(False, "Sorry, I couldn't save that. Please try again.")
        for listener in self._feedback_listeners:
            try:
                await listener(event, interaction.user_id)
            except Exception:
                log.exception("feedback listener failed user=%s", tag)
        changed = interaction.feedback is not None and interaction.feedback != event.value.value
        return FeedbackOutcome(True, "Thanks for the feedback!", event.value, changed)


def with_crisis_text(generation: Generation, request: GenerationRequest) -> Generation:
    """A message in crisis always gets the help-line text, whatever a model wrote: the
    prompt asks for it, this makes sure of it."""
    if not request.crisis or not request.crisis_text or request.crisis_text in generation.text:
        return generation
    return replace(generation, text=f"{generation.text.rstrip()}\n\n{request.crisis_text}")


def _turn_record(
    turn: Turn,
    signals: MessageSignals,
    decision: PersonaDecision,
    adapted: AdaptedPersona,
    generation: Generation,
    memories: Sequence[str],
    timings: Mapping[str, float],
) -> TurnRecord:
    explanation: dict[str, Any] = {
        **adapted.explanation,
        "strategy": decision.strategy,
        "persona": decision.persona,
        "provider": generation.provider,
        "memories": list(memories),
        "signals": {
            "emotion": signals.emotion,
            "sentiment": signals.sentiment,
            "crisis": signals.crisis,
            "source": signals.source,
        },
        "bandit": (
            {
                "arm": decision.arm,
                "propensity": decision.propensity,
                "context": list(decision.context),
            }
            if decision.arm is not None
            else None
        ),
    }
    return TurnRecord(
        user_id=turn.user.id,
        chat_id=turn.message.chat_id,
        platform_message_id=turn.message.message_id,
        user_text=turn.text,
        reply_text=generation.text,
        persona=decision.persona,
        strategy=decision.strategy,
        provider=generation.provider,
        latency_ms=sum(timings.values()),
        traits=adapted.traits,
        signals=signals.to_json(),
        explanation=explanation,
        created_at=turn.now,
        variant=decision.variant,
        experiment_id=decision.experiment_id,
        arm=decision.arm,
        propensity=decision.propensity,
        prompt_tokens=generation.usage.prompt_tokens,
        completion_tokens=generation.usage.completion_tokens,
        extra=tuple(turn.writes),
    )
