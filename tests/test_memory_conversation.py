"""A scripted 30-turn conversation with the real sentence model: a fact told in turn 2 comes
back in turn 30 for a related question, and an unrelated question recalls nothing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from bot.cache import MemoryCache
from bot.memory_service import MemoryService
from bot.storage.db import Database
from bot.storage.memories import MemoryStore
from personality.memory import RecallPolicy
from tests.clocks import FakeClock
from tests.memory_support import add_user

pytestmark = pytest.mark.model

FACT = "My sister Ana is getting married in May."
TURNS = [
    "Hi there!",
    FACT,
    "I'm a nurse.",
    "Work was exhausting today.",
    "I love hiking in the mountains.",
    "What do you think about rainy weekends?",
    "I have a cat called Miso.",
    "She knocked a glass off the table this morning.",
    "haha yes",
    "My favourite food is ramen.",
    "Do you know any good ramen recipes?",
    "I live in Leeds.",
    "The buses here are always late.",
    "I'm going to start learning Spanish next month.",
    "Any tips for learning vocabulary?",
    "ok thanks",
    "I work night shifts at the hospital.",
    "Sleeping during the day is hard.",
    "What helps with jet lag?",
    "lol",
    "I can't stand loud music.",
    "My neighbours had a party last night.",
    "How do I ask them politely to be quieter?",
    "good idea",
    "I prefer tea over coffee.",
    "What is a good green tea?",
    "thanks!",
    "I'm a big fan of sci-fi books.",
    "Can you recommend one?",
    "Any ideas for a wedding gift for my sister?",
]
REMEMBERED = [TURNS[i] for i in (1, 2, 4, 6, 9, 11, 13, 16, 20, 24, 27)]
"""The facts, preferences and plans in the script; the rest is small talk and questions."""


class _Model:
    """The real all-MiniLM-L6-v2, loaded once for this module."""

    def __init__(self) -> None:
        try:
            from bot.embedding import SentenceEmbedder  # heavy: imported only for this test
        except ImportError as exc:
            pytest.skip(f"sentence model unavailable: {exc}")
        try:
            self.embedder = SentenceEmbedder()
        except Exception as exc:  # a missing model folder must skip, not fail, the run
            pytest.skip(f"sentence model could not be loaded: {exc}")

    async def embed_one(self, text: str) -> npt.NDArray[np.float32]:
        row: npt.NDArray[np.float32] = self.embedder.embed([text])[0]
        return row


@pytest.fixture(scope="module")
def model() -> Iterator[_Model]:
    yield _Model()


async def test_turn_two_fact_is_recalled_in_turn_thirty(db: Database, model: _Model) -> None:
    clock = FakeClock()
    service = MemoryService(
        MemoryStore(db), MemoryCache(clock=clock), model, policy=RecallPolicy(), clock=clock
    )
    user = await add_user(db, "alice")
    recalled: list[list[str]] = []
    embeddings = model.embedder.embed(TURNS)
    for text, embedding in zip(TURNS, embeddings, strict=True):
        recalled.append([m.text for m in await service.recall(user, embedding)])
        await service.observe(user, text, embedding)
        clock.advance(60)
    assert recalled[1] == []
    assert FACT in recalled[29]
    assert recalled[29][0] == FACT
    unrelated = await model.embed_one("What's the boiling point of water at sea level?")
    assert await service.recall(user, unrelated) == []
    stored = {m.text for m in await service.listing(user, 100)}
    assert stored == set(REMEMBERED)
