"""What one message tells about its author: the `MessageSignals` value and the trait names.

Every score is in [0, 1] except `sentiment`, which is in [-1, 1]. `to_json` gives the
`signals` object of the scripted chat (see DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
BIG_FIVE: tuple[str, ...] = (
    "openness",
    "conscientiousness",
    "extraversion",
    "agreeableness",
    "neuroticism",
)
COMMUNICATION_TRAITS: tuple[str, ...] = (
    "humor",
    "empathy",
    "formality",
    "directness",
    "enthusiasm",
)
TRAITS: tuple[str, ...] = BIG_FIVE + COMMUNICATION_TRAITS
"""The ten traits of a persona (and of a user's observed communication style)."""

Embedding = npt.NDArray[np.float32]


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """`value` limited to [low, high]; NaN becomes `low` so no score ever leaves its range."""
    if value != value:  # NaN
        return low
    return low if value < low else high if value > high else value


def neutral_emotions() -> dict[str, float]:
    return {name: (1.0 if name == "neutral" else 0.0) for name in EMOTIONS}


@dataclass(frozen=True, slots=True)
class MessageSignals:
    """Everything the analysis reads from one message."""

    sentiment: float = 0.0
    emotions: Mapping[str, float] = field(default_factory=neutral_emotions)
    formality: float = 0.5
    politeness: float = 0.5
    urgency: float = 0.0
    emoji_rate: float = 0.0
    question_rate: float = 0.0
    length: int = 0
    big_five: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(BIG_FIVE, 0.5))
    big_five_confidence: float = 0.0
    crisis: bool = False
    truncated: bool = False
    source: str = "neutral"
    """Which analysis produced these signals ("neutral" = no analysis ran, nothing inferred)."""
    embedding: Embedding | None = None

    @property
    def emotion(self) -> str:
        """The most likely emotion."""
        return max(EMOTIONS, key=lambda name: self.emotions.get(name, 0.0))

    def to_json(self) -> dict[str, Any]:
        return {
            "sentiment": round(self.sentiment, 4),
            "emotions": {name: round(self.emotions.get(name, 0.0), 4) for name in EMOTIONS},
            "emotion": self.emotion,
            "formality": round(self.formality, 4),
            "politeness": round(self.politeness, 4),
            "urgency": round(self.urgency, 4),
            "emoji_rate": round(self.emoji_rate, 4),
            "question_rate": round(self.question_rate, 4),
            "length": self.length,
            "big_five": {name: round(self.big_five.get(name, 0.5), 4) for name in BIG_FIVE},
            "big_five_confidence": round(self.big_five_confidence, 4),
            "crisis": self.crisis,
            "truncated": self.truncated,
            "source": self.source,
        }
