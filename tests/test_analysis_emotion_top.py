"""The fine-tuned emotion layers: exact copy of the model's layers, one-pass encoding, the
file format, training on a tiny set, and how the analysis uses their probabilities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.embedding import AsyncEmbedder, EmbeddedAnalysis, Encoded, SentenceEmbedder
from bot.emotion_layers import EmotionTop
from bot.emotion_top_training import TopConfig, train_emotion_top
from personality.analysis import MessageAnalyzer
from personality.emotion import TOP_PATH
from personality.signals import EMOTIONS
from tests.analysis_support import FakeEmbedder, head_analyzer, lexicon_analyzer, unit_rows

__all__ = ["head_analyzer", "lexicon_analyzer"]

TEXTS = ["I am so happy today!", "ugh, this is awful", "The bus leaves at noon.", ""]


@pytest.fixture(scope="module")
def base_embedder() -> SentenceEmbedder:
    return SentenceEmbedder(emotion_top=None)


def identity_top(embedder: SentenceEmbedder, first_layer: int) -> EmotionTop:
    """An untrained top whose 'logits' are the first 7 dimensions of the pooled output."""
    import torch

    top = EmotionTop.from_model(embedder.model, first_layer)
    top.params["head.weight"] = torch.eye(len(EMOTIONS), embedder.dim)
    return top


@pytest.mark.model
@pytest.mark.parametrize("first_layer", [4, 5])
def test_copied_layers_reproduce_the_sentence_model(
    base_embedder: SentenceEmbedder, first_layer: int
) -> None:
    import torch

    states, mask = base_embedder.layer_states(TEXTS, first_layer, 256)
    logits = identity_top(base_embedder, first_layer).logits(states, mask)
    final, _ = base_embedder.layer_states(TEXTS, 6, 256)
    weights = mask.unsqueeze(-1).float()
    pooled = (final * weights).sum(dim=1) / weights.sum(dim=1)
    torch.testing.assert_close(logits, pooled[:, : len(EMOTIONS)], atol=1e-4, rtol=1e-4)


@pytest.mark.model
def test_encoding_keeps_the_embedding_exact_and_adds_probabilities(
    base_embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "top.safetensors"
    identity_top(base_embedder, 4).save(path)
    tuned = SentenceEmbedder(emotion_top=path)
    encoded = tuned.encode(TEXTS)
    assert np.array_equal(encoded.embeddings, base_embedder.embed(TEXTS))
    assert encoded.emotions is not None
    assert encoded.emotions.shape == (len(TEXTS), len(EMOTIONS))
    np.testing.assert_allclose(encoded.emotions.sum(axis=1), 1.0, atol=1e-5)
    assert tuned.encode(TEXTS, emotions=False).emotions is None
    assert base_embedder.encode(TEXTS).emotions is None
    empty = tuned.encode([])
    assert empty.embeddings.shape == (0, 384)
    assert empty.emotions is not None and empty.emotions.shape == (0, len(EMOTIONS))


@pytest.mark.model
def test_the_file_round_trips_in_half_precision(
    base_embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    import torch

    top = identity_top(base_embedder, 5)
    top.metadata["note"] = "kept"
    top.save(tmp_path / "top.safetensors")
    loaded = EmotionTop.load(tmp_path / "top.safetensors")
    assert (loaded.first_layer, loaded.heads, loaded.depth) == (5, 12, 1)
    assert loaded.metadata["note"] == "kept"
    states, mask = base_embedder.layer_states(TEXTS, 5, 64)
    torch.testing.assert_close(
        loaded.logits(states, mask), top.logits(states, mask), atol=5e-3, rtol=5e-3
    )


def test_a_file_with_other_labels_is_refused(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "top.safetensors"
    settings = {"first_layer": 5, "heads": 12, "eps": 1e-12, "labels": ["a", "b"]}
    save_file({"head.bias": torch.zeros(2)}, str(path), metadata={"attune": json.dumps(settings)})
    with pytest.raises(ValueError, match="labels"):
        EmotionTop.load(path)


PHRASES = {
    0: "I am furious and angry at you",
    2: "I am scared and afraid",
    3: "I am so happy and glad",
    5: "I am sad and miss her",
}


def write_dataset(folder: Path) -> Path:
    folder.mkdir()
    (folder / "labels.txt").write_text("\n".join(EMOTIONS) + "\n", encoding="utf-8")
    for split, copies in (("train", 12), ("dev", 2)):
        lines = [
            f"{text} {n}\t{label}\tid{n}" for n in range(copies) for label, text in PHRASES.items()
        ]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.model
def test_training_learns_saves_and_is_reproducible(
    base_embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    data = write_dataset(tmp_path / "goemotions")
    config = TopConfig(
        first_layer=5,
        epochs=4,
        learning_rate=3e-4,
        head_learning_rate=1e-2,
        warmup_steps=1,
        batch_size=8,
        evaluations_per_epoch=1,
    )
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / f"top-{run}.safetensors"
        report = train_emotion_top(
            data, out, cache_dir=tmp_path / "cache", config=config, embedder=base_embedder
        )
        outputs.append(out.read_bytes())
        assert report["dev_rows"] == 8
        assert len(report["evaluations"]) == 4
    assert outputs[0] == outputs[1]
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
    assert report["dev_macro_f1"] >= 0.5
    assert report["per_class_f1"]["joy"] > 0
    top = EmotionTop.load(tmp_path / "top-a.safetensors")
    assert top.metadata["dev_macro_f1"] == report["dev_macro_f1"]
    assert top.metadata["config"]["first_layer"] == 5


class EmotionFake(FakeEmbedder):
    """An `EmotionEncoder` fake: joy for texts with 'happy', sadness otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.wanted: list[bool] = []

    def encode(self, texts: Sequence[str], *, emotions: bool = True) -> Encoded:
        self.wanted.append(emotions)
        probabilities: npt.NDArray[np.float32] = np.zeros((len(texts), 7), dtype=np.float32)
        for index, text in enumerate(texts):
            probabilities[index, EMOTIONS.index("joy" if "happy" in text else "sadness")] = 1.0
        return Encoded(self.embed(texts), probabilities if emotions else None)


async def test_encode_one_returns_the_emotions_and_embed_one_skips_them() -> None:
    fake = EmotionFake()
    async with AsyncEmbedder(fake) as embedder:
        embedding, emotions = await embedder.encode_one("so happy")
        plain = await embedder.embed_one("so happy")
    np.testing.assert_array_equal(embedding, plain)
    assert emotions is not None and emotions[EMOTIONS.index("joy")] == 1.0
    assert fake.wanted == [True, False]


async def test_encode_one_without_emotion_layers_gives_none() -> None:
    async with AsyncEmbedder(FakeEmbedder()) as embedder:
        embedding, emotions = await embedder.encode_one("hello")
    assert emotions is None
    np.testing.assert_allclose(embedding, unit_rows(["hello"], 384)[0])


async def test_embedded_analysis_uses_the_layers_probabilities(
    head_analyzer: MessageAnalyzer,
) -> None:
    async with AsyncEmbedder(EmotionFake()) as embedder:
        analysis = EmbeddedAnalysis(head_analyzer, embedder)
        happy, sad = await analysis.analyse("I am happy"), await analysis.analyse("a day")
    assert (happy.source, happy.emotion, happy.emotions["joy"]) == ("model", "joy", 1.0)
    assert sad.emotion == "sadness"
    assert sad.sentiment < happy.sentiment
    assert happy.embedding is not None


@pytest.mark.parametrize(
    "probabilities",
    [[0.5] * 3, [float("nan")] * 7, [-1.0, 2.0, 0, 0, 0, 0, 0], [0.0] * 7],
)
def test_unusable_probabilities_fall_back(
    lexicon_analyzer: MessageAnalyzer, probabilities: list[float]
) -> None:
    row = np.asarray(probabilities, dtype=np.float32)
    signals = lexicon_analyzer.analyse("I love this", None, row)
    assert signals.source == "lexicon"
    assert all(0.0 <= value <= 1.0 for value in signals.emotions.values())


def test_probabilities_without_an_embedding_are_used_and_normalised(
    lexicon_analyzer: MessageAnalyzer,
) -> None:
    row = np.asarray([0, 0, 2.0, 0, 0, 2.0, 0], dtype=np.float32)
    signals = lexicon_analyzer.analyse("hm", None, row)
    assert signals.source == "model"
    assert signals.emotions["fear"] == signals.emotions["sadness"] == 0.5


@pytest.fixture(scope="module")
def tuned_embedder() -> SentenceEmbedder:
    if not TOP_PATH.is_file():
        pytest.skip(f"no fine-tuned emotion layers at {TOP_PATH}")
    return SentenceEmbedder()


@pytest.mark.model
@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("I've never been this sad in my life, I miss her so much", "sadness"),
        ("This is the best day ever, I'm so happy!", "joy"),
        ("I'm terrified of what the test results will say", "fear"),
        ("You lied to me again and I'm furious", "anger"),
        ("that's disgusting", "disgust"),
        ("The bus leaves at noon.", "neutral"),
    ],
)
def test_the_shipped_layers_read_clear_emotions(
    tuned_embedder: SentenceEmbedder,
    head_analyzer: MessageAnalyzer,
    text: str,
    emotion: str,
) -> None:
    encoded = tuned_embedder.encode([text])
    assert encoded.emotions is not None
    signals = head_analyzer.analyse(text, encoded.embeddings[0], encoded.emotions[0])
    assert (signals.source, signals.emotion) == ("model", emotion)
