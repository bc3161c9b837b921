"""Crisis detection: broad on risk, narrow exceptions for negations, mentions and idioms."""

from __future__ import annotations

import pytest

from personality.analysis import MessageAnalyzer
from personality.crisis import detect_crisis
from tests.analysis_support import lexicon_analyzer

__all__ = ["lexicon_analyzer"]

RISK = [
    "I want to kill myself",
    "i wanna die",
    "I'm thinking about ending my life",
    "I don't want to live anymore",
    "honestly everyone would be better off without me",
    "I have nothing left to live for",
    "I keep cutting myself",
    "I've been self-harming again",
    "I'm going to take my own life tonight",
    "I feel suicidal",
    "I'm not suicidal, but I want to die",
    "I don't know, I want to end it all",
    "I don't know why I want to die",
    'she texted me "I want to kill myself" and I am scared',
    "kms",
    "I KILL MYSELF TRYING",  # odd phrasing still flags: a false alarm is cheap
    "quiero morir",
    "ich will sterben",
    "I’m going to kill myself",  # typographic apostrophe
]
SAFE = [
    "I would never kill myself",
    "I'm not suicidal",
    "I'm not going to kill myself, don't worry",
    "I don't want to die",
    "We watched Suicide Squad last night",
    'the song "Suicide" by that band is great',
    "this homework is killing me",
    "how do I kill a python process",
    "I'm dying to see that movie",
    "",
]


@pytest.mark.parametrize("text", RISK)
def test_risk_is_detected(text: str) -> None:
    assert detect_crisis(text)


@pytest.mark.parametrize("text", SAFE)
def test_negations_mentions_and_idioms_are_not_crises(text: str) -> None:
    assert not detect_crisis(text)


def test_the_analyzer_flags_crisis_beyond_the_lexical_window(
    lexicon_analyzer: MessageAnalyzer,
) -> None:
    text = "filler words " * 1000 + "I want to kill myself"
    assert lexicon_analyzer.analyse(text).crisis
