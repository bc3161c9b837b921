"""Detecting self-harm and suicide risk in a message.

A miss costs far more than a false alarm (a false alarm only adds a help-line text to a kind
reply), so the phrase list is broad and the exceptions are narrow:

- a negation in the same clause at most three words before the phrase ("I'm not suicidal",
  "I would never kill myself") suppresses it; phrases that carry their own negation
  ("don't want to live") are never suppressed that way;
- a phrase inside a short quotation without first-person words is a title or a mention
  ('the song "Suicide"'), not the author speaking; a quoted first-person statement still
  counts ('she said "I want to kill myself"' may be a friend at risk);
- a few fixed idioms ("suicide squad", "suicide doors") are ignored.
"""

from __future__ import annotations

import re

_PHRASES = (
    r"kill(?:ing)? my ?self",
    r"end(?:ing)? (?:my|it) (?:own )?life",
    r"take (?:my|my own) life",
    r"taking my (?:own )?life",
    r"end(?:ing)? it all",
    r"suicid(?:e|al)",
    r"(?:want|wanna|going|gonna|ready|planning|plan) (?:to )?die",
    r"wish (?:i|i'd|id) (?:was|were|had) (?:dead|never been born)",
    r"(?:don't|dont|do not) want to (?:live|be alive|exist|be here anymore|wake up)",
    r"no (?:longer )?(?:reason|point) (?:to|in) (?:live|living|going on)",
    r"(?:not|isn't) worth living",
    r"better off (?:dead|without me)",
    r"nothing (?:left )?to live for",
    r"(?:no one|nobody) would (?:miss me|care if i died)",
    r"can't go on",
    r"(?:hurt|harm|cut|cutting|hurting|harming|burn|burning) my ?self",
    r"self[- ]?harm(?:ing)?",
    r"over ?dos(?:e|ing)",
    r"hang(?:ing)? my ?self",
    r"jump(?:ing)? off (?:a|the) (?:bridge|building|roof)",
    r"unalive my ?self",
    r"kms",
    # a few of the commonest phrasings in other languages, never suppressed by a negation
    # rule (which is English-only): es, pt, fr, de, it
    r"quiero morir(?:me)?",
    r"suicidarme",
    r"matarme",
    r"quero morrer",
    r"me matar",
    r"(?:veux|envie de) mourir",
    r"me suicider",
    r"me tuer",
    r"(?:will|möchte) sterben",
    r"mich umbringen",
    r"voglio morire",
    r"uccidermi",
)
_PATTERN = re.compile(r"\b(?:" + "|".join(_PHRASES) + r")\b", re.IGNORECASE)
_SELF_NEGATED = re.compile(
    r"^(?:don't|dont|do not|no |not |isn't|can't|nothing|nobody)", re.IGNORECASE
)
_IDIOMS = re.compile(
    r"\bsuicide (?:squad|doors?|mission|bomb(?:er|ers|ing)?|king|blonde)\b", re.IGNORECASE
)
_NEGATIONS = frozenset(
    {"not", "never", "no", "don't", "dont", "won't", "wont", "wouldn't", "wouldnt", "isn't"}
    | {"aren't", "ain't", "nobody", "nothing", "didn't", "didnt", "cannot", "can't", "cant"}
)
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n]|\bbut\b|\bbecause\b|\bcause\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"\n]{1,80}\"|“[^”\n]{1,80}”|'[^'\n]{1,80}'(?!\w)")
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|i'm|im|i've|i'd)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")


def detect_crisis(text: str) -> bool:
    """True when `text` signals self-harm or suicide risk (see the module notes)."""
    normalised = text.replace("’", "'")
    for match in _PATTERN.finditer(normalised):
        if _is_idiom(normalised, match.start()):
            continue
        if _in_mention_quote(normalised, match.start(), match.end()):
            continue
        if not _SELF_NEGATED.match(match.group()) and _negated(normalised[: match.start()]):
            continue
        return True
    return False


def _is_idiom(text: str, start: int) -> bool:
    idiom = _IDIOMS.match(text, start)
    return idiom is not None


def _negated(before: str) -> bool:
    clause = _CLAUSE_BREAK.split(before)[-1]
    return any(word.lower() in _NEGATIONS for word in _WORD.findall(clause)[-3:])


def _in_mention_quote(text: str, start: int, end: int) -> bool:
    for quote in _QUOTED.finditer(text):
        if quote.start() < start and end < quote.end():
            return _FIRST_PERSON.search(quote.group()) is None
    return False
