"""Property tests: ranges for any text, and the directions the cues promise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personality.analysis import MessageAnalyzer
from tests.analysis_support import lexicon_analyzer, unit_rows
from tests.test_analysis_inputs import assert_in_range

__all__ = ["lexicon_analyzer"]

FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
words = st.sampled_from(
    [
        "hello",
        "I",
        "you",
        "we",
        "need",
        "the",
        "report",
        "now",
        "send",
        "fix",
        "it",
        "lol",
        "gonna",
        "please",
        "thanks",
        "sorry",
        "why",
        "sad",
        "happy",
        "angry",
        "great",
        "terrible",
        "ok",
        "!",
        "?",
        "!!!",
        "😂",
        ":)",
        "dear",
        "regards",
        "could",
        "would",
    ]
)
messages = st.one_of(st.text(max_size=300), st.lists(words, max_size=30).map(" ".join))


@FIXTURE_OK
@given(text=messages)
def test_every_score_stays_in_range(lexicon_analyzer: MessageAnalyzer, text: str) -> None:
    assert_in_range(lexicon_analyzer.analyse(text), text)


@FIXTURE_OK
@given(text=messages)
def test_in_range_with_an_embedding(lexicon_analyzer: MessageAnalyzer, text: str) -> None:
    signals = lexicon_analyzer.analyse(text, unit_rows([text], 384)[0])
    assert_in_range(signals, text)


@FIXTURE_OK
@given(text=messages)
def test_please_and_thank_you_never_lower_politeness(
    lexicon_analyzer: MessageAnalyzer, text: str
) -> None:
    before = lexicon_analyzer.analyse(text).politeness
    after = lexicon_analyzer.analyse(text + " please, thank you").politeness
    assert after >= before


@FIXTURE_OK
@given(text=messages)
def test_urgent_raises_urgency(lexicon_analyzer: MessageAnalyzer, text: str) -> None:
    before = lexicon_analyzer.analyse(text).urgency
    after = lexicon_analyzer.analyse(text + " URGENT!!!").urgency
    assert after > before


@pytest.mark.parametrize(
    ("plain", "marked", "signal"),
    [
        (
            "send me the file",
            "Dear team, could you please send me the file? Kind regards",
            "formality",
        ),
        ("send me the file", "could you please send me the file, thanks", "politeness"),
        ("shut up you idiot", "thank you so much, I appreciate it", "politeness"),
        ("whenever you have time", "I need this ASAP, the deadline is tonight!!", "urgency"),
        ("Good afternoon, I shall reply tomorrow.", "lol gonna b late 😂😂", "emoji_rate"),
    ],
)
def test_cues_move_their_signal(
    lexicon_analyzer: MessageAnalyzer, plain: str, marked: str, signal: str
) -> None:
    low = getattr(lexicon_analyzer.analyse(plain), signal)
    high = getattr(lexicon_analyzer.analyse(marked), signal)
    assert high > low


def test_slang_is_less_formal_than_a_letter(lexicon_analyzer: MessageAnalyzer) -> None:
    letter = lexicon_analyzer.analyse("Dear Sir, I would appreciate your assistance. Regards")
    chat = lexicon_analyzer.analyse("lol idk gonna skip it tbh 😂")
    assert letter.formality > 0.7 > 0.3 > chat.formality


def test_question_rate_counts_questions(lexicon_analyzer: MessageAnalyzer) -> None:
    assert lexicon_analyzer.analyse("Where are you? Are you ok?").question_rate == 1.0
    assert lexicon_analyzer.analyse("I am here. Are you?").question_rate == 0.5
    assert lexicon_analyzer.analyse("Fine.").question_rate == 0.0


def test_big_five_cues_are_small_and_directional(lexicon_analyzer: MessageAnalyzer) -> None:
    anxious = lexicon_analyzer.analyse("I am so worried and anxious, I feel lost and sad")
    social = lexicon_analyzer.analyse("we had a party with friends, everyone had fun together")
    assert anxious.big_five["neuroticism"] > 0.5
    assert social.big_five["extraversion"] > 0.5
    assert 0.0 < anxious.big_five_confidence <= 0.2
    assert all(abs(value - 0.5) <= 0.15 + 1e-9 for value in anxious.big_five.values())
    assert lexicon_analyzer.analyse("ok").big_five_confidence == 0.0


def test_sentiment_follows_vader(lexicon_analyzer: MessageAnalyzer) -> None:
    assert lexicon_analyzer.analyse("I love this, it is wonderful").sentiment > 0.5
    assert lexicon_analyzer.analyse("This is awful and I hate it").sentiment < -0.5


def test_lexicon_emotions_follow_nrc(lexicon_analyzer: MessageAnalyzer) -> None:
    signals = lexicon_analyzer.analyse("I am terrified and afraid of the dark")
    assert signals.emotion == "fear"
    assert signals.source == "lexicon"
    assert lexicon_analyzer.analyse("The meeting is at noon").emotion == "neutral"
