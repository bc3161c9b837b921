"""Per-message Big-Five indicators from LIWC-style word classes.

One message says little about personality, so each indicator moves at most `MAX_SHIFT` away
from 0.5, and `big_five_confidence` stays small (it grows with the number of words that
belong to a cue class, up to `MAX_CONFIDENCE`); the profile accumulates many messages.

Cue classes follow the correlations reported for LIWC categories (Pennebaker & King 1999;
Yarkoni 2010; Mairesse et al. 2007):

- openness: insight and tentative words ("think", "imagine", "maybe"), art and ideas, long
  words (+); first-person singular (-, weakly).
- conscientiousness: achievement and work words ("plan", "finish", "goal") (+); negations,
  swear words and negative emotion (-).
- extraversion: social words and first-person plural ("we", "friends", "party"), positive
  emotion and exclamation (+); tentative words (-).
- agreeableness: positive emotion, affiliation and courtesy ("thanks", "love", "agree") (+);
  swear words and anger words (-).
- neuroticism: anxiety, sadness and anger words, first-person singular, negations (+);
  positive emotion (-).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from personality.lexicons import word_set
from personality.signals import BIG_FIVE, clamp

MAX_SHIFT = 0.15
MAX_CONFIDENCE = 0.2
CONFIDENCE_PER_CUE = 0.02


WORD_CLASSES: Mapping[str, frozenset[str]] = {
    "insight": word_set(
        "think thought idea ideas imagine wonder curious understand realize realise believe "
        "consider meaning theory philosophy art music poetry book books novel creative "
        "explore learn learning interesting fascinating why how perhaps maybe possibly"
    ),
    "achievement": word_set(
        "plan plans planned goal goals finish finished complete completed work working "
        "organize organise organized schedule deadline achieve achieved success succeed "
        "task tasks done prepare prepared careful ready list order efficient"
    ),
    "social": word_set(
        "we us our friends friend party together everyone people guys team talk talked "
        "chat meet met hang fun family club dance celebrate social"
    ),
    "positive": word_set(
        "love loved happy glad great good nice awesome wonderful amazing excited enjoy "
        "enjoyed fun beautiful best thanks thank grateful appreciate agree kind sweet"
    ),
    "anger": word_set(
        "hate angry mad furious annoyed annoying irritated pissed stupid idiot rage "
        "fuck fucking shit damn crap"
    ),
    "anxiety": word_set(
        "worried worry worrying anxious nervous afraid scared fear stress stressed panic "
        "sad depressed lonely alone upset hurt cry crying tired exhausted hopeless lost"
    ),
    "first_singular": word_set("i me my mine myself i'm i've i'd i'll im"),
    "negation": word_set("no not never nothing nobody don't can't won't isn't didn't doesn't"),
}

# Indicator direction per word class: trait -> (class, weight) pairs.
CUES: Mapping[str, tuple[tuple[str, float], ...]] = {
    "openness": (("insight", 1.0), ("first_singular", -0.2)),
    "conscientiousness": (("achievement", 1.0), ("negation", -0.4), ("anger", -0.6)),
    "extraversion": (("social", 1.0), ("positive", 0.5)),
    "agreeableness": (("positive", 0.8), ("anger", -1.0)),
    "neuroticism": (("anxiety", 1.0), ("anger", 0.5), ("first_singular", 0.2)),
}


def big_five_indicators(words: Sequence[str]) -> tuple[dict[str, float], float]:
    """Per-trait indicators around 0.5 and the confidence they deserve."""
    counts = dict.fromkeys(WORD_CLASSES, 0)
    for word in words:
        for name, members in WORD_CLASSES.items():
            if word in members:
                counts[name] += 1
    informative = sum(count for name, count in counts.items() if name != "first_singular")
    scale = 1.0 / max(4, len(words))
    indicators = {}
    for trait in BIG_FIVE:
        evidence = sum(weight * counts[name] for name, weight in CUES[trait]) * scale
        indicators[trait] = clamp(0.5 + MAX_SHIFT * max(-1.0, min(1.0, 4.0 * evidence)))
    confidence = min(MAX_CONFIDENCE, CONFIDENCE_PER_CUE * informative)
    return indicators, confidence
