"""The offline responder: an honest answer in the persona's voice when no model is reachable.

It reads only the `GenerationRequest` (traits, emotion, name, crisis flag) and says plainly
that it is in reduced mode. Wording is chosen from small phrase sets; the choice is a stable
hash of the request (or an injected `random.Random`), so the same request gives the same text.
"""

from __future__ import annotations

import random
import re
import time
import zlib

from bot.llm.types import Generation, GenerationRequest

_ACKNOWLEDGE: dict[str, tuple[str, ...]] = {
    "sadness": ("That sounds really heavy.", "I'm sorry you're going through this."),
    "fear": ("That sounds frightening.", "It makes sense to feel uneasy about that."),
    "anger": ("That sounds genuinely frustrating.", "I can hear how annoyed you are."),
    "disgust": ("That sounds unpleasant.", "I can see why that put you off."),
    "joy": ("That's lovely to hear", "What good news"),
    "surprise": ("That's quite a surprise", "Well, that's unexpected"),
    "neutral": ("Thanks for telling me.", "I hear you."),
}
_ACKNOWLEDGE_FORMAL: dict[str, str] = {
    "sadness": "I am sorry to hear that.",
    "fear": "I understand that this is worrying.",
    "anger": "I understand your frustration.",
    "disgust": "I understand why that was unpleasant.",
    "joy": "I am glad to hear it.",
    "surprise": "That is certainly unexpected.",
    "neutral": "Thank you for your message.",
}
_EMPATHY = (
    "Your feelings make sense, and I'm glad you told me.",
    "Whatever you're feeling right now is okay.",
)
_THANKS = re.compile(r"\b(thanks|thank you|thx|cheers)\b", re.IGNORECASE)
_QUESTION = "That's a good question, and it deserves a real answer."
_QUESTION_FORMAL = "Your question deserves a complete answer."
_HUMOR = (
    "My clever half is taking an unplanned nap.",
    "Think of me as running on spare batteries.",
)


def _reduced_notice(formal: bool, continuing: bool) -> str:
    if continuing:  # said in full on the first reply; a reminder is enough after that
        return "(Still in reduced mode: no language model is reachable.)"
    if formal:
        return (
            "Please note that I am currently in reduced mode: no language model is reachable, "
            "so I cannot give you a full answer right now."
        )
    return (
        "Heads-up: I'm in reduced mode right now (no language model is reachable), "
        "so I can't give you a proper answer yet."
    )


class OfflineResponder:
    """Implements `Generator` without any model."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng

    async def generate(self, request: GenerationRequest) -> Generation:
        started = time.perf_counter()
        text = self.compose(request)
        return Generation(
            text=text,
            provider="offline",
            latency_ms=(time.perf_counter() - started) * 1000.0,
            degraded=True,
        )

    async def aclose(self) -> None:
        return None

    def compose(self, request: GenerationRequest) -> str:
        traits = request.persona_traits
        formal = traits.get("formality", 0.5) >= 0.6
        warm = max(traits.get("empathy", 0.5), traits.get("agreeableness", 0.5)) >= 0.6
        lively = traits.get("enthusiasm", 0.5) >= 0.6
        pick = self._picker(request)
        name = request.user_display_name.strip()
        if request.crisis:
            return self._crisis(request, name, formal)
        emotion = request.emotion if request.emotion in _ACKNOWLEDGE else "neutral"
        continuing = any(message.role == "assistant" for message in request.messages)
        parts = [] if continuing else [self._greeting(name, formal, lively)]
        if _THANKS.search(request.user_text):
            parts.append("You are most welcome." if formal else "You're welcome!")
        elif formal:
            parts.append(_ACKNOWLEDGE_FORMAL[emotion])
        else:
            line = pick(_ACKNOWLEDGE[emotion])
            if emotion in ("joy", "surprise"):
                line += "!" if lively else "."
            parts.append(line)
        distressed = emotion in ("sadness", "fear", "anger", "disgust")
        if warm and distressed:
            parts.append(pick(_EMPATHY))
        if request.user_text.rstrip().endswith("?"):
            parts.append(_QUESTION_FORMAL if formal else _QUESTION)
            if request.memories:
                parts.append(f"What I remember that may help: {request.memories[0]}")
        parts.append(_reduced_notice(formal, continuing))
        if traits.get("humor", 0.5) >= 0.6 and not distressed and not formal:
            parts.append(pick(_HUMOR))
        if not continuing:
            parts.append(self._closing(formal, warm))
        return " ".join(p for p in parts if p)

    def _picker(self, request: GenerationRequest) -> _Pick:
        if self._rng is not None:
            return _Pick(self._rng.randrange(1 << 30))
        key = f"{request.user_display_name}\0{request.user_text}\0{request.emotion}"
        return _Pick(zlib.crc32(key.encode("utf-8", "surrogatepass")))

    @staticmethod
    def _greeting(name: str, formal: bool, lively: bool) -> str:
        if formal:
            return f"Hello {name}." if name else "Hello."
        mark = "!" if lively else "."
        return f"Hi {name}{mark}" if name else f"Hi{mark}"

    @staticmethod
    def _closing(formal: bool, warm: bool) -> str:
        if formal:
            return "I will be able to respond properly once the service is restored."
        if warm:
            return "I'm still here, and I'll be back to my usual self soon. Keep talking to me."
        return "I'll be back to normal soon."

    @staticmethod
    def _crisis(request: GenerationRequest, name: str, formal: bool) -> str:
        opener = f"{name}, I" if name else "I"
        parts = [
            f"{opener}'m really glad you reached out, and I'm taking what you said seriously.",
            "You deserve support right now.",
        ]
        if request.crisis_text:
            parts.append(request.crisis_text)
        else:
            parts.append(
                "Please reach out now to someone you trust or your local emergency number."
            )
        parts.append(_reduced_notice(formal, continuing=False))
        return " ".join(parts)


class _Pick:
    """Chooses phrases from a seed: each call moves on, so lines don't all share one index."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def __call__(self, options: tuple[str, ...]) -> str:
        choice = options[self._seed % len(options)]
        self._seed = self._seed // len(options) + 1
        return choice
