"""The strategy bandit: learns from 👍/👎 which adaptation strategy suits which user and
message, and chooses it when nobody else did (`[adaptation] strategy = "auto"`).

Arms are the strategies in `personality.adaptation.STRATEGIES` order (mirror, complement,
balance); the context is `personality.bandits.context_vector` of the user's profile means
and the message signals. The reward is `personality.rewards.reward` of the press alone
(👍 = 1, 👎 = 0): the implicit signals (a quick reply, the sentiment of the next message,
conversation length) are only known minutes later and are not fed in yet.

Exactly once: a reward is claimed in `bandit_rewards` (primary key = interaction id) before
it touches the bandit, so a second press, a changed rating or a replayed event never counts
twice; the first rating is the one the bandit learns. The state is checkpointed every
`save_every` updates and on `save()`, together with the mark of the rewards it includes;
`load()` replays the claimed rewards a crash kept out of the last checkpoint.
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
from bot.storage.conversations import ConversationStore
from bot.storage.learning import AppliedReward, BanditStore
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

    async def on_feedback(self, event: FeedbackEvent, user_row_id: int) -> None:
        """Pipeline feedback listener: the press's reward, applied once per interaction."""
        interaction = await self._interactions.interaction(event.interaction_id)
        if interaction is None or interaction.user_id != user_row_id:
            log.debug("feedback for an unknown interaction user=%s", user_tag(event.user_key))
            return
        context = _bandit_context(interaction.explanation, interaction.arm)
        if context is None or interaction.arm is None:
            return  # the bandit did not choose this reply (user or config strategy)
        value = reward(
            event.value is FeedbackValue.UP,
            ImplicitFeedback(),
            reply_window_s=self._settings.reply_window_s,
        )
        if value is None:  # pragma: no cover - a press always gives a reward
            return
        applied = AppliedReward(interaction.id, interaction.arm, value, context)
        if not await self._store.claim(self._key, user_row_id, applied, self._clock()):
            log.debug("reward already applied user=%s", user_tag(event.user_key))
            return
        self._apply(applied)
        if len(self._unsaved) >= self._save_every:
            await self.save()

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
