"""The strategy bandit: learns which adaptation strategy suits which user and message from
what happened after each reply, and chooses it when nobody else did (`[adaptation] strategy
= "auto"`).

Arms are the strategies in `personality.adaptation.STRATEGIES` order (mirror, complement,
balance); the context is `personality.bandits.context_vector` of the user's profile means
and the message signals.

Rewards (`personality.rewards`, weights documented there). A reply the bandit chose is *open*
from the moment it is recorded (`on_turn` adds it to `bandit_open`) until it is *settled*;
it is settled, and its reward applied, at the first of:

- the user's next message (`on_turn`): reply delay = the new message's time minus the reply's,
  the sentiment of the message the reply answered (interactions.signals) and of the new one,
  turns_after = 1. A message that comes after `[learning] reply_window_s` counts as no reply
  (reply 0, no sentiment shift, turns_after = 0): the reward only depends on what happened
  within the window, whether or not `settle_due` ran on time.
- the window closing with no message (`settle_due(now)`, called periodically): reply 0,
  turns_after = 0, so an unanswered reply earns 0 (0.8 × the press if one is stored).
- a press (`on_feedback`): settles at once with `combine_reward(press, implicit so far)`.
  Within the window nothing implicit is known yet, so the reward is the press (👍 = 1,
  👎 = 0); after the window closed it is 0.8 × press + 0.2 × 0. Settling at once keeps the
  press, the strongest signal, from being lost to a process restart or a missed window.
  A press on a reply already settled (by an earlier press, the next message or the window)
  is stored as feedback by the core but does not reach the bandit again.

A press stored but not taken by the bandit (its listener failed) is still combined with the
implicit signals when the reply settles later. Replies recorded before the `bandit_open`
table existed, or whose `on_turn` write failed, are settled only by a press.

Exactly once: a reward is claimed in `bandit_rewards` (primary key = interaction id), in the
same transaction that closes the open reply, before it touches the bandit; whichever of the
three paths commits first wins, the others find the claim taken. The state is checkpointed
every `save_every` updates and on `save()`, together with the mark of the rewards it
includes; `load()` replays the claimed rewards a crash kept out of the last checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bot.config import LearningSection
from bot.events import FeedbackEvent, FeedbackValue
from bot.logs import user_tag
from bot.personalization import StrategyChoice
from bot.stages import Turn
from bot.storage.conversations import ConversationStore
from bot.storage.learning import AppliedReward, BanditStore, OpenInteraction, Settlement
from personality.adaptation import STRATEGIES
from personality.bandits import (
    CONTEXT_DIM,
    Bandit,
    EpsilonGreedy,
    LinUCB,
    ThompsonSampling,
    bandit_from_json,
    context_vector,
)
from personality.profile import UserProfile
from personality.rewards import ImplicitFeedback, reward
from personality.signals import MessageSignals

log = logging.getLogger(__name__)

DEFAULT_KEY = "bandit:strategy"
NO_REPLY = ImplicitFeedback(window_closed=True, turns_after=0)
"""What a reply's window closing without an answer tells: reply 0, no conversation."""
_SETTLE_BATCH = 256
_STATE_KINDS = {"epsilon": "epsilon_greedy", "thompson": "thompson", "linucb": "linucb"}


def signal_features(signals: MessageSignals) -> dict[str, float]:
    """The message signals `context_vector` reads, flattened to numbers."""
    return {
        "sentiment": signals.sentiment,
        "urgency": signals.urgency,
        "question_rate": signals.question_rate,
        "emoji_rate": signals.emoji_rate,
        "length": float(signals.length),
    }


def new_bandit(settings: LearningSection, n_arms: int, rng: np.random.Generator) -> Bandit:
    """An untrained bandit of the kind `[learning] bandit` names."""
    if settings.bandit == "epsilon":
        return EpsilonGreedy(n_arms, settings.epsilon, rng)
    if settings.bandit == "thompson":
        return ThompsonSampling(n_arms, rng)
    if settings.bandit == "linucb":
        return LinUCB(n_arms, CONTEXT_DIM, settings.alpha, rng=rng)
    raise ValueError(f"unknown bandit kind {settings.bandit!r}")


def after_next_message(
    opened: OpenInteraction, at: float, sentiment: float, window_s: float
) -> ImplicitFeedback:
    """What the user's next message at `at` (with its `sentiment`) tells about an open reply;
    after the window it counts as no reply, as if `settle_due` had run on time."""
    delay = max(at - opened.created_at, 0.0)
    if delay >= window_s:
        return NO_REPLY
    return ImplicitFeedback(
        reply_delay_s=delay,
        sentiment_before=opened.sentiment,
        sentiment_after=sentiment,
        turns_after=1,
    )


def _bandit_context(explanation: Mapping[str, Any], arm: int | None) -> tuple[float, ...] | None:
    """The context the bandit chose `arm` with, or None if the bandit did not choose."""
    entry = explanation.get("bandit")
    if arm is None or not isinstance(entry, Mapping) or not 0 <= arm < len(STRATEGIES):
        return None
    context = entry.get("context")
    if not isinstance(context, Sequence) or len(context) != CONTEXT_DIM:
        return None
    values = tuple(float(v) for v in context)
    if not all(math.isfinite(v) for v in values):
        return None
    return values


class StrategyBandit:
    """One bandit over the strategies, scoped by `key` (global by default)."""

    def __init__(
        self,
        store: BanditStore,
        interactions: ConversationStore,
        settings: LearningSection,
        clock: Callable[[], float],
        *,
        rng: np.random.Generator | None = None,
        key: str = DEFAULT_KEY,
        save_every: int = 20,
    ) -> None:
        if save_every < 1:
            raise ValueError(f"save_every must be >= 1, got {save_every}")
        self._store = store
        self._interactions = interactions
        self._settings = settings
        self._clock = clock
        self._rng = rng if rng is not None else np.random.default_rng()
        self._key = key
        self._save_every = save_every
        self._bandit = new_bandit(settings, len(STRATEGIES), self._rng)
        self._unsaved: list[int] = []
        self._save_lock = asyncio.Lock()

    @property
    def key(self) -> str:
        return self._key

    def state(self) -> dict[str, Any]:
        """The bandit's learned state as saved (for inspection and tests)."""
        return self._bandit.to_json()

    def choose(self, profile: UserProfile, signals: MessageSignals) -> StrategyChoice:
        context = context_vector(profile.means(), signal_features(signals))
        choice = self._bandit.select(context)
        return StrategyChoice(
            STRATEGIES[choice.arm], choice.arm, choice.propensity, tuple(context.tolist())
        )

    async def load(self) -> None:
        """Restore the checkpoint and replay the rewards claimed after it."""
        saved = await self._store.load_state(self._key)
        if saved is not None and saved.get("kind") == _STATE_KINDS[self._settings.bandit]:
            self._bandit = bandit_from_json(saved, self._rng)
            self._apply_settings()
        elif saved is not None:
            log.warning(
                "bandit %s: saved kind %s differs from [learning] bandit = %s; starting fresh",
                self._key,
                saved.get("kind"),
                self._settings.bandit,
            )
        pending = await self._store.unsaved(self._key)
        for applied in pending:
            self._apply(applied)
        log.info("bandit %s loaded (%d rewards replayed)", self._key, len(pending))

    def _apply_settings(self) -> None:
        """The config's exploration settings win over the saved ones (the learning stays)."""
        if isinstance(self._bandit, EpsilonGreedy):
            self._bandit.epsilon = self._settings.epsilon
        elif isinstance(self._bandit, LinUCB):
            self._bandit.alpha = self._settings.alpha

    def _apply(self, applied: AppliedReward) -> None:
        context = np.asarray(applied.context, dtype=np.float64)
        self._bandit.update(applied.arm, applied.reward, context)
        self._unsaved.append(applied.interaction_id)

    async def on_turn(self, turn: Turn, signals: MessageSignals, interaction_id: int) -> None:
        """Pipeline turn listener: settle the user's open replies with this message as their
        answer, and open this reply if the bandit chose it (one transaction)."""
        waiting = await self._store.open_for_user(self._key, turn.user.id)
        settlements = []
        for opened in waiting:
            implicit = after_next_message(
                opened, turn.now, signals.sentiment, self._settings.reply_window_s
            )
            settlement = self._settlement(opened, implicit)
            if settlement is not None:
                settlements.append(settlement)
        claimed = await self._store.settle(
            self._key,
            settlements,
            self._clock(),
            close=[opened.interaction_id for opened in waiting],
            open_next=interaction_id,
        )
        await self._take(settlements, claimed)

    async def settle_due(self, now: float) -> int:
        """Settle every open reply whose window closed by `now` with no answer (call it
        periodically); returns how many rewards reached the bandit."""
        opened_before = now - self._settings.reply_window_s
        applied = 0
        while True:
            due = await self._store.due(self._key, opened_before, _SETTLE_BATCH)
            settlements = [
                settlement
                for settlement in (self._settlement(opened, NO_REPLY) for opened in due)
                if settlement is not None
            ]
            claimed = await self._store.settle(
                self._key, settlements, now, close=[opened.interaction_id for opened in due]
            )
            applied += await self._take(settlements, claimed)
            if len(due) < _SETTLE_BATCH:
                break
        if applied:
            log.debug("bandit %s: %d silent replies settled", self._key, applied)
        return applied

    async def on_feedback(self, event: FeedbackEvent, user_row_id: int) -> None:
        """Pipeline feedback listener: a press settles its reply at once (if still open)."""
        interaction = await self._interactions.interaction(event.interaction_id)
        if interaction is None or interaction.user_id != user_row_id:
            log.debug("feedback for an unknown interaction user=%s", user_tag(event.user_key))
            return
        context = _bandit_context(interaction.explanation, interaction.arm)
        if context is None or interaction.arm is None:
            return  # the bandit did not choose this reply (user or config strategy)
        now = self._clock()
        opened_at = await self._store.opened_at(self._key, interaction.id)
        window_closed = opened_at is not None and now - opened_at >= self._settings.reply_window_s
        value = self._reward(
            event.value is FeedbackValue.UP, NO_REPLY if window_closed else ImplicitFeedback()
        )
        if value is None:  # pragma: no cover - a press always gives a reward
            return
        settlement = Settlement(
            user_row_id, AppliedReward(interaction.id, interaction.arm, value, context)
        )
        claimed = await self._store.settle(self._key, [settlement], now)
        if not await self._take([settlement], claimed):
            log.debug("reward already applied user=%s", user_tag(event.user_key))

    def _reward(self, thumbs_up: bool | None, implicit: ImplicitFeedback) -> float | None:
        return reward(thumbs_up, implicit, reply_window_s=self._settings.reply_window_s)

    def _settlement(
        self, opened: OpenInteraction, implicit: ImplicitFeedback
    ) -> Settlement | None:
        """The reward an open reply earned, or None if the bandit cannot learn from it."""
        context = _bandit_context(opened.explanation, opened.arm)
        thumbs_up = None if opened.feedback is None else opened.feedback == FeedbackValue.UP.value
        value = self._reward(thumbs_up, implicit)
        if context is None or opened.arm is None or value is None:
            return None
        return Settlement(
            opened.user_id, AppliedReward(opened.interaction_id, opened.arm, value, context)
        )

    async def _take(self, settlements: Sequence[Settlement], claimed: Sequence[bool]) -> int:
        """Apply the rewards this process claimed; checkpoint when enough are unsaved."""
        taken = 0
        for settlement, won in zip(settlements, claimed, strict=True):
            if won:
                self._apply(settlement.reward)
                taken += 1
        if len(self._unsaved) >= self._save_every:
            await self.save()
        return taken

    async def save(self) -> None:
        """Checkpoint the state with the rewards it includes (call at shutdown too)."""
        async with self._save_lock:
            if not self._unsaved:
                return
            included = list(self._unsaved)
            await self._store.checkpoint(
                self._key, self._bandit.to_json(), included, self._clock()
            )
            del self._unsaved[: len(included)]
            log.debug("bandit %s saved with %d new rewards", self._key, len(included))
