"""Training the fine-tuned emotion layers (`EmotionTop`) on GoEmotions: the shared layers'
states are cached once, then only the copied top layers and the head are trained."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.embedding import SentenceEmbedder
from bot.emotion_layers import EmotionTop
from bot.emotion_training import f1_report, read_goemotions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopConfig:
    """How the emotion layers are fine-tuned (see personality/models/README.md)."""

    first_layer: int = 4
    """Layers below this stay frozen and shared with the sentence embedding."""
    epochs: int = 3
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    balance: float = 0.5
    """Class weights are (1 / class frequency) ** balance, as for the head."""
    batch_size: int = 32
    dropout: float = 0.1
    max_tokens: int = 64
    warmup_steps: int = 200
    evaluations_per_epoch: int = 2


@dataclass(frozen=True)
class LayerStates:
    """Hidden states entering a layer, one text's real tokens after another (float16)."""

    rows: npt.NDArray[np.float16]
    lengths: npt.NDArray[np.int64]

    @property
    def offsets(self) -> npt.NDArray[np.int64]:
        return np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    def batch(self, indices: Sequence[int]) -> tuple[Any, Any]:
        """Padded float32 states [n, tokens, dim] and the boolean mask [n, tokens] (torch)."""
        import torch

        offsets, width = self.offsets, self.rows.shape[1]
        tokens = int(max(self.lengths[i] for i in indices))
        states = np.zeros((len(indices), tokens, width), dtype=np.float32)
        mask = np.zeros((len(indices), tokens), dtype=bool)
        for row, index in enumerate(indices):
            length = int(self.lengths[index])
            states[row, :length] = self.rows[offsets[index] : offsets[index + 1]]
            mask[row, :length] = True
        return torch.from_numpy(states), torch.from_numpy(mask)


def cached_layer_states(
    texts: Sequence[str], embedder: SentenceEmbedder, cache: Path, layer: int, max_tokens: int
) -> LayerStates:
    """The states entering `layer` for `texts` (cut to `max_tokens`), computed once into
    `cache` (an .npz path; its name should carry a digest of the texts)."""
    if cache.exists():
        with np.load(cache) as stored:
            states = LayerStates(stored["rows"], stored["lengths"])
        if len(states.lengths) == len(texts):
            return states
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    pieces: list[list[npt.NDArray[np.float16]]] = [[] for _ in texts]
    for start in range(0, len(order), 128):
        chunk = order[start : start + 128]
        hidden, mask = embedder.layer_states([texts[i] for i in chunk], layer, max_tokens)
        for row, index in enumerate(chunk):
            pieces[index] = [hidden[row, mask[row]].numpy().astype(np.float16)]
    rows = np.concatenate([piece for text_pieces in pieces for piece in text_pieces])
    lengths = np.asarray([piece[0].shape[0] for piece in pieces], dtype=np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, rows=rows, lengths=lengths)
    log.info("cached layer-%d states of %d texts in %s", layer, len(texts), cache)
    return LayerStates(rows, lengths)


def _predict_top(top: EmotionTop, states: LayerStates) -> npt.NDArray[np.int64]:
    import torch

    predicted = np.zeros(len(states.lengths), dtype=np.int64)
    order = np.argsort(states.lengths, kind="stable")
    with torch.no_grad():
        for start in range(0, len(order), 256):
            chunk = order[start : start + 256].tolist()
            predicted[chunk] = top.logits(*states.batch(chunk)).argmax(dim=1).numpy()
    return predicted


def fit_top(
    top: EmotionTop,
    config: TopConfig,
    train: LayerStates,
    targets: npt.NDArray[np.float32],
    dev: LayerStates,
    dev_gold: npt.NDArray[np.int64],
    seed: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fine-tunes `top` in place with AdamW on length-bucketed batches; leaves it at the
    evaluation with the best dev macro-F1 and returns that report and every evaluation."""
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    for value in top.params.values():
        value.requires_grad_(True)
    frequency = targets.sum(axis=0) / targets.sum()
    inverse = np.divide(1.0, frequency, out=np.zeros_like(frequency), where=frequency > 0)
    class_weight = torch.from_numpy(inverse**config.balance).float()
    class_weight /= (class_weight * torch.from_numpy(frequency).float()).sum()
    body = [value for key, value in top.params.items() if key.startswith("layers.")]
    head = [top.params["head.weight"], top.params["head.bias"]]
    optimiser = torch.optim.AdamW(
        [
            {"params": body, "lr": config.learning_rate},
            {"params": head, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    by_length = np.argsort(train.lengths, kind="stable")
    batches = [
        by_length[start : start + config.batch_size].tolist()
        for start in range(0, len(by_length), config.batch_size)
    ]
    total = config.epochs * len(batches)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, step / config.warmup_steps) * (1.0 - step / total)
    )
    checkpoints = {
        len(batches) * (part + 1) // config.evaluations_per_epoch
        for part in range(config.evaluations_per_epoch)
    }
    soft = torch.from_numpy(targets)
    best: dict[str, Any] | None = None
    best_params: dict[str, torch.Tensor] = {}
    evaluations: list[dict[str, Any]] = []
    for epoch in range(config.epochs):
        for step, position in enumerate(torch.randperm(len(batches), generator=generator), 1):
            indices = batches[int(position)]
            logits = top.logits(*train.batch(indices), dropout=config.dropout, training=True)
            log_probs = torch.log_softmax(logits, dim=1)
            loss = -(soft[indices] * log_probs * class_weight).sum(dim=1).mean()
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
            optimiser.step()
            schedule.step()
            if step not in checkpoints:
                continue
            report = f1_report(_predict_top(top, dev), dev_gold)
            evaluations.append({"epoch": round(epoch + step / len(batches), 2), **report})
            log.info("emotion layers: %s", evaluations[-1])
            if best is None or report["macro_f1"] > best["macro_f1"]:
                best = evaluations[-1]
                best_params = {key: value.detach().clone() for key, value in top.params.items()}
    assert best is not None  # epochs >= 1
    for key, value in best_params.items():
        top.params[key] = value
    return best, evaluations


def train_emotion_top(
    data_dir: Path,
    out: Path,
    seed: int = 13,
    *,
    cache_dir: Path = Path("data") / "cache",
    config: TopConfig = TopConfig(),
    embedder: SentenceEmbedder | None = None,
) -> dict[str, Any]:
    """Fine-tunes a copy of the sentence model's top layers (+ pooling and a linear head) on
    `data_dir/train.tsv`, selects on `dev.tsv`, saves the weights to `out`.

    Targets as for the head (multi-label soft targets, a dev row's first label counts).
    """
    import torch

    model = embedder or SentenceEmbedder(emotion_top=None)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    try:
        train, dev = read_goemotions(data_dir / "train.tsv"), read_goemotions(data_dir / "dev.tsv")
        states = [
            cached_layer_states(
                rows.texts,
                model,
                cache_dir / f"goemotions-{name}-{_digest(rows.texts, config)}.npz",
                config.first_layer,
                config.max_tokens,
            )
            for name, rows in (("train", train), ("dev", dev))
        ]
        top = EmotionTop.from_model(model.model, config.first_layer)
        best, evaluations = fit_top(
            top, config, states[0], train.soft_targets(), states[1], dev.first, seed
        )
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)
    report: dict[str, Any] = {
        "dev_macro_f1": best["macro_f1"],
        "dev_accuracy": best["accuracy"],
        "per_class_f1": best["per_class_f1"],
        "chosen_epoch": best["epoch"],
        "config": asdict(config),
        "evaluations": [{key: row[key] for key in ("epoch", "macro_f1")} for row in evaluations],
        "labels": "train: multi-label soft targets; dev: a row's first label",
        "seed": seed,
        "train_rows": len(train.texts),
        "dev_rows": len(dev.texts),
    }
    top.metadata.update(
        {key: report[key] for key in ("dev_macro_f1", "dev_accuracy", "chosen_epoch", "seed")}
    )
    top.metadata["config"] = report["config"]
    top.save(out)
    return report


def _digest(texts: Sequence[str], config: TopConfig) -> str:
    key = f"{config.first_layer}:{config.max_tokens}\n" + "\n".join(texts)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
