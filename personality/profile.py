"""What attune has inferred about one user, and how one message updates it.

Each of the ten traits is a Gaussian estimate: a mean in [0, 1] and the amount of evidence
behind it. The prior is N(0.5, PRIOR_SD²); every observation with weight w adds w to the
evidence, so the posterior standard deviation is PRIOR_SD / sqrt(1 + evidence) and the
confidence shown to users is 1 - sd / PRIOR_SD. The mean itself moves by an exponential
moving average (alpha per message, scaled by the observation's weight) so a profile follows a
person who changes instead of freezing on their first month.

Each update also yields insight rows: the weighted residual (observation - estimate) per
trait. The daily job consolidates a month of them (`scheduler/jobs.py`): residuals that keep
the same sign add up and pull the long-term value; transient ones cancel out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from personality.signals import BIG_FIVE, EMOTIONS, TRAITS, MessageSignals, clamp

PRIOR_MEAN = 0.5
PRIOR_SD = 0.25
TREND_ALPHA = 0.3
"""Weight of the newest message in the short-term sentiment trend and volatility."""
ENGAGEMENT_CHARS = 200
"""A message this long (or longer) counts as fully engaged."""


@dataclass(frozen=True, slots=True)
class TraitEstimate:
    mean: float = PRIOR_MEAN
    evidence: float = 0.0

    @property
    def sd(self) -> float:
        return PRIOR_SD / math.sqrt(1.0 + self.evidence)

    @property
    def confidence(self) -> float:
        """0 with no evidence, approaching 1 as evidence accumulates."""
        return 1.0 - self.sd / PRIOR_SD


@dataclass(frozen=True, slots=True)
class ShortTermState:
    sentiment_trend: float = 0.0
    """EMA of sentiment, in [-1, 1]."""
    sentiment_volatility: float = 0.0
    """EMA of the absolute change of sentiment between messages, in [0, 2]."""
    dominant_emotion: str = "neutral"
    engagement: float = 0.0
    """EMA of message length relative to ENGAGEMENT_CHARS, in [0, 1]."""
    last_sentiment: float = 0.0


@dataclass(frozen=True, slots=True)
class Insight:
    """One insight row: how far a message pulled one trait, and which analysis said so."""

    trait: str
    delta: float
    source: str


def _prior_traits() -> dict[str, TraitEstimate]:
    return {name: TraitEstimate() for name in TRAITS}


@dataclass(frozen=True, slots=True)
class UserProfile:
    traits: Mapping[str, TraitEstimate] = field(default_factory=_prior_traits)
    state: ShortTermState = field(default_factory=ShortTermState)
    messages: int = 0

    def value(self, trait: str) -> float:
        return self.traits.get(trait, TraitEstimate()).mean

    def confidence(self, trait: str) -> float:
        return self.traits.get(trait, TraitEstimate()).confidence

    def means(self) -> dict[str, float]:
        return {name: self.value(name) for name in TRAITS}

    def to_json(self) -> dict[str, Any]:
        return {
            "traits": {
                name: {"mean": est.mean, "evidence": est.evidence}
                for name, est in self.traits.items()
            },
            "state": {
                "sentiment_trend": self.state.sentiment_trend,
                "sentiment_volatility": self.state.sentiment_volatility,
                "dominant_emotion": self.state.dominant_emotion,
                "engagement": self.state.engagement,
                "last_sentiment": self.state.last_sentiment,
            },
            "messages": self.messages,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserProfile:
        """The profile stored by `to_json`; unknown traits are dropped, missing ones are prior."""
        traits = _prior_traits()
        for name, raw in dict(data.get("traits", {})).items():
            if name in traits:
                traits[name] = TraitEstimate(
                    clamp(float(raw["mean"])), max(0.0, float(raw["evidence"]))
                )
        raw_state = dict(data.get("state", {}))
        emotion = str(raw_state.get("dominant_emotion", "neutral"))
        state = ShortTermState(
            sentiment_trend=clamp(float(raw_state.get("sentiment_trend", 0.0)), -1.0, 1.0),
            sentiment_volatility=clamp(float(raw_state.get("sentiment_volatility", 0.0)), 0, 2),
            dominant_emotion=emotion if emotion in EMOTIONS else "neutral",
            engagement=clamp(float(raw_state.get("engagement", 0.0))),
            last_sentiment=clamp(float(raw_state.get("last_sentiment", 0.0)), -1.0, 1.0),
        )
        return cls(traits=traits, state=state, messages=max(0, int(data.get("messages", 0))))


def observe(signals: MessageSignals) -> dict[str, tuple[float, float]]:
    """What one message shows of each trait: (observed value, weight in [0, 1]).

    Big Five indicators carry the analysis' own confidence. The five communication traits are
    read from style and emotion; a message nobody analysed (source "neutral") shows nothing.
    """
    if signals.source == "neutral":
        return {}
    emotions = signals.emotions
    joy = emotions.get("joy", 0.0)
    positivity = (signals.sentiment + 1.0) / 2.0
    observed: dict[str, tuple[float, float]] = {
        name: (clamp(signals.big_five.get(name, PRIOR_MEAN)), clamp(signals.big_five_confidence))
        for name in BIG_FIVE
    }
    observed["humor"] = (
        clamp(0.5 * joy + 0.3 * signals.emoji_rate + 0.2 * emotions.get("surprise", 0.0)),
        1.0,
    )
    observed["empathy"] = (
        clamp(0.6 * signals.politeness + 0.4 * (1.0 - emotions.get("anger", 0.0))),
        1.0,
    )
    observed["formality"] = (clamp(signals.formality), 1.0)
    observed["directness"] = (
        clamp(0.5 * signals.urgency + 0.5 * (1.0 - signals.question_rate)),
        1.0,
    )
    observed["enthusiasm"] = (
        clamp(0.5 * positivity + 0.3 * joy + 0.2 * signals.emoji_rate),
        1.0,
    )
    return {name: value for name, value in observed.items() if value[1] > 0.0}


def update_profile(
    profile: UserProfile, signals: MessageSignals, alpha: float
) -> tuple[UserProfile, tuple[Insight, ...]]:
    """The profile after one message (EMA with rate `alpha`) and the insight rows it yields."""
    traits = dict(profile.traits)
    insights: list[Insight] = []
    for name, (value, weight) in observe(signals).items():
        current = traits.get(name, TraitEstimate())
        residual = value - current.mean
        traits[name] = TraitEstimate(
            clamp(current.mean + alpha * weight * residual), current.evidence + weight
        )
        if residual != 0.0:
            insights.append(Insight(name, weight * residual, signals.source))
    return (
        replace(
            profile,
            traits=traits,
            state=_next_state(profile.state, signals, first=profile.messages == 0),
            messages=profile.messages + 1,
        ),
        tuple(insights),
    )


def _next_state(state: ShortTermState, signals: MessageSignals, *, first: bool) -> ShortTermState:
    sentiment = clamp(signals.sentiment, -1.0, 1.0)
    if first:
        return ShortTermState(
            sentiment_trend=sentiment,
            sentiment_volatility=0.0,
            dominant_emotion=signals.emotion,
            engagement=clamp(signals.length / ENGAGEMENT_CHARS),
            last_sentiment=sentiment,
        )
    a = TREND_ALPHA
    change = abs(sentiment - state.last_sentiment)
    return ShortTermState(
        sentiment_trend=(1 - a) * state.sentiment_trend + a * sentiment,
        sentiment_volatility=(1 - a) * state.sentiment_volatility + a * change,
        dominant_emotion=signals.emotion,
        engagement=(1 - a) * state.engagement + a * clamp(signals.length / ENGAGEMENT_CHARS),
        last_sentiment=sentiment,
    )


def _bar(value: float, width: int = 10) -> str:
    filled = round(clamp(value) * width)
    return "█" * filled + "░" * (width - filled)


def render_profile(profile: UserProfile, bot_traits: Mapping[str, float]) -> str:
    """The `/profile` text: what attune inferred about the user, and its traits for them."""
    lines = ["What I've picked up about you so far:"]
    for name in TRAITS:
        est = profile.traits.get(name, TraitEstimate())
        lines.append(
            f"  {name:<17} {_bar(est.mean)} {est.mean:.2f}  (confidence {est.confidence:.0%})"
        )
    state = profile.state
    mood = (
        "positive"
        if state.sentiment_trend > 0.15
        else ("low" if state.sentiment_trend < -0.15 else "even")
    )
    lines.append(
        f"Recent mood: {mood}, mostly {state.dominant_emotion}; "
        f"based on {profile.messages} message(s)."
    )
    lines.append("How I talk with you:")
    for name in TRAITS:
        value = clamp(bot_traits.get(name, PRIOR_MEAN))
        lines.append(f"  {name:<17} {_bar(value)} {value:.2f}")
    return "\n".join(lines)
