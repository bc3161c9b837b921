"""The pure memory policy: cues, bounds, near-duplicates and ranking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personality.memory import (
    DAY_S,
    DUPLICATE_THRESHOLD,
    MemoryMatrix,
    RecallPolicy,
    bounded,
    estimate_tokens,
    extract,
    find_duplicate,
    has_words,
    rank,
)
from tests.memory_support import at_cosine, unit

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I'm a nurse", "fact"),
        ("my sister Ana is getting married in May", "fact"),
        ("I work at a hospital downtown", "fact"),
        ("I have two cats named Tom and Jerry", "fact"),
        ("My name is Priya", "fact"),
        ("I love hiking in the mountains", "preference"),
        ("My favourite food is sushi", "preference"),
        ("I can't stand loud music", "preference"),
        ("I'm going to Paris next week", "plan"),
        ("I plan to learn the piano", "plan"),
        ("remember that my locker code is 4412", "explicit"),
        ("Please don't forget: Ana's wedding is on May 3rd", "explicit"),
    ],
)
def test_documented_cues_are_remembered(text: str, kind: str) -> None:
    (candidate,) = extract(text, 1000)
    assert candidate.kind == kind
    assert candidate.pinned == (kind == "explicit")


@pytest.mark.parametrize(
    "text",
    [
        "I'm tired",
        "what is the capital of France?",
        "do you like cats?",
        "lol ok",
        "the weather is nice today",
        "",
        "😀😀😀",
        "remember 🎉🎉",
    ],
)
def test_small_talk_questions_and_emoji_are_not_remembered(text: str) -> None:
    assert extract(text, 1000) == []


def test_only_the_memorable_sentence_of_a_message_is_kept() -> None:
    candidates = extract("Hi there! I'm a nurse. How are you today?", 1000)
    assert [c.text for c in candidates] == ["I'm a nurse."]


def test_hostile_input_yields_few_bounded_candidates() -> None:
    candidates = extract("I'm a " + "nurse" * 20_000 + ". " + "I'm a nurse. " * 5_000, 1000)
    assert len(candidates) == 5
    assert all(len(c.text) <= 1000 for c in candidates)
    assert extract("I'm " + "9ty" * 40_000, 1000) == []


def test_explicit_memory_keeps_what_follows_the_cue() -> None:
    (candidate,) = extract("Remember that my locker code is 4412", 1000)
    assert candidate.text == "my locker code is 4412"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("I'm going to the dentist tomorrow", 2),
        ("I'm flying to Lisbon tonight", 1),
        ("I'm moving flats next week", 14),
        ("I'm starting a new job next month", 60),
        ("I plan to learn the piano", 90),
    ],
)
def test_plans_with_a_near_time_expire(text: str, days: int) -> None:
    (candidate,) = extract(text, 1000)
    assert candidate.expires_in_s == days * DAY_S


def test_facts_never_expire() -> None:
    (candidate,) = extract("I'm a nurse", 1000)
    assert candidate.expires_in_s is None


def test_bounded_cuts_long_text_at_a_word_boundary() -> None:
    text, cut = bounded("word " * 20_000, 1000)
    assert cut
    assert len(text) <= 1000
    assert text.endswith("word")
    assert bounded("short  text\n", 1000) == ("short text", False)


def test_bounded_removes_control_characters_and_lone_surrogates() -> None:
    text, _ = bounded("I'm a\x00 nurse\ud800", 1000)
    assert "\x00" not in text
    text.encode("utf-8")


def test_has_words() -> None:
    assert has_words("I'm 30")
    assert has_words("7")
    assert not has_words("🎉 🙂 !!")
    assert not has_words("   ")


def _matrix(
    vectors: list[np.ndarray],
    *,
    importance: list[float] | None = None,
    touched: list[float] | None = None,
    expires: list[float] | None = None,
    chars: list[int] | None = None,
    pinned: list[bool] | None = None,
) -> MemoryMatrix:
    n = len(vectors)
    return MemoryMatrix(
        np.arange(1, n + 1, dtype=np.int64),
        np.stack(vectors).astype(np.float32),
        np.array(importance or [0.5] * n, np.float32),
        np.array(touched or [NOW] * n, np.float64),
        np.array(expires or [np.inf] * n, np.float64),
        np.array(chars or [40] * n, np.int32),
        np.array(pinned or [False] * n, np.bool_),
    )


def test_near_duplicate_is_found_above_the_threshold_only() -> None:
    base = unit(1)
    matrix = _matrix([base, unit(2)])
    assert find_duplicate(matrix, at_cosine(base, DUPLICATE_THRESHOLD + 0.01, 3), NOW) == 1
    assert find_duplicate(matrix, at_cosine(base, DUPLICATE_THRESHOLD - 0.05, 3), NOW) is None
    assert find_duplicate(MemoryMatrix.empty(), base, NOW) is None


def test_an_expired_memory_is_not_a_duplicate() -> None:
    base = unit(1)
    matrix = _matrix([base], expires=[NOW - 1])
    assert find_duplicate(matrix, base, NOW) is None


def test_rank_orders_by_similarity_and_drops_below_the_floor() -> None:
    query = unit(0)
    matrix = _matrix(
        [at_cosine(query, 0.5, 1), at_cosine(query, 0.9, 2), at_cosine(query, 0.2, 3)]
    )
    ranked = rank(matrix, query, NOW, RecallPolicy(similarity_floor=0.35))
    assert [r.id for r in ranked] == [2, 1]
    assert ranked[0].similarity == pytest.approx(0.9, abs=1e-5)


def test_recency_and_importance_break_near_ties() -> None:
    query = unit(0)
    same = [at_cosine(query, 0.6, 1), at_cosine(query, 0.6, 2), at_cosine(query, 0.6, 3)]
    matrix = _matrix(
        same,
        importance=[0.5, 0.5, 0.9],
        touched=[NOW - 90 * DAY_S, NOW, NOW - 90 * DAY_S],
    )
    assert [r.id for r in rank(matrix, query, NOW, RecallPolicy())] == [2, 3, 1]


def test_pinned_memories_do_not_decay() -> None:
    query = unit(0)
    same = [at_cosine(query, 0.6, 1), at_cosine(query, 0.6, 2)]
    matrix = _matrix(same, touched=[NOW - 365 * DAY_S, NOW - DAY_S], pinned=[True, False])
    assert rank(matrix, query, NOW, RecallPolicy())[0].id == 1


def test_expired_memories_are_never_ranked() -> None:
    query = unit(0)
    matrix = _matrix([query, at_cosine(query, 0.8, 1)], expires=[NOW, NOW + 1])
    assert [r.id for r in rank(matrix, query, NOW, RecallPolicy())] == [2]


def test_token_budget_skips_what_does_not_fit_and_keeps_shorter_ones() -> None:
    query = unit(0)
    matrix = _matrix(
        [at_cosine(query, c, i) for i, c in enumerate((0.9, 0.8, 0.7), start=1)],
        chars=[400, 1000, 100],
    )
    budget = estimate_tokens(400) + estimate_tokens(100)
    ranked = rank(matrix, query, NOW, RecallPolicy(token_budget=budget))
    assert [r.id for r in ranked] == [1, 3]


def test_matrix_bytes_round_trip() -> None:
    matrix = _matrix([unit(1), unit(2)], expires=[np.inf, NOW + 5], pinned=[True, False])
    again = MemoryMatrix.from_bytes(matrix.to_bytes())
    for name in ("ids", "embeddings", "importance", "touched_at", "expires_at", "chars", "pinned"):
        np.testing.assert_array_equal(getattr(again, name), getattr(matrix, name))
    assert len(MemoryMatrix.from_bytes(MemoryMatrix.empty().to_bytes())) == 0
    with pytest.raises(ValueError, match="memory matrix"):
        MemoryMatrix.from_bytes(b"nope" + bytes(8))


@settings(max_examples=60, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=40),
    top_k=st.integers(0, 8),
    budget=st.integers(0, 600),
    floor=st.floats(-1.0, 1.0),
    chars=st.integers(1, 1000),
    expiry_offset=st.floats(-10.0, 10.0),
)
def test_rank_respects_every_bound(
    seeds: list[int], top_k: int, budget: int, floor: float, chars: int, expiry_offset: float
) -> None:
    query = unit(99_999)
    n = len(seeds)
    matrix = _matrix(
        [unit(s) for s in seeds],
        chars=[chars] * n,
        expires=[NOW + expiry_offset if i % 2 else np.inf for i in range(n)],
    )
    ranked = rank(matrix, query, NOW, RecallPolicy(top_k, budget, floor))
    assert len(ranked) <= top_k
    assert sum(estimate_tokens(chars) for _ in ranked) <= budget
    assert all(r.similarity >= floor - 1e-6 and r.expires_at > NOW for r in ranked)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
