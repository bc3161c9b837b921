"""Hostile and unusual inputs: nothing raises, every score stays in range."""

from __future__ import annotations

import numpy as np
import pytest

from personality.analysis import LEXICAL_MAX_CHARS, MessageAnalyzer
from personality.signals import BIG_FIVE, EMOTIONS, MessageSignals
from personality.text import MODEL_MAX_CHARS, clean, model_input
from tests.analysis_support import head_analyzer, lexicon_analyzer, unit_rows

__all__ = ["head_analyzer", "lexicon_analyzer"]

BAD_INPUTS = {
    "empty": "",
    "emoji_only": "😂😂🔥👍🏽🇫🇷",
    "huge": "word " * 20_000,
    "non_english": "Je suis très heureux aujourd'hui, merci beaucoup !",
    "mixed_scripts": "Привет мир 你好世界 مرحبا hello שלום 🙂",
    "code_block": "```python\ndef f(x):\n    return x ** 2  # square\n```",
    "urls_only": "https://example.com/a?b=c http://t.co/xyz www.test.org",
    "repeated": "a" * 5000 + "!" * 3000 + "?" * 2000,
    "nul_bytes": "hello\x00world\x00\x00",
    "lone_surrogate": "broken \ud800 text \udfff",
    "whitespace": " \t\n\r  ",
    "control": "\x01\x02\x1b[31mred\x1b[0m",
}


def assert_in_range(signals: MessageSignals, text: str) -> None:
    assert -1.0 <= signals.sentiment <= 1.0
    for value in (signals.formality, signals.politeness, signals.urgency):
        assert 0.0 <= value <= 1.0
    assert 0.0 <= signals.emoji_rate <= 1.0
    assert 0.0 <= signals.question_rate <= 1.0
    assert 0.0 <= signals.big_five_confidence <= 1.0
    assert set(signals.emotions) == set(EMOTIONS)
    assert all(0.0 <= value <= 1.0 for value in signals.emotions.values())
    assert sum(signals.emotions.values()) == pytest.approx(1.0, abs=1e-4)
    assert set(signals.big_five) == set(BIG_FIVE)
    assert all(0.0 <= value <= 1.0 for value in signals.big_five.values())
    assert signals.length == len(text)


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_without_embedding(lexicon_analyzer: MessageAnalyzer, name: str) -> None:
    text = BAD_INPUTS[name]
    signals = lexicon_analyzer.analyse(text)
    assert_in_range(signals, text)
    assert signals.source == "lexicon"
    assert signals.truncated == (len(text) > LEXICAL_MAX_CHARS)


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_with_embedding(head_analyzer: MessageAnalyzer, name: str) -> None:
    text = BAD_INPUTS[name]
    embedding = unit_rows([text], 384)[0]
    signals = head_analyzer.analyse(text, embedding)
    assert_in_range(signals, text)
    assert signals.source == "model"
    assert signals.truncated == (len(text) > MODEL_MAX_CHARS)
    assert signals.embedding is not None
    assert signals.to_json()["emotion"] in EMOTIONS


def test_the_huge_message_says_it_was_truncated(head_analyzer: MessageAnalyzer) -> None:
    text = "I am so happy today! " * 5000
    assert len(text) > 100_000
    signals = head_analyzer.analyse(text, unit_rows([text], 384)[0])
    assert signals.truncated
    assert signals.length == len(text)
    assert signals.sentiment > 0


@pytest.mark.parametrize(
    "embedding",
    [
        np.full(384, np.nan, dtype=np.float32),
        np.ones(10, dtype=np.float32),
        np.zeros((2, 384), dtype=np.float32),
    ],
    ids=["nan", "wrong_size", "two_rows"],
)
def test_an_unusable_embedding_falls_back_to_the_lexicons(
    head_analyzer: MessageAnalyzer, embedding: np.ndarray
) -> None:
    signals = head_analyzer.analyse("I love this", embedding)
    assert signals.source == "lexicon"
    assert signals.embedding is None
    assert signals.sentiment > 0


def test_clean_removes_what_models_cannot_read() -> None:
    assert clean("a\x00b") == "a b"
    assert clean("x\ud800y") == "x\ufffdy"
    assert clean("\ud83d\ude00") == "😀"
    text, cut = model_input("z" * (MODEL_MAX_CHARS + 1))
    assert cut
    assert len(text) == MODEL_MAX_CHARS
    assert model_input("short") == ("short", False)


def test_urls_and_code_are_not_emotional(lexicon_analyzer: MessageAnalyzer) -> None:
    for name in ("urls_only", "code_block"):
        signals = lexicon_analyzer.analyse(BAD_INPUTS[name])
        assert signals.emotion == "neutral"
        assert not signals.crisis
