"""The reward in [0, 1] that one reply earned, from explicit and implicit feedback.

Explicit feedback is the 👍 (1.0) / 👎 (0.0) button. Implicit signals, each scored in [0, 1]:

- reply: the user wrote again within `reply_window_s` after the bot's reply. Scored
  1 - delay / window (an instant answer is 1, one at the end of the window 0); no reply
  within the window scores 0.
- sentiment shift: sentiment of the user's next message minus that of the message the bot
  answered (both in [-1, 1]), mapped to [0, 1] as 0.5 + shift / 4 (no change is 0.5).
- conversation length: user messages that followed the reply in the same conversation,
  min(turns / `target_turns`, 1).

The implicit reward is the weighted mean of the implicit signals that are known (weights
0.4 reply, 0.35 sentiment shift, 0.25 conversation length, re-normalised over the known
ones). With a button press the reward is 0.8 × explicit + 0.2 × implicit (or the explicit
value alone when no implicit signal is known); without one it is the implicit reward. With
no signal at all there is no reward (None): the bandit must not learn from silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RewardWeights:
    explicit: float = 0.8
    reply: float = 0.4
    sentiment_shift: float = 0.35
    conversation_length: float = 0.25

    def __post_init__(self) -> None:
        for name in ("explicit", "reply", "sentiment_shift", "conversation_length"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
        if self.explicit > 1:
            raise ValueError(f"weight explicit must be <= 1, got {self.explicit!r}")


DEFAULT_WEIGHTS = RewardWeights()


@dataclass(frozen=True, slots=True)
class ImplicitFeedback:
    """What happened after a reply; None means "not known (yet)"."""

    reply_delay_s: float | None = None
    """Seconds until the user's next message; None if they have not written again."""
    sentiment_before: float | None = None
    sentiment_after: float | None = None
    turns_after: int | None = None
    window_closed: bool = False
    """True once `reply_window_s` has passed: a missing reply then scores 0, not unknown."""


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def reply_score(delay_s: float | None, *, window_s: float, window_closed: bool) -> float | None:
    """1 for an instant reply down to 0 at the window's end; None while still unknown."""
    if window_s <= 0:
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    if delay_s is None or not math.isfinite(delay_s):
        return 0.0 if window_closed else None
    return _unit(1.0 - max(delay_s, 0.0) / window_s)


def sentiment_shift_score(before: float | None, after: float | None) -> float | None:
    """0.5 + (after - before) / 4, so a shift from -1 to 1 scores 1; None if either is unknown."""
    if before is None or after is None or not (math.isfinite(before) and math.isfinite(after)):
        return None
    return _unit(0.5 + (after - before) / 4.0)


def conversation_length_score(turns_after: int | None, *, target_turns: int = 5) -> float | None:
    """Share of `target_turns` user messages that followed the reply, capped at 1."""
    if target_turns < 1:
        raise ValueError(f"target_turns must be >= 1, got {target_turns!r}")
    if turns_after is None:
        return None
    return _unit(turns_after / target_turns)


def implicit_reward(
    feedback: ImplicitFeedback,
    *,
    reply_window_s: float = 600.0,
    target_turns: int = 5,
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float | None:
    """Weighted mean of the known implicit scores, or None when none is known."""
    scored = [
        (
            weights.reply,
            reply_score(
                feedback.reply_delay_s,
                window_s=reply_window_s,
                window_closed=feedback.window_closed,
            ),
        ),
        (
            weights.sentiment_shift,
            sentiment_shift_score(feedback.sentiment_before, feedback.sentiment_after),
        ),
        (
            weights.conversation_length,
            conversation_length_score(feedback.turns_after, target_turns=target_turns),
        ),
    ]
    known = [(weight, score) for weight, score in scored if score is not None and weight > 0]
    total_weight = sum(weight for weight, _ in known)
    if total_weight == 0:
        return None
    return _unit(sum(weight * score for weight, score in known) / total_weight)


def combine_reward(
    thumbs_up: bool | None,
    implicit: float | None,
    *,
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float | None:
    """The reward of one reply: explicit 👍/👎 blended with the implicit reward."""
    if implicit is not None and not (math.isfinite(implicit) and 0.0 <= implicit <= 1.0):
        raise ValueError(f"implicit reward must be in [0, 1], got {implicit!r}")
    if thumbs_up is None:
        return implicit
    explicit = 1.0 if thumbs_up else 0.0
    if implicit is None:
        return explicit
    return weights.explicit * explicit + (1.0 - weights.explicit) * implicit


def reward(
    thumbs_up: bool | None,
    feedback: ImplicitFeedback,
    *,
    reply_window_s: float = 600.0,
    target_turns: int = 5,
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float | None:
    """`combine_reward` of the button and the `implicit_reward` of `feedback`."""
    implicit = implicit_reward(
        feedback, reply_window_s=reply_window_s, target_turns=target_turns, weights=weights
    )
    return combine_reward(thumbs_up, implicit, weights=weights)
