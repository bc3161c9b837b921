"""Fixtures for the analysis tests: analyzers, fake embedders and the shared data folder."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from personality.analysis import MessageAnalyzer
from personality.emotion import DEFAULT_PATH
from personality.ports import Embedder

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(folder: str) -> Path:
    """`../shared/data/<folder>`, or skip the test when it is not there."""
    path = SHARED_DATA / folder
    if not path.is_dir():
        pytest.skip(f"reference data folder {path} is absent")
    return path


def unit_rows(texts: Sequence[str], dim: int) -> npt.NDArray[np.float32]:
    """Deterministic pseudo-embeddings: one L2-normalised row per text, seeded by the text."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    seeds = [zlib.crc32(text.encode("utf-8", "surrogatepass")) for text in texts]
    rows = np.stack([np.random.default_rng(seed).standard_normal(dim) for seed in seeds])
    unit: npt.NDArray[np.float32] = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(
        np.float32
    )
    return unit


class FakeEmbedder:
    """An `Embedder` that records its batches; `gate` (when set) holds each call until opened."""

    def __init__(self, dim: int = 384, gate: threading.Event | None = None) -> None:
        self.dim = dim
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self._gate = gate
        self.fail_with: Exception | None = None

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches.append(list(texts))
        self.started.set()
        if self._gate is not None:
            self._gate.wait(timeout=30)
        if self.fail_with is not None:
            raise self.fail_with
        return unit_rows(texts, self.dim)


@pytest.fixture(scope="session")
def lexicon_analyzer() -> MessageAnalyzer:
    return MessageAnalyzer.load(None)


@pytest.fixture(scope="session")
def head_analyzer() -> MessageAnalyzer:
    if not DEFAULT_PATH.is_file():
        pytest.skip(f"no trained emotion head at {DEFAULT_PATH}")
    return MessageAnalyzer.load()


@pytest.fixture(scope="session")
def sentence_embedder() -> Embedder:
    from bot.embedding import SentenceEmbedder

    return SentenceEmbedder()
