"""Training the emotion head (on a tiny synthetic set), its file format, and the CLI entries."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.analysis_cli import run_analyze, run_train_emotion
from bot.emotion_training import (
    Fitted,
    HeadConfig,
    choose_head,
    f1_report,
    read_goemotions,
    train_emotion,
)
from personality.analysis import MessageAnalyzer
from personality.emotion import EmotionHead
from personality.lexicons import Lexicons
from personality.signals import EMOTIONS
from tests.analysis_support import FakeEmbedder, lexicon_analyzer, shared_data

__all__ = ["lexicon_analyzer"]

PHRASES = {
    0: "I am furious and angry at you",
    1: "that is disgusting and gross",
    2: "I am scared and afraid",
    3: "I am so happy and glad",
    4: "the bus comes at noon",
    5: "I am sad and miss her",
    6: "wow I did not expect that surprise",
}


def write_dataset(folder: Path) -> Path:
    folder.mkdir()
    (folder / "labels.txt").write_text("\n".join(EMOTIONS) + "\n", encoding="utf-8")
    for split, copies in (("train", 100), ("dev", 4)):
        lines = [
            f"{text} {n}\t{label}{',4' if n % 4 == 0 and label != 4 else ''}\tid{n}"
            for n in range(copies)
            for label, text in PHRASES.items()
        ]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


class TopicEmbedder(FakeEmbedder):
    """Embeds a phrase near its label's direction, so a head can learn the mapping."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for index, text in enumerate(texts):
            label = next(k for k, phrase in PHRASES.items() if text.startswith(phrase))
            rows[index, label] = 1.0
            rows[index, 10 + index % 5] = 0.3
        unit: npt.NDArray[np.float32] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit


TINY_SEARCH = (
    HeadConfig(hidden=0, weight_decay=1e-4, lexicon=False, balance=0.0, epochs=30),
    HeadConfig(hidden=16, weight_decay=1e-4, lexicon=True, balance=0.5, epochs=30),
)


def test_training_learns_saves_and_is_reproducible(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "goemotions")
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / f"head-{run}.json"
        report = train_emotion(
            data,
            out,
            seed=5,
            cache_dir=tmp_path / "cache",
            embedder=lambda: TopicEmbedder(dim=32),
            search=TINY_SEARCH,
        )
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    assert report["dev_macro_f1"] >= 0.9
    assert set(report["per_class_f1"]) == set(EMOTIONS)
    assert len(report["search"]) == 2
    assert 0.0 <= report["nrc_baseline"]["macro_f1"] <= 1.0
    head = EmotionHead.load(tmp_path / "head-a.json")
    dev = read_goemotions(data / "dev.tsv")
    lexicons = Lexicons()
    features = np.stack([lexicons.read(text).features() for text in dev.texts])
    probabilities = head.predict(TopicEmbedder(dim=32).embed(dev.texts), features)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    reloaded = f1_report(probabilities.argmax(axis=1), dev.first)
    assert reloaded["macro_f1"] == report["dev_macro_f1"]
    assert list((tmp_path / "cache").glob("goemotions-train-*.npy"))


def test_head_round_trips_through_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    head = EmotionHead(
        labels=EMOTIONS,
        layers=(
            (rng.standard_normal((5, 3)).astype(np.float32), np.zeros(3, np.float32)),
            (rng.standard_normal((3, 7)).astype(np.float32), np.ones(7, np.float32)),
        ),
        lexicon_mean=np.zeros(0, np.float32),
        lexicon_std=np.zeros(0, np.float32),
        metadata={"note": "test"},
    )
    head.save(tmp_path / "head.json")
    loaded = EmotionHead.load(tmp_path / "head.json")
    inputs = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(head.predict(inputs), loaded.predict(inputs))
    assert loaded.metadata == {"note": "test"}


def test_a_head_with_other_labels_is_refused(tmp_path: Path) -> None:
    raw = {"format": 1, "labels": ["happy", "sad"], "layers": []}
    with pytest.raises(ValueError, match="labels"):
        EmotionHead.from_json(raw)


def test_f1_report() -> None:
    gold = np.array([0, 0, 3, 4], dtype=np.int64)
    predicted = np.array([0, 3, 3, 4], dtype=np.int64)
    report = f1_report(predicted, gold)
    assert report["accuracy"] == 0.75
    assert report["per_class_f1"]["anger"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["per_class_f1"]["joy"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["per_class_f1"]["neutral"] == 1.0
    assert report["per_class_f1"]["fear"] == 0.0


def test_train_emotion_without_data_is_a_usage_error(tmp_path: Path) -> None:
    stderr = io.StringIO()
    assert run_train_emotion(tmp_path, tmp_path / "out.json", stderr=stderr) == 2
    assert "train.tsv" in stderr.getvalue()


def test_the_shared_goemotions_files_parse() -> None:
    rows = read_goemotions(shared_data("goemotions") / "dev.tsv")
    assert len(rows.texts) == 5426
    assert all(0 <= label < len(EMOTIONS) for row in rows.labels for label in row)


def test_analyze_prints_one_object_per_line(lexicon_analyzer: MessageAnalyzer) -> None:
    stdin = io.StringIO("I love you\n\nURGENT!!! help\r\nnul\x00\n")
    stdout = io.StringIO()
    assert run_analyze(lexicon_analyzer, stdin, stdout, FakeEmbedder()) == 0
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [line["text"] for line in lines] == ["I love you", "", "URGENT!!! help", "nul\x00"]
    assert lines[0]["sentiment"] > 0
    assert lines[2]["urgency"] > lines[0]["urgency"]
    assert all(set(line["emotions"]) == set(EMOTIONS) for line in lines)


def fitted(hidden: int, macro_f1: float) -> Fitted:
    config = HeadConfig(hidden=hidden, weight_decay=0.0, lexicon=False, balance=0.0)
    return Fitted(config, (), 1, {"macro_f1": macro_f1})


def test_a_hidden_layer_must_earn_its_size() -> None:
    assert choose_head([fitted(0, 0.50), fitted(256, 0.503)]).config.hidden == 0
    assert choose_head([fitted(0, 0.50), fitted(256, 0.52)]).config.hidden == 256
    assert choose_head([fitted(256, 0.40)]).config.hidden == 256
