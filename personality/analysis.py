"""One message in, `MessageSignals` out: lexicons, style cues, trait cues, crisis, emotion head.

`MessageAnalyzer.analyse` is pure CPU work (no I/O), takes microseconds without an
embedding, and never raises for any `str`. With an embedding of the message (from an
`Embedder`, see `personality.ports`) the trained emotion head supplies the emotions
(`source="model"`); emotion probabilities computed with the embedding (the fine-tuned top
layers in `bot.embedding`) take precedence over the head; without either, the NRC/VADER
estimate does (`source="lexicon"`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from personality.crisis import detect_crisis
from personality.emotion import DEFAULT_PATH, EmotionHead
from personality.lexicons import Lexicons, words
from personality.signals import EMOTIONS, Embedding, MessageSignals, clamp
from personality.style import read_style
from personality.text import MODEL_MAX_CHARS, clean
from personality.traits import big_five_indicators

log = logging.getLogger(__name__)

LEXICAL_MAX_CHARS = 4000
"""Lexicons and cues read at most this many characters (VADER is linear in its input); the
crisis check always reads the whole message."""

SENTIMENT_MODEL_WEIGHT = 0.5
"""Share of the emotion head's valence in `sentiment` (the rest is VADER's compound). An even
blend reaches 98% or more of the best Pearson r on each VADER ground-truth file while keeping
VADER's graded intensity; `bench/emotion_eval.py` prints r by weight (see models/README.md)."""

_NEGATIVE = ("anger", "disgust", "fear", "sadness")


def emotion_valence(emotions: Mapping[str, float]) -> float:
    """Joy minus the negative emotions, in [-1, 1]."""
    negative = sum(emotions.get(name, 0.0) for name in _NEGATIVE)
    return clamp(emotions.get("joy", 0.0) - negative, -1.0, 1.0)


def blend_sentiment(compound: float, emotions: Mapping[str, float] | None, weight: float) -> float:
    """VADER's compound, moved towards the emotion head's valence by `weight`."""
    if emotions is None:
        return clamp(compound, -1.0, 1.0)
    return clamp((1.0 - weight) * compound + weight * emotion_valence(emotions), -1.0, 1.0)


class MessageAnalyzer:
    """Reads `MessageSignals` from a message; load once, share across messages."""

    def __init__(
        self,
        lexicons: Lexicons,
        head: EmotionHead | None = None,
        *,
        sentiment_model_weight: float = SENTIMENT_MODEL_WEIGHT,
        model_max_chars: int = MODEL_MAX_CHARS,
    ) -> None:
        self._lexicons = lexicons
        self._head = head
        self._sentiment_weight = sentiment_model_weight
        self._model_max_chars = model_max_chars

    @classmethod
    def load(cls, model_path: Path | None = DEFAULT_PATH) -> MessageAnalyzer:
        """VADER, NRC and the emotion head at `model_path` (None: lexicons only)."""
        head = EmotionHead.load(model_path) if model_path is not None else None
        return cls(Lexicons(), head)

    def analyse(
        self,
        text: str,
        embedding: Embedding | None = None,
        emotion_probs: Embedding | None = None,
    ) -> MessageSignals:
        """`emotion_probs` (one probability per name in EMOTIONS, in that order), when given
        and valid, are the model's emotions instead of the head's reading of `embedding`."""
        try:
            return self._analyse(text, embedding, emotion_probs)
        except Exception:  # a message must never fail the pipeline because of its analysis
            log.exception("analysis failed for a message of %d characters", len(text))
            return MessageSignals(length=len(text))

    def _analyse(
        self, text: str, embedding: Embedding | None, emotion_probs: Embedding | None
    ) -> MessageSignals:
        lexical = clean(text[:LEXICAL_MAX_CHARS])
        tokens = words(lexical)
        reading = self._lexicons.read(lexical, tokens)
        usable = self._usable(embedding)
        model_emotions = _probabilities(emotion_probs)
        if model_emotions is None and usable is not None and self._head is not None:
            model_emotions = self._head.predict_one(usable, reading.features())
        emotions = model_emotions or reading.emotion_estimate()
        style = read_style(lexical, tokens)
        big_five, confidence = big_five_indicators(tokens)
        compound = float(reading.vader.get("compound", 0.0))
        return MessageSignals(
            sentiment=blend_sentiment(compound, model_emotions, self._sentiment_weight),
            emotions={name: clamp(emotions.get(name, 0.0)) for name in EMOTIONS},
            formality=clamp(style.formality),
            politeness=clamp(style.politeness),
            urgency=clamp(style.urgency),
            emoji_rate=clamp(style.emoji_rate),
            question_rate=clamp(style.question_rate),
            length=len(text),
            big_five=big_five,
            big_five_confidence=clamp(confidence),
            crisis=detect_crisis(lexical if len(text) <= LEXICAL_MAX_CHARS else clean(text)),
            truncated=len(text)
            > (self._model_max_chars if usable is not None else LEXICAL_MAX_CHARS),
            source="model" if model_emotions is not None else "lexicon",
            embedding=usable,
        )

    def _usable(self, embedding: Embedding | None) -> Embedding | None:
        """The embedding as a finite float32 row, or None when it cannot be used."""
        if embedding is None:
            return None
        row = np.asarray(embedding, dtype=np.float32).reshape(-1)
        expected = self._head.embedding_dim if self._head is not None else row.size
        if row.size != expected or not np.isfinite(row).all():
            log.warning("ignoring an embedding of size %d (expected %d)", row.size, expected)
            return None
        return row


def _probabilities(values: Embedding | None) -> dict[str, float] | None:
    """Per-emotion probabilities from a row in EMOTIONS order, or None when unusable."""
    if values is None:
        return None
    row = np.asarray(values, dtype=np.float64).reshape(-1)
    if row.size != len(EMOTIONS) or not np.isfinite(row).all() or (row < 0).any():
        log.warning("ignoring %d emotion probabilities", row.size)
        return None
    total = float(row.sum())
    if total <= 0.0:
        return None
    return {name: float(value) / total for name, value in zip(EMOTIONS, row, strict=True)}
