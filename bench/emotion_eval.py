"""Sentiment quality: Pearson r of `sentiment` against the VADER ground-truth ratings.

Run: .venv/bin/python bench/emotion_eval.py [--cache DIR]

For each of the Amazon, movie and NYT files in ../shared/data/vader/ it prints r for VADER's
compound alone (the baseline) and for the compound blended with the emotion head's valence
at several weights (`personality.analysis.blend_sentiment`); the weight in use is
`SENTIMENT_MODEL_WEIGHT`. Embeddings are cached in --cache (default data/cache).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.embedding import SentenceEmbedder  # noqa: E402
from personality.analysis import (  # noqa: E402
    SENTIMENT_MODEL_WEIGHT,
    MessageAnalyzer,
    blend_sentiment,
)

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)


def read_ground_truth(path: Path) -> tuple[list[str], np.ndarray]:
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            ratings.append(float(parts[1]))
            texts.append(parts[2])
    return texts, np.asarray(ratings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.parse_args()
    folder = ROOT.parent / "shared" / "data" / "vader"
    if not folder.is_dir():
        sys.exit(f"no reference data in {folder}")
    analyzer = MessageAnalyzer.load()
    embedder = functools.cache(SentenceEmbedder)
    report: dict[str, object] = {"weight_in_use": SENTIMENT_MODEL_WEIGHT}
    for path in sorted(folder.glob("*_GroundTruth.txt")):
        texts, ratings = read_ground_truth(path)
        name = path.name.split("_")[0]
        # The emotions come from the fine-tuned layers, as in the running bot (one pass gives
        # the embedding and the emotion probabilities).
        encoded = embedder().encode(texts)
        probs = encoded.emotions if encoded.emotions is not None else [None] * len(texts)
        signals = [
            analyzer.analyse(text, row, emotion_probs=p)
            for text, row, p in zip(texts, encoded.embeddings, probs, strict=True)
        ]
        compound = [analyzer.analyse(text).sentiment for text in texts]
        by_weight = {}
        for weight in WEIGHTS:
            blended = [
                blend_sentiment(c, s.emotions, weight)
                for c, s in zip(compound, signals, strict=True)
            ]
            by_weight[str(weight)] = round(float(np.corrcoef(blended, ratings)[0, 1]), 4)
        report[name] = {
            "rows": len(texts),
            "vader_only_r": by_weight["0.0"],
            "with_model_r": round(
                float(np.corrcoef([s.sentiment for s in signals], ratings)[0, 1]), 4
            ),
            "r_by_weight": by_weight,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
