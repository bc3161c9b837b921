from __future__ import annotations

import random

from bot.llm.offline import OfflineResponder
from bot.llm.types import ChatMessage, GenerationRequest
from personality.signals import TRAITS

BASE = dict.fromkeys(TRAITS, 0.5)


def request(**changes: object) -> GenerationRequest:
    traits = {**BASE, **changes.pop("traits", {})}  # type: ignore[dict-item]
    fields: dict[str, object] = {
        "messages": (ChatMessage("system", "be kind"), ChatMessage("user", "hello")),
        "persona_name": "companion",
        "persona_traits": traits,
        "user_display_name": "Alice",
        "user_text": "hello",
        **changes,
    }
    return GenerationRequest(**fields)  # type: ignore[arg-type]


async def test_says_it_is_in_reduced_mode_and_uses_the_name() -> None:
    generation = await OfflineResponder().generate(request())
    assert generation.provider == "offline"
    assert generation.degraded
    assert "reduced mode" in generation.text
    assert "no language model is reachable" in generation.text
    assert "Alice" in generation.text


async def test_crisis_answer_carries_the_crisis_text_and_never_jokes() -> None:
    hotline = "Call 988 now."
    text = OfflineResponder().compose(
        request(crisis=True, crisis_text=hotline, emotion="sadness", traits={"humor": 1.0})
    )
    assert hotline in text
    assert "reduced mode" in text
    assert "nap" not in text and "batteries" not in text


def test_humor_shows_only_when_the_persona_is_funny_and_the_user_is_not_distressed() -> None:
    responder = OfflineResponder()
    funny = request(traits={"humor": 0.9}, emotion="joy")
    sad = request(traits={"humor": 0.9}, emotion="sadness")
    plain = request(traits={"humor": 0.1}, emotion="joy")
    jokes = ("nap", "batteries")
    assert any(j in responder.compose(funny) for j in jokes)
    assert not any(j in responder.compose(sad) for j in jokes)
    assert not any(j in responder.compose(plain) for j in jokes)


def test_formality_and_empathy_shape_the_wording() -> None:
    responder = OfflineResponder()
    formal = responder.compose(request(traits={"formality": 0.9}, emotion="sadness"))
    casual_warm = responder.compose(
        request(traits={"formality": 0.1, "empathy": 0.9}, emotion="sadness")
    )
    assert formal.startswith("Hello Alice.")
    assert "I'm" not in formal and "I am" in formal
    assert casual_warm.startswith("Hi Alice")
    assert "feeling" in casual_warm or "feelings" in casual_warm


def test_deterministic_for_the_same_request_and_with_a_seeded_rng() -> None:
    req = request(emotion="joy", traits={"humor": 0.9})
    assert OfflineResponder().compose(req) == OfflineResponder().compose(req)
    seeded = [OfflineResponder(random.Random(7)).compose(req) for _ in range(2)]
    assert seeded[0] == seeded[1]


def test_unknown_emotion_and_missing_name_still_answer() -> None:
    text = OfflineResponder().compose(request(emotion="confusion", user_display_name=" "))
    assert text.startswith("Hi")
    assert "reduced mode" in text


def test_later_turns_skip_the_greeting_and_shorten_the_notice() -> None:
    history = (
        ChatMessage("system", "be kind"),
        ChatMessage("user", "hello"),
        ChatMessage("assistant", "Hi Alice."),
        ChatMessage("user", "how do I plan my week?"),
    )
    first = OfflineResponder().compose(request())
    later = OfflineResponder().compose(
        request(messages=history, user_text="how do I plan my week?")
    )
    assert first.startswith("Hi Alice")
    assert not later.startswith("Hi")
    assert "Still in reduced mode" in later
    assert len(later) < len(first)
    assert "good question" in later


def test_thanks_are_answered_as_thanks() -> None:
    casual = OfflineResponder().compose(request(user_text="thanks, that helps", emotion="joy"))
    formal = OfflineResponder().compose(
        request(user_text="Thank you. Kind regards.", emotion="joy", traits={"formality": 0.9})
    )
    assert "You're welcome" in casual and "good news" not in casual
    assert "You are most welcome" in formal


def test_a_question_gets_the_best_recalled_memory() -> None:
    text = OfflineResponder().compose(
        request(user_text="what was her name?", memories=("her name was Rosa", "I'm a nurse"))
    )
    assert "her name was Rosa" in text
    assert "nurse" not in text
