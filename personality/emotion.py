"""The trained emotion head: sentence embedding (+ lexicon features) -> emotion probabilities.

The head is a softmax regression or a one-hidden-layer ReLU network trained by
`attune train-emotion`; its weights live in a small JSON file (float32 arrays in base64) and
run here with numpy, so inference needs no torch and takes microseconds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from personality.signals import EMOTIONS

FORMAT = 1
DEFAULT_PATH = Path(__file__).resolve().parent / "models" / "emotion_head.json"
TOP_PATH = Path(__file__).resolve().parent / "models" / "emotion_top.safetensors"
"""The fine-tuned top transformer layers + head (run by `bot.embedding`, which needs torch)."""

Array = npt.NDArray[np.float32]


def encode_array(array: npt.NDArray[Any]) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "f32": base64.b64encode(data.tobytes()).decode("ascii")}


def decode_array(blob: Mapping[str, Any]) -> Array:
    flat = np.frombuffer(base64.b64decode(blob["f32"]), dtype="<f4")
    return flat.reshape(tuple(int(n) for n in blob["shape"])).astype(np.float32)


@dataclass(frozen=True)
class EmotionHead:
    """Weights of a trained head. `layers` are (weight [in, out], bias [out]) pairs, ReLU
    between them; lexicon features are standardised with `lexicon_mean`/`lexicon_std` and
    appended to the embedding when `lexicon_mean` is not empty."""

    labels: tuple[str, ...]
    layers: tuple[tuple[Array, Array], ...]
    lexicon_mean: Array
    lexicon_std: Array
    metadata: Mapping[str, Any]

    @property
    def uses_lexicon(self) -> bool:
        return self.lexicon_mean.size > 0

    @property
    def embedding_dim(self) -> int:
        """The width of the sentence embeddings this head reads."""
        return int(self.layers[0][0].shape[0]) - int(self.lexicon_mean.size)

    def predict(self, embeddings: Array, lexicon: Array | None = None) -> Array:
        """Probabilities [n, len(labels)] for embeddings [n, dim] (and lexicon features)."""
        inputs = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if self.uses_lexicon:
            extra = np.zeros((inputs.shape[0], self.lexicon_mean.size), dtype=np.float32)
            if lexicon is not None:
                extra = (np.atleast_2d(lexicon) - self.lexicon_mean) / self.lexicon_std
            inputs = np.concatenate([inputs, extra.astype(np.float32)], axis=1)
        hidden = inputs
        for index, (weight, bias) in enumerate(self.layers):
            hidden = hidden @ weight + bias
            if index < len(self.layers) - 1:
                hidden = np.maximum(hidden, 0.0)
        hidden = np.nan_to_num(hidden - hidden.max(axis=1, keepdims=True), nan=0.0)
        exp = np.exp(hidden)
        probabilities: Array = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probabilities

    def predict_one(self, embedding: Array, lexicon: Array | None = None) -> dict[str, float]:
        row = self.predict(embedding, lexicon)[0]
        return {label: float(value) for label, value in zip(self.labels, row, strict=True)}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "labels": list(self.labels),
            "layers": [
                {"weight": encode_array(w), "bias": encode_array(b)} for w, b in self.layers
            ],
            "lexicon_mean": encode_array(self.lexicon_mean),
            "lexicon_std": encode_array(self.lexicon_std),
            "metadata": dict(self.metadata),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> EmotionHead:
        if raw.get("format") != FORMAT:
            raise ValueError(f"unsupported emotion head format {raw.get('format')!r}")
        labels = tuple(str(label) for label in raw["labels"])
        if set(labels) != set(EMOTIONS):
            raise ValueError(f"emotion head labels {labels} differ from {EMOTIONS}")
        layers = tuple(
            (decode_array(layer["weight"]), decode_array(layer["bias"])) for layer in raw["layers"]
        )
        return cls(
            labels=labels,
            layers=layers,
            lexicon_mean=decode_array(raw["lexicon_mean"]),
            lexicon_std=decode_array(raw["lexicon_std"]),
            metadata=dict(raw.get("metadata", {})),
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> EmotionHead:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
