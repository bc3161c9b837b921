"""`attune analyze` and `attune train-emotion`: auditing the analysis and training its head."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TextIO

from bot.embedding import EmotionEncoder, SentenceEmbedder
from bot.emotion_top_training import train_emotion_top
from bot.emotion_training import train_emotion
from personality.analysis import MessageAnalyzer
from personality.emotion import TOP_PATH
from personality.ports import Embedder

log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    """`../shared/data/goemotions` next to the project folder."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "goemotions"


def run_train_emotion(
    data: Path | None = None,
    out: Path | None = None,
    *,
    seed: int = 13,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """`attune train-emotion [--data DIR] [--out PATH]`: trains, saves, prints JSON metrics.

    Trains the fine-tuned emotion layers (default `out`: personality/models/
    emotion_top.safetensors); an `out` ending in .json trains the linear head on frozen
    embeddings instead (the fallback used when the layers file is absent)."""
    data_dir = data or default_data_dir()
    if not (data_dir / "train.tsv").is_file() or not (data_dir / "dev.tsv").is_file():
        print(f"train-emotion: no train.tsv and dev.tsv in {data_dir}", file=stderr)
        return 2
    target = out or TOP_PATH
    if target.suffix == ".json":
        report = train_emotion(data_dir, target, seed)
    else:
        report = train_emotion_top(data_dir, target, seed)
    print(json.dumps(report, indent=2), file=stdout)
    return 0


def load_analysis(with_model: bool = True) -> tuple[MessageAnalyzer, Embedder | None]:
    """The analyzer with its emotion head and the sentence embedder, or lexicons only."""
    if not with_model:
        return MessageAnalyzer.load(None), None
    return MessageAnalyzer.load(), SentenceEmbedder()


def run_analyze(
    analyzer: MessageAnalyzer,
    stdin: TextIO,
    stdout: TextIO,
    embedder: Embedder | None = None,
) -> int:
    """`attune analyze`: one JSON object (`text` + signals) per input line, in order."""
    for line in stdin:
        text = line.rstrip("\r\n")
        embedding = emotions = None
        if isinstance(embedder, EmotionEncoder):
            encoded = embedder.encode([text])
            embedding = encoded.embeddings[0]
            emotions = encoded.emotions[0] if encoded.emotions is not None else None
        elif embedder is not None:
            embedding = embedder.embed([text])[0]
        signals = analyzer.analyse(text, embedding, emotions)
        print(json.dumps({"text": text, **signals.to_json()}, ensure_ascii=False), file=stdout)
        stdout.flush()
    return 0
