"""Word lexicons the analysis reads: VADER sentiment, NRC emotions, and a regex tokenizer.

The NRC lexicon comes from the `nrclex` package's `nrc_en.json`; its own text path needs NLTK
corpora (not available offline), so words are split here with a regex instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from personality.signals import EMOTIONS

NRC_CATEGORIES: tuple[str, ...] = (
    "anger",
    "anticipation",
    "disgust",
    "fear",
    "joy",
    "negative",
    "positive",
    "sadness",
    "surprise",
    "trust",
)
VADER_KEYS: tuple[str, ...] = ("neg", "neu", "pos", "compound")

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

NRC_NEUTRAL_PRIOR = 1.0
"""Weight of "neutral" in the lexicon-only emotion estimate, against NRC word counts: a
message needs at least one emotion word before an emotion can outweigh neutral."""


def word_set(spec: str) -> frozenset[str]:
    """The words of a space-separated word list."""
    return frozenset(spec.split())


def words(text: str) -> list[str]:
    """Lower-cased words (letters, with inner apostrophes) in the order they appear."""
    return [match.group().lower().replace("’", "'") for match in _WORD.finditer(text)]


@dataclass(frozen=True, slots=True)
class LexiconReading:
    """What the lexicons say about one text."""

    vader: Mapping[str, float]
    nrc_counts: Mapping[str, int]
    word_count: int

    def features(self) -> npt.NDArray[np.float32]:
        """NRC category rates per word and VADER scores: extra inputs of the emotion head."""
        scale = 1.0 / max(1, self.word_count)
        nrc = [self.nrc_counts.get(name, 0) * scale for name in NRC_CATEGORIES]
        vader = [self.vader.get(key, 0.0) for key in VADER_KEYS]
        return np.asarray(nrc + vader, dtype=np.float32)

    def emotion_estimate(self) -> dict[str, float]:
        """Emotion probabilities from NRC word counts alone (used when no model ran).

        Each emotion scores its NRC word count; "joy" also counts VADER's positive share
        and the negative emotions share VADER's negative share, so emoji and slang VADER
        knows still count; neutral scores `NRC_NEUTRAL_PRIOR`. Scores are normalised.
        """
        negative = [name for name in EMOTIONS if name not in ("joy", "neutral", "surprise")]
        scores = {name: float(self.nrc_counts.get(name, 0)) for name in EMOTIONS}
        scores["neutral"] = NRC_NEUTRAL_PRIOR
        scores["joy"] += 2.0 * self.vader.get("pos", 0.0)
        for name in negative:
            scores[name] += 2.0 * self.vader.get("neg", 0.0) / len(negative)
        total = sum(scores.values())
        return {name: score / total for name, score in scores.items()}


class Lexicons:
    """VADER and NRC, each loaded once."""

    def __init__(self, nrc: Mapping[str, Sequence[str]] | None = None) -> None:
        self._vader = SentimentIntensityAnalyzer()
        self._nrc = nrc if nrc is not None else load_nrc()

    def read(self, text: str, tokens: Sequence[str] | None = None) -> LexiconReading:
        tokens = words(text) if tokens is None else tokens
        counts: dict[str, int] = {}
        for token in tokens:
            for category in self._nrc.get(token, ()):
                counts[category] = counts.get(category, 0) + 1
        vader = self._vader.polarity_scores(text)
        return LexiconReading(vader=vader, nrc_counts=counts, word_count=len(tokens))


def load_nrc() -> dict[str, list[str]]:
    """The NRC word-emotion lexicon shipped with `nrclex` (word -> categories)."""
    source = resources.files("nrclex.data").joinpath("nrc_en.json")
    with source.open("r", encoding="utf-8") as handle:
        raw = json.load(handle)
    return {str(word): [str(name) for name in names] for word, names in raw.items()}
