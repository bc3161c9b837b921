"""The async embedder: batching, errors and shutdown, with a fake model; then the real model."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.embedding import AsyncEmbedder, EmbeddedAnalysis
from personality.analysis import MessageAnalyzer
from personality.ports import Embedder
from tests.analysis_support import (
    FakeEmbedder,
    head_analyzer,
    lexicon_analyzer,
    sentence_embedder,
    unit_rows,
)

__all__ = ["head_analyzer", "lexicon_analyzer", "sentence_embedder"]


async def wait_started(fake: FakeEmbedder) -> None:
    await asyncio.get_running_loop().run_in_executor(None, fake.started.wait, 30)


async def test_concurrent_requests_share_a_batch() -> None:
    gate = threading.Event()
    fake = FakeEmbedder(gate=gate)
    async with AsyncEmbedder(fake, max_batch=8) as embedder:
        first = asyncio.create_task(embedder.embed_one("first"))
        await wait_started(fake)
        rest = [asyncio.create_task(embedder.embed_one(f"text {n}")) for n in range(5)]
        await asyncio.sleep(0)  # let the five enqueue before the worker takes the next batch
        gate.set()
        rows = await asyncio.gather(first, *rest)
    assert fake.batches == [["first"], [f"text {n}" for n in range(5)]]
    assert embedder.batches == 2
    for text, row in zip(["first"] + [f"text {n}" for n in range(5)], rows, strict=True):
        np.testing.assert_allclose(row, unit_rows([text], 384)[0])


async def test_batches_respect_the_maximum() -> None:
    gate = threading.Event()
    fake = FakeEmbedder(gate=gate)
    async with AsyncEmbedder(fake, max_batch=3) as embedder:
        first = asyncio.create_task(embedder.embed_one("a"))
        await wait_started(fake)
        rest = [asyncio.create_task(embedder.embed_one(str(n))) for n in range(7)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(first, *rest)
    assert [len(batch) for batch in fake.batches] == [1, 3, 3, 1]


async def test_embed_many_keeps_order() -> None:
    async with AsyncEmbedder(FakeEmbedder(dim=8)) as embedder:
        rows = await embedder.embed_many(["x", "y", "z"])
        empty = await embedder.embed_many([])
    np.testing.assert_allclose(rows, unit_rows(["x", "y", "z"], 8))
    assert empty.shape == (0, 8)


async def test_a_failed_batch_fails_its_callers_and_the_worker_goes_on() -> None:
    fake = FakeEmbedder(dim=4)
    async with AsyncEmbedder(fake) as embedder:
        fake.fail_with = ValueError("model broke")
        with pytest.raises(ValueError, match="model broke"):
            await embedder.embed_one("boom")
        fake.fail_with = None
        row = await embedder.embed_one("fine")
    assert row.shape == (4,)


async def test_close_fails_waiting_callers() -> None:
    gate = threading.Event()
    fake = FakeEmbedder(gate=gate)
    embedder = AsyncEmbedder(fake)
    await embedder.start()
    running = asyncio.create_task(embedder.embed_one("in flight"))
    await wait_started(fake)
    queued = asyncio.create_task(embedder.embed_one("queued"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(embedder.aclose())
    await asyncio.sleep(0)
    gate.set()
    await closing
    for task in (running, queued):
        with pytest.raises(RuntimeError, match="closed"):
            await task


async def test_embed_before_start_is_refused() -> None:
    with pytest.raises(RuntimeError, match="start"):
        await AsyncEmbedder(FakeEmbedder()).embed_one("x")


async def test_embedded_analysis_keeps_the_embedding(head_analyzer: MessageAnalyzer) -> None:
    async with AsyncEmbedder(FakeEmbedder()) as embedder:
        signals = await EmbeddedAnalysis(head_analyzer, embedder).analyse("hello there")
    assert signals.source == "model"
    assert signals.embedding is not None
    np.testing.assert_allclose(signals.embedding, unit_rows(["hello there"], 384)[0])


async def test_embedded_analysis_survives_a_broken_model(
    lexicon_analyzer: MessageAnalyzer,
) -> None:
    fake = FakeEmbedder()
    fake.fail_with = RuntimeError("out of memory")
    async with AsyncEmbedder(fake) as embedder:
        signals = await EmbeddedAnalysis(lexicon_analyzer, embedder).analyse("I love it")
    assert signals.source == "lexicon"
    assert signals.sentiment > 0


@pytest.mark.model
def test_the_real_model_embeds_offline(sentence_embedder: Embedder) -> None:
    texts = ["I am happy", "I am glad", "The train leaves at noon", "", "x\ud800\x00" * 50_000]
    rows = sentence_embedder.embed(texts)
    assert rows.shape == (5, sentence_embedder.dim) == (5, 384)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


@pytest.mark.model
@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("I've never been this sad in my life, I miss her so much", "sadness"),
        ("This is the best day ever, I'm so happy!", "joy"),
        ("I'm terrified of what the test results will say", "fear"),
        ("You lied to me again and I'm furious", "anger"),
    ],
)
def test_the_head_reads_clear_emotions(
    head_analyzer: MessageAnalyzer, sentence_embedder: Embedder, text: str, emotion: str
) -> None:
    signals = head_analyzer.analyse(text, sentence_embedder.embed([text])[0])
    assert signals.source == "model"
    assert signals.emotion == emotion
    if emotion == "sadness":
        assert signals.emotions["sadness"] > signals.emotions["joy"]
        assert signals.sentiment < 0


SAD_OPENERS = ["I feel", "I am", "I've been", "Honestly I'm", "Today I felt"]
SAD_WORDS = ["so sad", "heartbroken", "miserable", "devastated", "lonely and down"]
SAD_REASONS = [
    "since my dog died",
    "because I lost my job",
    "and I can't stop crying",
    "after she left me",
    "",
]


@pytest.mark.model
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    opener=st.sampled_from(SAD_OPENERS),
    word=st.sampled_from(SAD_WORDS),
    reason=st.sampled_from(SAD_REASONS),
)
def test_a_clearly_sad_sentence_reads_sadder_than_joyful(
    head_analyzer: MessageAnalyzer,
    sentence_embedder: Embedder,
    opener: str,
    word: str,
    reason: str,
) -> None:
    text = f"{opener} {word} {reason}".strip()
    signals = head_analyzer.analyse(text, sentence_embedder.embed([text])[0])
    assert signals.emotions["sadness"] > signals.emotions["joy"]
