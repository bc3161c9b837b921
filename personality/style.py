"""How a message is written: formality, politeness, urgency, emoji rate and question rate.

Each of formality, politeness and urgency is a logistic function of a sum of weighted cues,
so it stays in (0, 1), sits at a neutral value when no cue is present, and moves the same way
whenever a cue is added:

- formality: up with formal greetings and sign-offs ("dear", "regards"), hedges ("perhaps",
  "would"), long words, capitalised sentence starts; down with contractions, slang ("lol",
  "gonna"), emoji, exclamation runs and all-lowercase text.
- politeness: up with please/thanks/sorry/appreciate, greetings and hedged requests ("could
  you"); down with profanity, insults, shouting (all caps) and bare imperative openers.
  Polite cues are counted, never divided by length, so adding "please" never lowers it.
- urgency: urgency words ("urgent", "asap", "now"), time pressure ("by 5pm", "tonight",
  "deadline"), exclamation runs and all-caps words; all are counted, so a cue only adds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from personality.lexicons import word_set

EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001f9ff\U0001fa70-\U0001faff\u2600-\u27bf\u2b50\u2764]"
)
_EMOTICON = re.compile(r"(?:^|\s)[:;=xX8][-']?[)(DPpO3/\\|*\]\[]+(?=\s|$)")
_SENTENCE_END = re.compile(r"[.!?]+|\n+")
_EXCLAMATION_RUN = re.compile(r"!{2,}")
_QUESTION = re.compile(r"\?+")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_TIME_PRESSURE = re.compile(
    r"\b(?:by|before|until|within|in) (?:\d{1,2}(?::\d\d)?\s?(?:am|pm)?|the end of the day|"
    r"tonight|tomorrow|today|noon|midnight|an hour|\d+ (?:min|mins|minutes|hours?|hrs?))\b|"
    r"\b(?:deadline|due|eod|end of day|right now|right away|time[- ]sensitive|running out)\b",
    re.IGNORECASE,
)
_HEDGED_REQUEST = re.compile(
    r"\b(?:could|would|can|may|might) (?:you|i|we)\b|\bif you (?:don't|do not) mind\b|"
    r"\bwould you mind\b|\bexcuse me\b|\bthank you\b",
    re.IGNORECASE,
)

FORMAL_MARKERS = word_set(
    "dear regards sincerely respectfully kindly furthermore moreover therefore however "
    "regarding concerning hereby pursuant accordingly nevertheless appreciate request "
    "assistance inquire additionally consequently please thank"
)
HEDGES = word_set("perhaps possibly maybe might would could somewhat apparently")
SLANG = word_set(
    "lol lmao rofl omg wtf idk imo imho tbh btw brb gonna wanna gotta kinda sorta ya yeah yep "
    "nope dunno u ur r pls plz thx ty k ok okay cuz cos bro dude lemme gimme ain't y'all "
    "haha hahaha hehe xd yo sup nah yolo smh fr ngl bc"
)
POLITE = word_set(
    "please pls plz thanks thank thx ty appreciate appreciated grateful sorry apologies "
    "apologize apologise kindly welcome hello hi hey cheers regards dear excuse pardon"
)
RUDE = word_set(
    "fuck fucking fucked shit shitty damn damned crap idiot idiots stupid dumb moron "
    "useless shut hell bitch bastard asshole ass sucks suck pathetic garbage trash loser "
    "stfu wtf jerk retard whatever"
)
IMPERATIVES = word_set(
    "give send tell do make fix get show answer stop explain write find bring move go "
    "reply respond hurry change call check"
)
URGENT = word_set(
    "urgent urgently asap immediately now emergency quickly quick hurry fast critical "
    "important help soon instantly promptly rush needed crucial priority"
)


def _logistic(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


@dataclass(frozen=True, slots=True)
class Style:
    formality: float
    politeness: float
    urgency: float
    emoji_rate: float
    question_rate: float


def read_style(text: str, words: Sequence[str]) -> Style:
    """The style of `text`, whose lower-cased words are `words` (see `lexicons.words`)."""
    emoji = len(EMOJI.findall(text)) + len(_EMOTICON.findall(text))
    sentences = [part for part in _SENTENCE_END.split(text) if part.strip()]
    questions = len(_QUESTION.findall(text))
    question_rate = min(1.0, questions / max(1, len(sentences)))
    exclamation_runs = len(_EXCLAMATION_RUN.findall(text))
    caps_words = len(_CAPS_WORD.findall(text))
    if not words and not emoji:
        return Style(0.5, 0.5, _logistic(-2.5 + 0.7 * exclamation_runs), 0.0, question_rate)
    return Style(
        formality=_formality(text, words, emoji, exclamation_runs),
        politeness=_politeness(text, words, caps_words),
        urgency=_urgency(text, words, exclamation_runs, caps_words),
        emoji_rate=emoji / (emoji + len(words)),
        question_rate=question_rate,
    )


def _formality(text: str, words: Sequence[str], emoji: int, exclamation_runs: int) -> float:
    count = max(1, len(words))
    formal = sum(word in FORMAL_MARKERS for word in words) + sum(word in HEDGES for word in words)
    slang = sum(word in SLANG for word in words)
    contractions = sum("'" in word for word in words)
    long_words = sum(len(word) >= 7 for word in words) / count
    stripped = text.lstrip()
    lowercase_start = bool(stripped) and stripped[0].islower()
    score = (
        0.6 * formal
        + 3.0 * long_words
        - 0.8 * slang
        - 0.4 * contractions
        - 0.5 * emoji
        - 0.5 * exclamation_runs
        - 0.6 * lowercase_start
        - 0.6
    )
    return _logistic(score)


def _politeness(text: str, words: Sequence[str], caps_words: int) -> float:
    polite = sum(word in POLITE for word in words) + len(_HEDGED_REQUEST.findall(text))
    rude = sum(word in RUDE for word in words)
    bare_imperative = bool(words) and words[0] in IMPERATIVES and "please" not in words
    score = 0.7 * polite - 1.2 * rude - 0.6 * bare_imperative - 0.3 * min(caps_words, 5)
    return _logistic(score)


def _urgency(text: str, words: Sequence[str], exclamation_runs: int, caps_words: int) -> float:
    urgent = sum(word in URGENT for word in words)
    pressure = len(_TIME_PRESSURE.findall(text))
    score = -2.5 + 1.6 * urgent + 1.0 * pressure + 0.7 * exclamation_runs + 0.3 * caps_words
    return _logistic(score)
