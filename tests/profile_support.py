"""Shared helpers for the profile, adaptation, prompting and scheduler tests."""

from __future__ import annotations

from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from personality.personas import Persona
from personality.signals import EMOTIONS, MessageSignals

COMPANION = Persona(
    "companion",
    "warm, curious companion",
    {
        "openness": 0.7,
        "conscientiousness": 0.6,
        "extraversion": 0.6,
        "agreeableness": 0.8,
        "neuroticism": 0.2,
        "humor": 0.5,
        "empathy": 0.8,
        "formality": 0.3,
        "directness": 0.5,
        "enthusiasm": 0.6,
    },
    "Never give medical diagnoses.",
)
TUTOR = Persona(
    "tutor",
    "patient, structured tutor",
    {
        "openness": 0.6,
        "conscientiousness": 0.9,
        "extraversion": 0.4,
        "agreeableness": 0.7,
        "neuroticism": 0.1,
        "humor": 0.2,
        "empathy": 0.6,
        "formality": 0.7,
        "directness": 0.8,
        "enthusiasm": 0.4,
    },
)


def emotions(**weights: float) -> dict[str, float]:
    """An emotion distribution with the given weights and the rest on neutral."""
    dist = {name: weights.get(name, 0.0) for name in EMOTIONS}
    dist["neutral"] = max(0.0, 1.0 - sum(dist.values()))
    return dist


def signals(**fields: object) -> MessageSignals:
    """Analysed signals (source "test") with the given fields."""
    values: dict[str, object] = {"source": "test", "length": 80, **fields}
    return MessageSignals(**values)  # type: ignore[arg-type]


SAD = signals(sentiment=-0.7, emotions=emotions(sadness=0.8), formality=0.4)
FORMAL = signals(sentiment=0.1, emotions=emotions(), formality=0.95, politeness=0.9)
ANGRY = signals(sentiment=-0.6, emotions=emotions(anger=0.85))
URGENT = signals(urgency=0.9, emotions=emotions())
CRISIS = signals(sentiment=-0.9, emotions=emotions(sadness=0.9), crisis=True)
CALM = signals(sentiment=0.2, emotions=emotions(joy=0.2))


async def make_user(db: Database, name: str, now: float) -> int:
    user = await ConversationStore(db).ensure_user("console", name, name.title(), now)
    return user.id
